import type { z } from 'zod';
import type { Role } from '../../auth/principals.ts';
import type { SyncContext } from '../../collect/context.ts';
import type { AppContext } from '../context.ts';

/**
 * Commands: every change the REST API makes goes through one, run on the process that owns
 * the writable store and the Graph clients (the main thread of `serve`; the server thread
 * relays to it, see server/api/command-bus.ts). A command is a name, a zod input schema and
 * a function of the app; its output is plain JSON (it crosses a thread boundary).
 */

/** Who asked (from the API's principal); recorded in trails as `username`. */
export interface CommandActor {
  userId: string;
  username: string;
  role: Role;
}

/** What a command may ask of the running service (no-ops outside `serve`). */
export interface ServiceHooks {
  /** Something the rules or alerts read changed (a suppression, a setting): evaluate and route soon. */
  changed(integrationId?: string): void;
  /** A new or re-enabled integration: run its start-up collection and watch it. */
  integrationAdded(integrationId: string): void;
  /** A disabled or deleted integration: stop collecting it (its subscriptions are gone already). */
  integrationRemoved(integrationId: string): void;
  /** Runs `fn` with the collector context (Graph client, store) of an integration. */
  withSyncContext<T>(integrationId: string, fn: (ctx: SyncContext) => Promise<T>): Promise<T>;
}

export interface CommandContext {
  app: AppContext;
  hooks: ServiceHooks;
  actor: CommandActor;
}

export interface CommandDef<I = unknown, O = unknown> {
  /** Who may run it; the API checks the route's access too. */
  role: Role;
  input: z.ZodType<I>;
  run(ctx: CommandContext, input: I): Promise<O>;
}

export function defineCommand<I, O>(def: CommandDef<I, O>): CommandDef<I, O> {
  return def;
}

/**
 * A refusal a caller can act on; the API answers with `status` and `{ error: { code, message } }`.
 * Anything else thrown by a command is an internal error (logged, message not returned).
 */
export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: 400 | 403 | 404 | 409 | 422 | 429 | 502 | 503 = 400,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

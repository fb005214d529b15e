import type { Logger } from '../util/logger.ts';

/**
 * The leader's watch over integrations changed through another replica's API: there the
 * command's hooks (integrationAdded / integrationRemoved) reach that replica only, so the
 * leader compares the stored integrations with those it runs, every `intervalMs`, and brings
 * up an enabled one it does not run yet, or lets go of one disabled or deleted.
 */
export interface AdoptOptions {
  list(): Promise<Array<{ id: string; enabled: boolean }>>;
  /** Whether the service runs (or is bringing up) this integration. */
  running(integrationId: string): boolean;
  /** The integrations the service runs. */
  runningIds(): string[];
  add(integrationId: string): void;
  remove(integrationId: string): void;
  intervalMs: number;
  logger: Logger;
}

export function startAdoptingIntegrations(o: AdoptOptions): { stop(): void } {
  let busy = false;
  const check = async () => {
    const stored = await o.list();
    const enabled = new Set(stored.filter((i) => i.enabled).map((i) => i.id));
    for (const id of enabled) if (!o.running(id)) o.add(id);
    for (const id of o.runningIds()) if (!enabled.has(id)) o.remove(id);
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    check()
      .catch((err) => o.logger.warn({ err: (err as Error).message }, 'could not check the integrations'))
      .finally(() => {
        busy = false;
      });
  }, o.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

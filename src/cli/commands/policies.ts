import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import {
  addStoragePolicy,
  describeLimit,
  listStoragePolicies,
  parsePercent,
  parseSize,
  parseThreshold,
  pct,
  removeStoragePolicy,
  type StoragePolicy,
  type StoragePolicyLimit,
} from '../../rules/storage-policies.ts';
import { integrationOf } from '../integration-of.ts';

interface AddOptions {
  integration?: string;
  user?: string;
  group?: string;
  maxBytes?: string;
  maxPercent?: string;
  warn?: string;
  violation?: string;
  description?: string;
  json?: boolean;
}

/** Exactly one of two options, or an error naming both. */
function oneOf<T>(a: T | undefined, b: T | undefined, names: string): T {
  if ((a === undefined) === (b === undefined)) throw new Error(`give exactly one of ${names}`);
  return (a ?? b) as T;
}

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function describePolicy(p: StoragePolicy): string {
  const scope = `${p.scopeKind} ${p.scopeName ?? p.scopeId}`;
  const thresholds = `warning at ${pct(p.warningThreshold)}, violation above ${pct(p.violationThreshold)}`;
  return `${String(p.id).padStart(4)}  ${scope.padEnd(40)} ${describeLimit(p).padEnd(16)} ${thresholds}${
    p.description ? `  — ${p.description}` : ''
  }`;
}

export function registerPolicies(program: Command): void {
  const policies = program
    .command('policies')
    .description('storage policies: limits on the used storage of a user or of a group’s members');
  policies
    .command('add')
    .description(
      'limit the drives of a user or of every member of a group (the most specific policy applies: ' +
        'a user’s own, else the smallest group’s); the rule drive_storage_policy_respected judges them',
    )
    .option('--integration <name>', 'the integration (default: the only one)')
    .option('--user <upn>', 'the user: UPN, e-mail or Graph id')
    .option('--group <name>', 'the group: display name, e-mail or Graph id')
    .option('--max-bytes <size>', 'limit in bytes or binary units: 50GB, 1.5TB, 500MB')
    .option('--max-percent <percent>', 'limit as a percent of each drive’s quota: 80 or 80%')
    .option('--warn <threshold>', 'warning at this share of the limit', '90%')
    .option('--violation <threshold>', 'violation above this share of the limit', '100%')
    .option('--description <text>', 'why the policy exists')
    .option('--json', 'print the policy as JSON')
    .action(async (opts: AddOptions) => {
      type Scope = { kind: 'user' | 'group'; ref: string };
      const userScope: Scope | undefined =
        opts.user !== undefined ? { kind: 'user', ref: opts.user } : undefined;
      const groupScope: Scope | undefined =
        opts.group !== undefined ? { kind: 'group', ref: opts.group } : undefined;
      const limit: StoragePolicyLimit = oneOf(
        opts.maxBytes !== undefined ? { bytes: parseSize(opts.maxBytes) } : undefined,
        opts.maxPercent !== undefined ? { percent: parsePercent(opts.maxPercent) } : undefined,
        '--max-bytes and --max-percent',
      );
      const input = {
        scope: oneOf(userScope, groupScope, '--user and --group'),
        limit,
        warning: parseThreshold(opts.warn ?? '90%'),
        violation: parseThreshold(opts.violation ?? '100%'),
        description: opts.description,
        createdBy: actor(),
      };
      await withApp(async (app) => {
        const integrationId = await integrationOf(app, opts.integration);
        const policy = await addStoragePolicy(app.store.db, { integrationId, ...input });
        if (opts.json) return console.log(JSON.stringify(policy));
        console.log(`added storage policy ${policy.id}`);
        console.log(describePolicy(policy));
      });
    });
  policies
    .command('list')
    .description('storage policies, oldest first')
    .option('--integration <name>', 'only this integration')
    .option('--json', 'print JSON')
    .action(async (opts: { integration?: string; json?: boolean }) => {
      await withApp(async (app) => {
        const integrationId = opts.integration ? await integrationOf(app, opts.integration) : undefined;
        const list = await listStoragePolicies(app.store.db, { integrationId });
        if (opts.json) return console.log(JSON.stringify(list));
        if (list.length === 0)
          return console.log('no storage policies: add one with `drivewarden policies add`');
        const names = new Map((await app.integrations.list()).map((i) => [i.id, i.name]));
        let current: string | undefined;
        for (const p of list) {
          if (p.integrationId !== current) {
            current = p.integrationId;
            console.log(`integration ${names.get(current) ?? current}`);
          }
          console.log(describePolicy(p));
        }
      });
    });
  policies
    .command('remove <id>')
    .description('remove a storage policy by id (see `policies list`)')
    .action(async (idText: string) => {
      const id = Number(idText);
      if (!Number.isInteger(id) || id <= 0)
        throw new Error(`policy id must be a positive whole number, got "${idText}"`);
      await withApp(async (app) => {
        const removed = await removeStoragePolicy(app.store.db, id);
        console.log(
          `removed storage policy ${removed.id} (${removed.scopeKind} ${removed.scopeName ?? removed.scopeId})`,
        );
      });
    });
}

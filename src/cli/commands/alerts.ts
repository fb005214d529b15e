import type { Command } from 'commander';
import type { Policy, PolicyInput } from '../../alerts/policy-repo.ts';
import { formatRateLimit, parseQuietHours, parseRateLimit } from '../../alerts/policy-schema.ts';
import { loadRuleInfo, savedQueryExists, withAlerts } from '../../app/alerts.ts';
import { withApp } from '../../app/context.ts';
import type { AlertDeliveryStatus } from '../../store/tables/alerts.ts';

interface PolicyOptions {
  kind?: string;
  channel: string[];
  event: string[];
  rule: string[];
  severity: string[];
  minSeverity?: string;
  tag: string[];
  pack: string[];
  integration: string[];
  resourceType: string[];
  changeType: string[];
  field: string[];
  where?: string;
  alertSeverity?: string;
  digestThreshold?: string;
  rateLimit?: string;
  quietHours?: string;
  timeZone?: string;
  below?: string;
  recovered: boolean;
  query?: string;
  keyColumn: string[];
  param: string[];
  every?: string;
}

const repeat = (v: string, acc: string[]) => [...acc, v];

function policyInput(name: string, o: PolicyOptions): PolicyInput {
  const list = (key: string, values: string[]) => (values.length ? { [key]: values } : {});
  const filters: Record<string, Record<string, unknown>> = {
    rule: {
      ...list('events', o.event),
      ...list('rules', o.rule),
      ...list('severities', o.severity),
      ...(o.minSeverity ? { minSeverity: o.minSeverity } : {}),
      ...list('tags', o.tag),
      ...list('packs', o.pack),
      ...list('integrations', o.integration),
    },
    change: {
      ...list('resourceTypes', o.resourceType),
      ...list('changeTypes', o.changeType),
      ...list('fields', o.field),
      ...(o.where ? { where: o.where } : {}),
      ...list('integrations', o.integration),
    },
    query: {
      ...(o.query ? { query: o.query } : {}),
      ...list('keyColumns', o.keyColumn),
      ...(o.param.length ? { params: parseParams(o.param) } : {}),
      ...(o.every !== undefined ? { everySeconds: Number(o.every) } : {}),
    },
    compliance: {
      ...list('packs', o.pack),
      ...(o.below !== undefined ? { belowPercent: Number(o.below) } : {}),
      recovered: o.recovered,
      ...list('integrations', o.integration),
    },
  };
  // --query <name> alone says the kind.
  if (o.query !== undefined && o.kind !== undefined && o.kind !== 'query')
    throw new Error(`--query is for --kind query, not --kind ${o.kind}`);
  o.kind ??= o.query !== undefined ? 'query' : undefined;
  if (o.kind === undefined) throw new Error('give --kind rule|change|compliance, or --query <saved query>');
  const filter = filters[o.kind];
  if (!filter) throw new Error(`--kind must be rule, change, compliance or query, not "${o.kind}"`);
  if (o.kind === 'query' && o.query === undefined)
    throw new Error('--query <saved query> is required for --kind query');
  if (o.kind === 'compliance' && o.below === undefined)
    throw new Error('--below <percent> is required for --kind compliance');
  const ruleOnly = ['event', 'rule', 'severity', 'minSeverity', 'tag'];
  const changeOnly = ['resourceType', 'changeType', 'field', 'where'];
  const queryOnly = ['keyColumn', 'param', 'every'];
  const misplaced = {
    rule: [...changeOnly, ...queryOnly, 'alertSeverity', 'below'],
    change: [...ruleOnly, ...queryOnly, 'pack', 'below'],
    compliance: [...ruleOnly, ...changeOnly, ...queryOnly],
    query: [...ruleOnly, ...changeOnly, 'pack', 'below', 'integration', 'rateLimit', 'quietHours'],
  }[o.kind as 'rule' | 'change' | 'compliance' | 'query'];
  const given = misplaced.filter((k) => {
    const v = o[k as keyof PolicyOptions];
    return Array.isArray(v) ? v.length > 0 : v !== undefined;
  });
  if (given.length)
    throw new Error(
      `${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} not for --kind ${o.kind}`,
    );
  return {
    name,
    kind: o.kind as PolicyInput['kind'],
    channels: o.channel,
    filter,
    ...(o.alertSeverity ? { severity: o.alertSeverity } : {}),
    ...(o.digestThreshold ? { digestThreshold: Number(o.digestThreshold) } : {}),
    rateLimit: o.rateLimit ? parseRateLimit(o.rateLimit) : null,
    quietHours: o.quietHours ? parseQuietHours(o.quietHours, o.timeZone) : null,
  };
}

/** `name=value` pairs of --param; numbers become numbers (as `query run --param` does). */
function parseParams(pairs: string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--param needs name=value, got "${pair}"`);
    const value = pair.slice(eq + 1);
    out[pair.slice(0, eq)] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

function describePolicy(p: Policy, channelNames: Map<string, string>): string {
  const f = p.filter as Record<string, unknown>;
  const filter = Object.entries(f)
    .filter(([, v]) => (Array.isArray(v) ? v.length > 0 : v !== undefined))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`)
    .join(' ');
  const extras = [
    `digest≥${p.digestThreshold}`,
    p.rateLimit ? `rate ${formatRateLimit(p.rateLimit)}` : null,
    p.quietHours ? `quiet ${p.quietHours.start}-${p.quietHours.end} ${p.quietHours.timeZone}` : null,
    p.kind !== 'rule' ? `severity ${p.severity}` : null,
  ].filter(Boolean);
  const channels = p.channelIds.map((id) => channelNames.get(id) ?? id).join(',');
  return `${p.name}\t${p.kind}\t→ ${channels}\t${filter || 'everything'}\t${extras.join(', ')}`;
}

export function registerAlerts(program: Command): void {
  const cmd = program.command('alerts').description('alert policies and the delivery log');
  const policies = cmd.command('policies').description('what to alert on, and where to');

  policies
    .command('add <name>')
    .description('add a policy; it alerts on events from now on')
    .option(
      '--kind <kind>',
      "rule (finding opened, resolved, reopened), change (resource added, modified, removed), compliance (a pack score crossed --below) or query (a saved query's result changed; --query)",
    )
    .option(
      '--query <name>',
      'query: the saved query whose result is watched (rows added or removed); implies --kind query',
    )
    .option(
      '--key-column <column>',
      'query: a column that identifies a row (repeatable; default the whole row)',
      repeat,
      [],
    )
    .option('--param <name=value>', "query: a value of the query's :name parameter (repeatable)", repeat, [])
    .option('--every <seconds>', 'query: run it at most this often (default 300; 0 = on every routing pass)')
    .option('--channel <name>', 'a channel to send to (repeatable, at least one)', repeat, [])
    .option(
      '--event <event>',
      'rule: opened, resolved or reopened (repeatable; default opened, reopened)',
      repeat,
      [],
    )
    .option('--rule <id>', 'rule: only this rule (repeatable)', repeat, [])
    .option('--severity <severity>', 'rule: only this severity (repeatable)', repeat, [])
    .option('--min-severity <severity>', 'rule: at least this severity')
    .option('--tag <tag>', 'rule: the rule carries this tag (repeatable)', repeat, [])
    .option('--pack <pack>', 'rule: the rule is in this pack; compliance: this pack (repeatable)', repeat, [])
    .option('--below <percent>', 'compliance: alert when the pack score falls below this percentage')
    .option('--no-recovered', 'compliance: no alert when the score is back at or above --below')
    .option('--integration <name>', 'only this integration (repeatable)', repeat, [])
    .option('--resource-type <type>', 'change: permission, drive_item, user, … (repeatable)', repeat, [])
    .option('--change-type <type>', 'change: added, modified or removed (repeatable)', repeat, [])
    .option('--field <column>', 'change: this column changed (repeatable)', repeat, [])
    .option(
      '--where <condition>',
      'change: on the new state, e.g. "is_external = true and recipient_domain not in (contoso.com)"',
    )
    .option('--alert-severity <severity>', 'change, compliance: severity of the alerts (default medium)')
    .option('--digest-threshold <n>', 'this many events at once become one digest (default 10)')
    .option(
      '--rate-limit <n/period>',
      'at most n messages per period (10/h, 100/d, 5/10m); the rest in a digest',
    )
    .option('--quiet-hours <HH:MM-HH:MM>', 'hold alerts in these hours and send one digest after')
    .option('--time-zone <zone>', 'time zone of the quiet hours (default UTC)')
    .action(async (name: string, opts: PolicyOptions) => {
      const input = policyInput(name, opts);
      await withApp(async (app) => {
        const known = await loadRuleInfo(app);
        await withAlerts(app, async (alerts) => {
          const policy = await alerts.policies.add(input, {
            ...(known.rules.size ? { ruleExists: (id: string) => known.rules.has(id) } : {}),
            packExists: (id: string) => known.packs.has(id),
            queryExists: (q: string) => savedQueryExists(app, q),
          });
          const names = new Map((await alerts.channels.list()).map((c) => [c.id, c.name]));
          console.log(`added policy ${describePolicy(policy, names)}`);
        });
      });
    });

  policies
    .command('list')
    .description('list alert policies')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withApp((app) =>
        withAlerts(app, async (alerts) => {
          const list = await alerts.policies.list();
          if (opts.json) return console.log(JSON.stringify(list, null, 2));
          if (list.length === 0)
            return console.log('no alert policies: add one with `drivewarden alerts policies add`');
          const names = new Map((await alerts.channels.list()).map((c) => [c.id, c.name]));
          for (const p of list) console.log(describePolicy(p, names));
        }),
      );
    });

  policies
    .command('remove <name>')
    .description('remove a policy (its delivery log stays)')
    .action(async (name: string) => {
      await withApp((app) =>
        withAlerts(app, async (alerts) => {
          const removed = await alerts.policies.remove(name);
          console.log(`removed policy "${removed.name}"`);
        }),
      );
    });

  cmd
    .command('log')
    .description('the delivery log: per alert and channel, status, attempts, last error, latency')
    .option('--policy <name>', 'only this policy')
    .option('--channel <name>', 'only this channel')
    .option('--status <status>', 'pending, delivered or dead')
    .option('--limit <n>', 'newest n entries', '50')
    .option('--json', 'print JSON')
    .action(
      async (opts: { policy?: string; channel?: string; status?: string; limit: string; json?: boolean }) => {
        if (opts.status && !['pending', 'delivered', 'dead'].includes(opts.status))
          throw new Error('--status must be pending, delivered or dead');
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive whole number');
        await withApp((app) =>
          withAlerts(app, async (alerts) => {
            const entries = await alerts.outbox.log({
              ...(opts.policy ? { policyId: (await alerts.policies.require(opts.policy)).id } : {}),
              ...(opts.channel ? { channelId: (await alerts.channels.require(opts.channel)).id } : {}),
              ...(opts.status ? { status: opts.status as AlertDeliveryStatus } : {}),
              limit,
            });
            if (opts.json) return console.log(JSON.stringify(entries, null, 2));
            if (entries.length === 0) return console.log('no deliveries yet');
            for (const e of entries) {
              const when = e.deliveredAt ?? e.nextAttemptAt ?? e.createdAt;
              const latency = e.latencyMs === null ? '' : `${e.latencyMs} ms`;
              const error = e.lastError ? `\tlast error: ${e.lastError}` : '';
              console.log(
                `${when}\t${e.status}\t${e.attempts} attempt(s)\t${latency}\t${e.policy} → ${e.channel}\t${e.title}${error}`,
              );
            }
          }),
        );
      },
    );

  cmd
    .command('run')
    .description('route new events and deliver what is due, once (the service does this continuously)')
    .action(async () => {
      await withApp((app) =>
        withAlerts(app, async (alerts) => {
          await alerts.refreshCatalog();
          const routed = await alerts.router.route();
          await alerts.worker.drain();
          const pending = await alerts.outbox.count('pending');
          console.log(
            `routed ${routed.events} events into ${routed.alerts} alerts (${routed.deliveries} deliveries, ${routed.held} events held); ${pending} deliveries waiting for a retry`,
          );
        }),
      );
    });
}

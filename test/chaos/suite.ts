/**
 * The chaos suite as one function: kill runs, Graph faults, hostile payloads and the secrets
 * scan, summed into the counts of issue 15. run.ts prints them; chaos.test.ts runs a small
 * version inside `npm test` and asserts the zeros.
 */

import { apiSecretsScan } from './api-secrets.ts';
import { remediationKillRuns, ruleKillRuns } from './engine-kill-runs.ts';
import { graphFaultRuns } from './graph-faults.ts';
import { hostilePayloadRuns } from './hostile-payloads.ts';
import { deliveryKillRuns, syncKillRuns } from './kill-runs.ts';
import { demoSecretsScan } from './secrets-scan.ts';
import { type StoreFaultReport, storeFaultRuns } from './store-faults.ts';
import { webhookFloodRun } from './webhook-floods.ts';

export interface ChaosOptions {
  /** Kill runs in total, shared out by killPlan (at least one of each kind). */
  killRuns: number;
  /**
   * Kill runs of PostgreSQL collection, rule evaluation and remediation (default true; the fast
   * part runs one of each in engine-kill.test.ts, its own file, so the two run side by side).
   */
  engineKills?: boolean;
  hostileRounds: number;
  secrets: boolean;
  /** Disk full, read-only file, PostgreSQL restart (store-faults.test.ts runs them in `npm test`). */
  storeFaults: boolean;
  /** The webhook flood scenario (webhook-floods.test.ts runs it in `npm test`). */
  webhookFloods?: boolean;
}

export interface ChaosSummary {
  runs: number;
  faults: number;
  bad_inputs: number;
  lost: number;
  crashes: number;
  accepted_forgeries: number;
  rows: Array<[string, string]>;
  problems: string[];
}

/**
 * Kill runs per kind: PostgreSQL collector, alert delivery, rule evaluation and remediation
 * about a sixth each (at least one), the SQLite collector the rest (50 → 20/8/8/7/7).
 */
export function killPlan(total: number, engineKills = true) {
  const share = (w: number) => Math.max(1, Math.round(total * w));
  const engine = (w: number) => (engineKills ? share(w) : 0);
  const plan = {
    pgSync: engine(0.16),
    delivery: share(0.16),
    rules: engine(0.14),
    remediation: engine(0.14),
  };
  return { sync: Math.max(1, total - plan.pgSync - plan.delivery - plan.rules - plan.remediation), ...plan };
}

export async function runChaos(o: ChaosOptions): Promise<ChaosSummary> {
  let unhandled = 0;
  const onUnhandled = () => {
    unhandled++;
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const plan = killPlan(o.killRuns, o.engineKills ?? true);
    const none = { runs: 0, killedMidway: 0, lost: 0, crashes: 0, problems: [] };
    const sqliteSync = await syncKillRuns(plan.sync);
    const pgSync = plan.pgSync > 0 ? await syncKillRuns(plan.pgSync, 25, 'postgres') : none;
    const delivery = await deliveryKillRuns(plan.delivery);
    const rules = plan.rules > 0 ? await ruleKillRuns(plan.rules) : none;
    const remediation = plan.remediation > 0 ? await remediationKillRuns(plan.remediation) : none;
    const kills = [sqliteSync, pgSync, delivery, rules, remediation];
    const sum = (f: (r: (typeof kills)[number]) => number) => kills.reduce((a, r) => a + f(r), 0);
    const faults = await graphFaultRuns();
    const hostile = await hostilePayloadRuns(o.hostileRounds);
    const secrets = o.secrets ? await demoSecretsScan() : undefined;
    const api = o.secrets ? await apiSecretsScan() : undefined;
    const floods = o.webhookFloods ? await webhookFloodRun() : undefined;
    const noStore: StoreFaultReport = { runs: 0, faults: 0, lost: 0, crashes: 0, errors: [], problems: [] };
    const store = o.storeFaults ? await storeFaultRuns() : noStore;
    const leaks = (secrets?.leaks.length ?? 0) + (api?.leaks.length ?? 0);
    const secretsCrash = secrets && secrets.exitCode !== 0 ? 1 : 0;
    const rows: Array<[string, string]> = [
      ['collector kill -9 runs, SQLite (killed mid-sync)', `${sqliteSync.runs} (${sqliteSync.killedMidway})`],
      ['collector kill -9 runs, PostgreSQL (killed mid-sync)', `${pgSync.runs} (${pgSync.killedMidway})`],
      ['alert delivery kill -9 runs', String(delivery.runs)],
      ['rule evaluation kill -9 runs (killed mid-run)', `${rules.runs} (${rules.killedMidway})`],
      ['remediation kill -9 runs (killed mid-run)', `${remediation.runs} (${remediation.killedMidway})`],
      ['Graph fault scenarios / faults served', `${faults.scenarios} / ${faults.faults}`],
      [
        'store faults (disk full, read-only, PostgreSQL restart)',
        o.storeFaults ? String(store.runs) : 'skipped',
      ],
      ['hostile payload entries (rounds)', `${hostile.badInputs} (${o.hostileRounds})`],
      ['  item-level errors reported', String(hostile.invalidItemsReported)],
      ['  prototype polluted', hostile.polluted ? 'yes' : 'no'],
      [
        'secrets scan: files / bytes / leaks',
        secrets ? `${secrets.filesScanned} / ${secrets.bytesScanned} / ${leaks}` : 'skipped',
      ],
      [
        'API secrets scan: GET routes / requests / secrets / leaks',
        api ? `${api.routes} / ${api.requests} / ${api.needles} / ${api.leaks.length}` : 'skipped',
      ],
      [
        'webhook floods: hostile requests / entries / genuine acks > 3 s',
        floods
          ? `${floods.hostileRequests} / ${floods.hostileEntries} / ${floods.slowGenuineAcks}`
          : 'skipped',
      ],
      ['unhandled rejections', String(unhandled)],
    ];
    return {
      runs:
        sum((r) => r.runs) +
        faults.scenarios +
        store.runs +
        o.hostileRounds +
        (secrets ? 1 : 0) +
        (api ? 1 : 0),
      faults: faults.faults + store.faults + sum((r) => r.killedMidway),
      bad_inputs: hostile.badInputs + (floods?.hostileRequests ?? 0),
      lost:
        sum((r) => r.lost) + (floods?.genuineRefused ?? 0) + faults.lost + store.lost + hostile.lost + leaks,
      crashes:
        sum((r) => r.crashes) + faults.crashes + store.crashes + hostile.crashes + unhandled + secretsCrash,
      // Forged input accepted: polluted prototypes and secrets readable in clear.
      accepted_forgeries: (hostile.polluted ? 1 : 0) + leaks + (floods?.acceptedForgeries ?? 0),
      rows,
      problems: [
        ...kills.flatMap((r) => r.problems),
        ...faults.problems,
        ...store.problems,
        ...hostile.problems,
        ...(secrets?.leaks ?? []),
        ...(api?.leaks ?? []),
        ...(floods?.problems ?? []),
      ],
    };
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}

export function formatSummary(s: ChaosSummary): string {
  const all: Array<[string, string]> = [
    ...s.rows,
    ['scenarios run', String(s.runs)],
    ['faults injected (incl. kills)', String(s.faults)],
    ['bad inputs tried', String(s.bad_inputs)],
    ['data lost', String(s.lost)],
    ['crashes', String(s.crashes)],
    ['forged or unauthorised requests accepted', String(s.accepted_forgeries)],
  ];
  const w = Math.max(...all.map(([k]) => k.length));
  return all.map(([k, v]) => `| ${k.padEnd(w)} | ${v.padStart(12)} |`).join('\n');
}

/**
 * The chaos suite as one function: kill runs, Graph faults, hostile payloads and the secrets
 * scan, summed into the counts of issue 15. run.ts prints them; chaos.test.ts runs a small
 * version inside `npm test` and asserts the zeros.
 */
import { graphFaultRuns } from './graph-faults.ts';
import { hostilePayloadRuns } from './hostile-payloads.ts';
import { deliveryKillRuns, syncKillRuns } from './kill-runs.ts';
import { demoSecretsScan } from './secrets-scan.ts';
import { type StoreFaultReport, storeFaultRuns } from './store-faults.ts';

export interface ChaosOptions {
  /** Kill runs in total (about two thirds collector, one third alert delivery). */
  killRuns: number;
  hostileRounds: number;
  secrets: boolean;
  /** Disk full, read-only file, PostgreSQL restart (store-faults.test.ts runs them in `npm test`). */
  storeFaults: boolean;
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

export async function runChaos(o: ChaosOptions): Promise<ChaosSummary> {
  let unhandled = 0;
  const onUnhandled = () => {
    unhandled++;
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const syncRuns = Math.max(1, Math.round((o.killRuns * 2) / 3));
    const sync = await syncKillRuns(syncRuns);
    const delivery = await deliveryKillRuns(Math.max(1, o.killRuns - syncRuns));
    const faults = await graphFaultRuns();
    const hostile = await hostilePayloadRuns(o.hostileRounds);
    const secrets = o.secrets ? await demoSecretsScan() : undefined;
    const none: StoreFaultReport = { runs: 0, faults: 0, lost: 0, crashes: 0, errors: [], problems: [] };
    const store = o.storeFaults ? await storeFaultRuns() : none;
    const leaks = secrets?.leaks.length ?? 0;
    const secretsCrash = secrets && secrets.exitCode !== 0 ? 1 : 0;
    const rows: Array<[string, string]> = [
      ['collector kill -9 runs (killed mid-sync)', `${sync.runs} (${sync.killedMidway})`],
      ['alert delivery kill -9 runs', String(delivery.runs)],
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
      ['unhandled rejections', String(unhandled)],
    ];
    return {
      runs: sync.runs + delivery.runs + faults.scenarios + store.runs + o.hostileRounds + (secrets ? 1 : 0),
      faults: faults.faults + store.faults + sync.killedMidway + delivery.killedMidway,
      bad_inputs: hostile.badInputs,
      lost: sync.lost + delivery.lost + faults.lost + store.lost + hostile.lost + leaks,
      crashes:
        sync.crashes +
        delivery.crashes +
        faults.crashes +
        store.crashes +
        hostile.crashes +
        unhandled +
        secretsCrash,
      // Forged input accepted: polluted prototypes and secrets readable in clear.
      accepted_forgeries: (hostile.polluted ? 1 : 0) + leaks,
      rows,
      problems: [
        ...sync.problems,
        ...delivery.problems,
        ...faults.problems,
        ...store.problems,
        ...hostile.problems,
        ...(secrets?.leaks ?? []),
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

/**
 * `npm run test:chaos`: the whole chaos suite (CHAOS_RUNS kill runs, default 50), a table,
 * then one JSON line with the counts. Exits 1 when anything was lost, crashed or accepted.
 */
import { formatSummary, runChaos } from './suite.ts';

process.env.DW_LOG_LEVEL ??= 'silent';
const killRuns = Number(process.env.CHAOS_RUNS ?? 50);
const started = Date.now();
const s = await runChaos({
  killRuns,
  hostileRounds: Number(process.env.CHAOS_HOSTILE_ROUNDS ?? 10),
  secrets: true,
  storeFaults: true,
  webhookFloods: true,
});
for (const p of s.problems) process.stderr.write(`problem: ${p}\n`);
process.stdout.write(`${formatSummary(s)}\n(${Math.round((Date.now() - started) / 1000)} s)\n`);
const { runs, faults, bad_inputs, lost, crashes, accepted_forgeries } = s;
process.stdout.write(`${JSON.stringify({ runs, faults, bad_inputs, lost, crashes, accepted_forgeries })}\n`);
process.exit(lost + crashes + accepted_forgeries === 0 ? 0 : 1);

import { loadAverage, machineInfo, parseArgs, type Scenario } from './harness.ts';
import { scenarios } from './scenarios/index.ts';

const args = parseArgs(process.argv.slice(2));
const byName = new Map<string, Scenario>(scenarios.map((s) => [s.name, s]));

if (!args.scenario || !byName.has(args.scenario)) {
  const list = scenarios.map((s) => `  ${s.name.padEnd(16)} ${s.description}`).join('\n');
  console.error(
    `${args.scenario ? `unknown scenario "${args.scenario}"\n` : ''}usage: npm run bench -- --scenario NAME [--json] [--quick]\n${list}`,
  );
  process.exit(2);
}

const scenario = byName.get(args.scenario)!;
const loadStart = loadAverage();
const figures = await scenario.run({
  quick: args.quick,
  flags: args.flags,
  log: (message) => process.stderr.write(`[${scenario.name}] ${message}\n`),
});
const record = {
  scenario: scenario.name,
  quick: args.quick,
  ...figures,
  ...machineInfo(),
  load_avg_start: loadStart,
  load_avg_end: loadAverage(),
};
if (args.json) console.log(JSON.stringify(record));
else for (const [key, value] of Object.entries(record)) console.log(`${key.padEnd(28)} ${value}`);
process.exit(0);

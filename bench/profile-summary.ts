/**
 * Top functions of a V8 CPU profile by self time:
 * `node --import tsx bench/profile-summary.ts FILE.cpuprofile [N]` (N defaults to 25).
 * Also sums self time per area (product src/, simulator sim/, node_modules package, node internals).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) {
  console.error('usage: profile-summary.ts FILE.cpuprofile [N]');
  process.exit(2);
}
const top = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++)
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (url: string): string => {
  if (!url) return '(native/vm)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  const src = /\/(src|sim|bench)\/([^/]+)/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  return url;
};
const fns = new Map<string, number>();
const areas = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id);
  if (!n) continue;
  const f = n.callFrame;
  const short = f.url.replace(/^.*\/(src|sim|bench|node_modules)\//, '$1/');
  const key = `${f.functionName || '(anonymous)'} ${short ? `${short}:${f.lineNumber + 1}` : ''}`.trim();
  fns.set(key, (fns.get(key) ?? 0) + us);
  const a = where(f.url);
  areas.set(a, (areas.get(a) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nby area (self time):');
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${a}`);
console.log(`\ntop ${top} functions (self time):`);
for (const [k, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);

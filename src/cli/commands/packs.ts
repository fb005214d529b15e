import type { Command } from 'commander';
import type { AppContext } from '../../app/context.ts';
import { withApp } from '../../app/context.ts';
import { type PackScore, packScoreHistory, recordPackScores } from '../../rules/pack-score.ts';
import { loadBuiltinPacks, type Pack } from '../../rules/packs.ts';
import { integrationOf } from '../integration-of.ts';

const percent = (score: number | null) => (score === null ? '—' : `${Math.round(score * 100)}%`);

function describeScore(pack: Pack, s: PackScore): string[] {
  const lines = [
    `  ${pack.id}: ${s.passing}/${s.evaluated} evaluated controls pass (${percent(s.score)}); ` +
      `${s.total - s.evaluated} of ${s.total} not evaluated`,
  ];
  for (const c of s.controls) {
    const why =
      c.status === 'fail'
        ? c.failing.map((f) => `${f.ruleId}: ${f.open} open`).join(', ')
        : c.status === 'not_evaluated'
          ? c.rules.length === 0
            ? 'no drivewarden rule'
            : `not run: ${c.notRun.join(', ')}`
          : '';
    lines.push(`    ${c.status.padEnd(13)} ${c.id.padEnd(20)} ${c.title}${why ? `  [${why}]` : ''}`);
  }
  return lines;
}

/** The integrations a score is about: the named one, else every one. */
async function integrationsOf(app: AppContext, name: string | undefined) {
  const all = await app.integrations.list();
  if (!name) return all;
  const id = await integrationOf(app, name);
  return all.filter((i) => i.id === id);
}

export function registerPacks(program: Command): void {
  const packs = program
    .command('packs')
    .description(
      'compliance packs: CISA SCuBA and CIS controls mapped to drivewarden rules, and their scores',
    );
  packs
    .command('list')
    .description('the built-in packs and how many of their controls drivewarden rules decide')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const list = loadBuiltinPacks();
      if (opts.json) return console.log(JSON.stringify(list.map(({ file: _file, ...pack }) => pack)));
      for (const p of list) {
        const covered = p.controls.filter((c) => c.rules.length > 0).length;
        console.log(`${p.id.padEnd(18)} ${p.title} (version ${p.version})`);
        console.log(
          `${''.padEnd(18)} ${covered} of ${p.controls.length} controls covered by rules; ${p.source}`,
        );
      }
    });
  packs
    .command('score')
    .description(
      'score each pack per integration: a control passes when its rules ran and have no open ' +
        'alarm or error; score = passing / evaluated. Records the score when it changed.',
    )
    .option('--integration <name>', 'only this integration (default: every one)')
    .option('--pack <id>', 'only this pack')
    .option('--history', 'print the recorded scores instead, newest first')
    .option('--limit <n>', 'with --history: rows at most', '50')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        integration?: string;
        pack?: string;
        history?: boolean;
        limit: string;
        json?: boolean;
      }) => {
        const all = loadBuiltinPacks();
        const chosen = opts.pack ? all.filter((p) => p.id === opts.pack) : all;
        if (chosen.length === 0) throw new Error(`no pack "${opts.pack}" (see \`drivewarden packs list\`)`);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit <= 0)
          throw new Error('--limit must be a positive whole number');
        await withApp(async (app) => {
          const integrations = await integrationsOf(app, opts.integration);
          if (opts.history) {
            const rows = [];
            for (const i of integrations)
              rows.push(
                ...(await packScoreHistory(app.store.db, { integrationId: i.id, packId: opts.pack, limit })),
              );
            if (opts.json) return console.log(JSON.stringify(rows));
            const names = new Map(integrations.map((i) => [i.id, i.name]));
            for (const r of rows)
              console.log(
                `${r.at}  ${(names.get(r.integrationId) ?? r.integrationId).padEnd(24)} ${r.packId.padEnd(18)} ` +
                  `${r.passing}/${r.evaluated} (${percent(r.score)}) of ${r.total} controls`,
              );
            if (rows.length === 0) console.log('no recorded scores yet: run `drivewarden packs score`');
            return;
          }
          const out: Array<{ integration: string; scores: PackScore[] }> = [];
          for (const i of integrations)
            out.push({ integration: i.name, scores: await recordPackScores(app.store, i.id, chosen) });
          if (opts.json) return console.log(JSON.stringify(out));
          if (out.length === 0) console.log('no integration: add one with `drivewarden integrations add`');
          for (const { integration, scores } of out) {
            console.log(`integration ${integration}`);
            for (const s of scores) {
              const pack = chosen.find((p) => p.id === s.packId) as Pack;
              for (const line of describeScore(pack, s)) console.log(line);
            }
          }
        });
      },
    );
}

import type { Command } from 'commander';
import { migrateToPostgres } from '../../app/migrate-to-postgres.ts';
import { loadConfig } from '../../config/config.ts';

interface MigrateCommandOptions {
  from: string;
  to?: string;
  batchRows?: string;
  sampleRows?: string;
  json?: boolean;
}

/** The target without its password, for output. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the target';
  }
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      'copy an embedded (SQLite) installation into PostgreSQL at the same migration version, and verify the copy',
    )
    .requiredOption('--from <dir-or-file>', 'the SQLite data directory (DW_DATA_DIR) or its drivewarden.db')
    .option(
      '--to <postgres-url>',
      'the PostgreSQL database to fill (default DW_DATABASE_URL); it must hold no data yet',
    )
    .option('--batch-rows <n>', 'rows per INSERT', '1000')
    .option('--sample-rows <n>', 'rows per table compared value by value after the copy', '100')
    .option('--json', 'print the report as JSON')
    .action(async (opts: MigrateCommandOptions) => {
      const config = loadConfig(process.env);
      const to = opts.to ?? config.databaseUrl;
      if (!to || !/^postgres(ql)?:\/\//.test(to))
        throw new Error('--to must be a postgres:// URL (or set DW_DATABASE_URL)');
      const positive = (name: string, value: string | undefined) => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1)
          throw new Error(`${name} must be a positive integer, not ${value}`);
        return n;
      };
      const report = await migrateToPostgres({
        from: opts.from,
        to,
        secretKey: config.secretKey,
        copy: {
          batchRows: positive('--batch-rows', opts.batchRows),
          sampleRows: positive('--sample-rows', opts.sampleRows),
          onProgress: opts.json
            ? undefined
            : (table, done, total) => process.stderr.write(`\r${table}: ${done}/${total} rows    `),
        },
      });
      if (opts.json) return console.log(JSON.stringify(report, null, 2));
      process.stderr.write('\r\x1b[K');
      const width = Math.max(...report.tables.map((t) => t.table.length), 5);
      console.log(
        `${'table'.padEnd(width)}  ${'sqlite'.padStart(9)}  ${'postgres'.padStart(9)}  sample  digest`,
      );
      for (const t of report.tables)
        console.log(
          `${t.table.padEnd(width)}  ${String(t.sourceRows).padStart(9)}  ${String(t.targetRows).padStart(9)}  ` +
            `${String(t.sampled).padStart(6)}  ${t.sampleDigest}`,
        );
      console.log(
        `\ncopied ${report.rows} rows in ${report.tables.length} tables from ${report.sourceFile} to ${shown(to)} ` +
          `at migration ${report.migration}; every count equal, every sampled row equal.`,
      );
      if (report.sealedSecrets > 0)
        console.log(
          `${report.sealedSecrets} secret(s) were copied still sealed; the key from ${report.keyFrom} opens them. ` +
            'Every host that runs drivewarden on PostgreSQL needs that key: set DW_SECRET_KEY to the contents ' +
            "of secret.key (or copy secret.key, mode 0600, into each host's DW_DATA_DIR).",
        );
      if (report.reviewKeyFile)
        console.log(
          `Set DW_REVIEW_LINKS_KEY on each serve host to the contents of ${report.reviewKeyFile} (or copy the ` +
            "file, mode 0600, into each serve host's DW_DATA_DIR), so that review links already sent keep working.",
        );
      if (report.inboxPending > 0)
        console.log(
          `${report.inboxPending} webhook notification(s) were still unprocessed in the SQLite inbox file; they are ` +
            'not copied: the first delta round on PostgreSQL collects the changes they announced.',
        );
    });
}

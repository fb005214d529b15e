// Writes the generated reference docs from the code: docs/tables.md, docs/rules.md,
// docs/queries.md and the README's permission and configuration tables.
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from '../src/config/env-docs.ts';
import { withPermissionsTable } from '../src/docs/permissions-reference.ts';
import { renderQueriesReference } from '../src/docs/queries-reference.ts';
import { renderRulesReference } from '../src/docs/rules-reference.ts';
import { renderTablesReference } from '../src/docs/tables-reference.ts';

writeFileSync(new URL('../docs/tables.md', import.meta.url), renderTablesReference());
console.log('wrote docs/tables.md');
writeFileSync(new URL('../docs/rules.md', import.meta.url), renderRulesReference());
console.log('wrote docs/rules.md');
writeFileSync(new URL('../docs/queries.md', import.meta.url), renderQueriesReference());
console.log('wrote docs/queries.md');
const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withConfigTable(withPermissionsTable(readFileSync(readme, 'utf8'))));
console.log('wrote the permission and configuration tables of README.md');

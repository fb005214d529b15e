// Writes the generated reference docs (docs/tables.md) from the code.
import { writeFileSync } from 'node:fs';
import { renderTablesReference } from '../src/docs/tables-reference.ts';

writeFileSync(new URL('../docs/tables.md', import.meta.url), renderTablesReference());
console.log('wrote docs/tables.md');

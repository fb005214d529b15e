import type { Kysely } from 'kysely';
import { loadFileRules, loadSavedRules } from '../../../../rules/catalog.ts';
import type { Database } from '../../../../store/schema.ts';

/**
 * Rule id → title, for findings shown beside inventory resources. File rules are read once per
 * process (they change with a restart); saved rules on every call (one small table). A catalog
 * that fails to load leaves titles out rather than failing the page.
 */
let fileTitles: Map<string, string> | undefined;

export async function ruleTitles(
  db: Kysely<Database>,
  folders: readonly string[],
): Promise<Map<string, string>> {
  if (!fileTitles) {
    fileTitles = new Map();
    try {
      for (const r of loadFileRules({ folders })) fileTitles.set(r.id, r.title);
    } catch {
      // a broken rule folder is reported by the rules pages; titles fall back to the finding's message
    }
  }
  const out = new Map(fileTitles);
  try {
    for (const r of await loadSavedRules(db)) out.set(r.id, r.title);
  } catch {
    // as above
  }
  return out;
}

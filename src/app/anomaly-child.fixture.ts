/**
 * Detection rounds in their own process (the kill -9 test starts it, kills it at random moments
 * and starts it again): batch after batch of audit events arrives, each followed by a detection
 * round. Usage: node --import tsx anomaly-child.fixture.ts '{"file": "...", "integrationId": "..."}'
 */
import { arrivals } from '../../test/support/audit-events.ts';
import { resolveDetectorSettings } from '../anomalies/settings.ts';
import { insertAuditEvents } from '../store/audit.ts';
import { openStore } from '../store/store.ts';
import { recordDetections } from './anomaly-findings.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { file: string; integrationId: string };
const store = await openStore({ file: args.file });
const settings = resolveDetectorSettings();
for (const batch of arrivals()) {
  const at = new Date(batch.at).toISOString();
  await insertAuditEvents(store.db, store.dialect, args.integrationId, batch.rows, at);
  await recordDetections(store, args.integrationId, { now: batch.at, settings, hours: 4 * 24 });
  process.stdout.write('r\n');
}
await store.close();
process.stdout.write('done\n');

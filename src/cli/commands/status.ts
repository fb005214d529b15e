import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import { getRealtimeStatus } from '../../collect/realtime/status.ts';
import { auditSummary } from '../../store/audit.ts';
import { readServiceState, type ServiceStateReport } from '../../store/service-state.ts';
import { listSyncErrors, listSyncStates } from '../../store/sync-state.ts';

function ago(iso: string | null): string {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function describeService(s: ServiceStateReport): string {
  if (!s.running) {
    const why =
      s.notRunning === 'stopped'
        ? `stopped ${ago(s.stoppedAt ?? null)}`
        : s.notRunning === 'heartbeat stale'
          ? `last heartbeat ${ago(s.heartbeatAt ?? null)}, pid ${s.pid} on ${s.hostname}`
          : 'never started on this store';
    return `service: not running (${why}); nothing receives webhooks or polls until drivewarden serve runs`;
  }
  const receiver = s.receiverUrl
    ? `receiver ${s.receiverUrl} ${s.receiverUp ? 'up' : 'DOWN'}`
    : 'no receiver';
  const webhooks = s.webhooks.enabled ? `webhooks via ${s.publicUrl}` : `${s.webhooks.message}`;
  return `service: running since ${s.startedAt} (pid ${s.pid} on ${s.hostname}, heartbeat ${ago(s.heartbeatAt ?? null)}); ${receiver}; ${webhooks}`;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'collection status per integration and drive: last full sync, last delta, lag, pending notifications, errors',
    )
    .option('--integration <name>', 'only this integration')
    .option('--json', 'print JSON')
    .action(async (opts: { integration?: string; json?: boolean }) => {
      await withApp(async (app) => {
        const list = (await app.integrations.list()).filter(
          (i) => !opts.integration || i.name === opts.integration || i.id === opts.integration,
        );
        if (opts.integration && list.length === 0) throw new Error(`no integration "${opts.integration}"`);
        // The webhook state of the running service (its row in the store), not this process's environment.
        const service = await readServiceState(app.store.db);
        const report = [];
        for (const i of list) {
          const states = await listSyncStates(app.store.db, i.id);
          const errors = await listSyncErrors(app.store.db, i.id, { open: true });
          const realtime = await getRealtimeStatus(app.store.db, {
            integrationId: i.id,
            webhooks: service.webhooks,
          });
          const audit = await auditSummary(app.store.db, i.id);
          report.push({ integration: i, states, errors, realtime, service, audit });
        }
        if (opts.json) return console.log(JSON.stringify(report, null, 2));
        console.log(describeService(service));
        if (report.length === 0) return console.log('no integrations');
        for (const { integration, states, errors, realtime, audit } of report) {
          const drives = states.filter((s) => s.scope.startsWith('drive:'));
          const current = drives.filter((s) => s.deltaLink).length;
          console.log(
            `${integration.name} (${integration.enabled ? 'enabled' : 'disabled'}), tenant ${integration.tenantId}`,
          );
          // drive:<id> feeds and permissions:<id> reads are summed up below, not listed.
          const perDrive = (x: { scope: string }) =>
            x.scope.startsWith('drive:') || x.scope.startsWith('permissions:');
          for (const s of states.filter((x) => !perDrive(x))) {
            console.log(
              `  ${s.scope.padEnd(10)} last full ${ago(s.lastFullSyncAt)}, last delta ${ago(s.lastDeltaAt)}`,
            );
          }
          console.log(`  drives     ${current}/${drives.length} with a delta checkpoint`);
          const reading = states.filter((x) => x.scope.startsWith('permissions:') && x.phase === 'delta');
          if (reading.length > 0) console.log(`  permissions to read on ${reading.length} drive(s)`);
          const lagging = realtime.targets.filter((t) => t.pendingNotifications > 0 || t.lastError);
          for (const t of lagging) {
            console.log(
              `  ${t.resource}: ${t.pendingNotifications} pending, lag ${Math.round(t.lagMs / 1000)}s${t.lastError ? `, last error ${t.lastError}` : ''}`,
            );
          }
          const subs = realtime.integrations.flatMap((x) => x.subscriptions);
          console.log(
            `  webhooks   ${realtime.webhooks.enabled ? `${subs.filter((s) => s.status === 'active').length} active subscriptions, delivered to ${service.publicUrl}` : realtime.webhooks.message}`,
          );
          for (const [reason, n] of Object.entries(realtime.integrations[0]?.rejected ?? {})) {
            console.log(`  rejected notifications: ${reason} ×${n}`);
          }
          console.log(
            `  audit feed ${audit.listedUntil ? `listed until ${ago(audit.listedUntil)}` : 'never read'}, ${audit.events} events stored${audit.newest ? `, newest ${audit.newest}` : ''}`,
          );
          console.log(`  errors     ${errors.length} open`);
          for (const e of errors.slice(0, 10)) {
            console.log(
              `    ${e.resource_type} ${e.resource_id ?? ''} ${e.code}: ${e.message}${e.request_id ? ` (request-id ${e.request_id})` : ''}`,
            );
          }
        }
      });
    });
}

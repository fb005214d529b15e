/** The collector: what the CLI, the server and the realtime path call. */
export { type ChangeBatch, ChangeStream, changes } from './change-stream.ts';
export type { SyncContext, SyncIntegrationInfo, SyncProgress } from './context.ts';
export { collectGroups, collectMfa, collectUsers } from './directory.ts';
export {
  DELTA_PREFER,
  type DriveSyncOptions,
  type DriveSyncResult,
  driveSyncInFlight,
  syncDrive,
} from './drive-sync.ts';
export { type DiscoveryResult, discoverDrives } from './drives.ts';
export { refreshVerifiedDomains, type SyncOptions, type SyncResult, syncIntegration } from './sync.ts';

import type { Migration } from 'kysely';
import * as m0001 from './0001-inventory.ts';
import * as m0100realtime from './0100-realtime.ts';
import * as m0110serviceState from './0110-service-state.ts';
import * as m0150sqlHelpers from './0150-sql-helpers.ts';
import * as m0200access from './0200-access.ts';
import * as m0250syncErrorTypes from './0250-sync-error-types.ts';
import * as m0300rules from './0300-rules.ts';
import * as m0310tenantSettings from './0310-tenant-settings.ts';
import * as m0320itemLabels from './0320-item-labels.ts';
import * as m0330policiesPacks from './0330-policies-packs.ts';
import * as m0340savedQueries from './0340-saved-queries.ts';
import * as m0400alerts from './0400-alerts.ts';
import * as m0500activity from './0500-activity.ts';
import * as m0600remediation from './0600-remediation.ts';
import * as m0700auth from './0700-auth.ts';
import * as m0720apiIndexes from './0720-api-indexes.ts';
import * as m0730queryAlerts from './0730-query-alerts.ts';
import * as m0740connect from './0740-connect.ts';
import * as m0750alertsRemediationApi from './0750-alerts-remediation-api.ts';
import * as m0760anomalyBaselines from './0760-anomaly-baselines.ts';
import * as m0800clientStateDigest from './0800-client-state-digest.ts';
import * as m0810sso from './0810-sso.ts';
import * as m0820reviewEscalation from './0820-review-escalation.ts';
import * as m0860jobs from './0860-jobs.ts';
import * as m0890exposureDaily from './0890-exposure-daily.ts';
import * as m0920driveItemsIndexes from './0920-drive-items-indexes.ts';
import * as m0930folderNameIndex from './0930-folder-name-index.ts';
import * as m0940itemIdIndex from './0940-item-id-index.ts';
import * as m0960auditOperationIndex from './0960-audit-operation-index.ts';
import * as m0970liveItemsIndex from './0970-live-items-index.ts';

/**
 * Every migration, in order. Names sort by their numeric prefix; each file serves both
 * dialects (sqlite and postgres). Append, never edit a migration that has shipped.
 */
export const migrations: Record<string, Migration> = {
  '0001-inventory': m0001,
  '0100-realtime': m0100realtime,
  '0110-service-state': m0110serviceState,
  '0150-sql-helpers': m0150sqlHelpers,
  '0200-access': m0200access,
  '0250-sync-error-types': m0250syncErrorTypes,
  '0300-rules': m0300rules,
  '0310-tenant-settings': m0310tenantSettings,
  '0320-item-labels': m0320itemLabels,
  '0330-policies-packs': m0330policiesPacks,
  '0340-saved-queries': m0340savedQueries,
  '0400-alerts': m0400alerts,
  '0500-activity': m0500activity,
  '0600-remediation': m0600remediation,
  '0700-auth': m0700auth,
  '0720-api-indexes': m0720apiIndexes,
  '0730-query-alerts': m0730queryAlerts,
  '0740-connect': m0740connect,
  '0750-alerts-remediation-api': m0750alertsRemediationApi,
  '0760-anomaly-baselines': m0760anomalyBaselines,
  '0800-client-state-digest': m0800clientStateDigest,
  '0810-sso': m0810sso,
  '0820-review-escalation': m0820reviewEscalation,
  '0860-jobs': m0860jobs,
  '0890-exposure-daily': m0890exposureDaily,
  '0920-drive-items-indexes': m0920driveItemsIndexes,
  '0930-folder-name-index': m0930folderNameIndex,
  '0940-item-id-index': m0940itemIdIndex,
  '0960-audit-operation-index': m0960auditOperationIndex,
  '0970-live-items-index': m0970liveItemsIndex,
};

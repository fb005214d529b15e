import type { itemLabel } from '../../resources/item-label.ts';
import type { sensitivityLabel } from '../../resources/sensitivity-label.ts';
import type { tenantSettings } from '../../resources/tenant-settings.ts';
import type { ResourceTable } from './resource-table.ts';

/**
 * Tenant configuration and file labels, created by migrations 0310-tenant-settings and
 * 0320-item-labels. Resource tables are derived from their definitions in src/resources/.
 */
export interface TenantSettingsTable extends ResourceTable<typeof tenantSettings> {}
export interface ItemLabelsTable extends ResourceTable<typeof itemLabel> {}
export interface SensitivityLabelsTable extends ResourceTable<typeof sensitivityLabel> {}

/** How reading a file's labels went (src/collect/labels.ts). */
export type LabelOutcome = 'labeled' | 'unlabeled' | 'locked' | 'failed';

/**
 * Per file whose labels were read: the content tag they were read for (item_labels.c_tag has
 * the same value), so a file is read again only when its content changed, and the outcome.
 */
export interface LabelExtractionsTable {
  integration_id: string;
  drive_id: string;
  item_id: string;
  c_tag: string | null;
  extracted_at: string;
  /**
   * labeled / unlabeled: read; locked: 423 (double-key encrypted, decryption not supported or
   * deferred); failed: another error for this file (error_code says which).
   */
  outcome: LabelOutcome;
  error_code: string | null;
  error_message: string | null;
}

export interface TenantTables {
  tenant_settings: TenantSettingsTable;
  item_labels: ItemLabelsTable;
  sensitivity_labels: SensitivityLabelsTable;
  label_extractions: LabelExtractionsTable;
}

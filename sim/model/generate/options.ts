import type { SimLabelOptions, SimSharepointSettingsOptions } from '../../contracts.ts';

export interface GenerateOptions {
  seed: number;
  users: number;
  items: number;
  unprovisionedRatio: number;
  sharedRatio: number;
  anonymousRatio: number;
  /** Share of candidates given a case for the built-in rules (generate/rule-cases.ts); 0: none. */
  violationRatio: number;
  /** ms since epoch; every generated timestamp is before it. */
  referenceMs: number;
  /** The tenant's SharePoint settings (sim/model/tenant-settings.ts). */
  sharepointSettings?: SimSharepointSettingsOptions;
  /** Sensitivity labels (sim/model/labels.ts). */
  labels?: SimLabelOptions;
}

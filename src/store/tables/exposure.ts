/**
 * The overview's exposure trend (migration 0890-exposure-daily): per integration and UTC day,
 * live files (folders excluded) and their bytes by exposure, as last counted that day.
 */
export interface ExposureDailyTable {
  integration_id: string;
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  public_files: number | string;
  public_bytes: number | string;
  external_files: number | string;
  external_bytes: number | string;
  internal_files: number | string;
  internal_bytes: number | string;
  private_files: number | string;
  private_bytes: number | string;
  /** When the counts were taken: the last count of a day is that day's value. */
  taken_at: string;
}

export interface ExposureTables {
  exposure_daily: ExposureDailyTable;
}

export interface GenerateOptions {
  seed: number;
  users: number;
  items: number;
  unprovisionedRatio: number;
  sharedRatio: number;
  anonymousRatio: number;
  /** ms since epoch; every generated timestamp is before it. */
  referenceMs: number;
}

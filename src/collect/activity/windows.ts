/**
 * Which content windows one round lists. The Management Activity API answers
 * `subscriptions/content` for windows of at most 24 h starting at most 7 days back, and
 * content can become available up to 12 h late and out of order: every round lists again
 * from `lateMs` before where the last one ended (blobs already read are skipped by id, events
 * by Id), so late content is found without reading anything twice.
 */

export const HOUR_MS = 3_600_000;
export const MAX_WINDOW_MS = 24 * HOUR_MS;
/** 7 days minus a margin, so a window planned now is still inside the limit when it is asked for. */
export const MAX_AGE_MS = 7 * 24 * HOUR_MS - 10 * 60_000;

export interface Window {
  startMs: number;
  endMs: number;
}

export interface WindowPlan {
  nowMs: number;
  /** End of the last completely listed window; null before the first round. */
  listedUntilMs: number | null;
  lateMs: number;
  initialLookbackMs: number;
}

/** Consecutive windows of ≤ 24 h covering [start, now), oldest first; empty when there is nothing to list. */
export function planWindows(plan: WindowPlan): Window[] {
  // The API takes whole seconds (apiTime): a window ending at now's fraction would be asked only
  // up to the second and then stored as listed past it, and with no late margin the content of
  // that fraction would never be listed. Windows end on the last whole second instead.
  const nowMs = Math.floor(plan.nowMs / 1000) * 1000;
  const from =
    plan.listedUntilMs === null ? plan.nowMs - plan.initialLookbackMs : plan.listedUntilMs - plan.lateMs;
  const start = Math.max(from, nowMs - MAX_AGE_MS);
  const windows: Window[] = [];
  for (let s = start; s < nowMs; s += MAX_WINDOW_MS) {
    windows.push({ startMs: s, endMs: Math.min(s + MAX_WINDOW_MS, nowMs) });
  }
  return windows;
}

/** The API's time format: ISO 8601 UTC without fractions. */
export function apiTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

import type { Scenario } from '../harness.ts';
import { activity } from './activity.ts';
import { apiBench } from './api.ts';
import { fullSync } from './full-sync.ts';
import { realtime } from './realtime.ts';
import { rulesBench } from './rules.ts';
import { throttledSync } from './throttled-sync.ts';
import { webhookLoad } from './webhook-load.ts';

/** Every benchmark scenario; one file each in this folder. */
export const scenarios: Scenario[] = [
  fullSync,
  throttledSync,
  realtime,
  webhookLoad,
  activity,
  rulesBench,
  apiBench,
];

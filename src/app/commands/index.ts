import { activityCommands } from './activity.ts';
import { alertsCommands } from './alerts.ts';
import { authCommands } from './auth.ts';
import { integrationsCommands } from './integrations.ts';
import { inventoryCommands } from './inventory.ts';
import { queryCommands } from './query.ts';
import { remediationCommands } from './remediation.ts';
import { reviewCommands } from './reviews.ts';
import { rulesCommands } from './rules.ts';

/** Every command the API can run, by name (`<area>.<verb>`); one file per area. */
export const COMMANDS = {
  ...authCommands,
  ...inventoryCommands,
  ...rulesCommands,
  ...queryCommands,
  ...integrationsCommands,
  ...activityCommands,
  ...alertsCommands,
  ...remediationCommands,
  ...reviewCommands,
};

export type Commands = typeof COMMANDS;
export type CommandName = keyof Commands;
export type CommandInput<N extends CommandName> = Commands[N] extends { input: { _output: infer I } }
  ? I
  : never;
export type CommandOutput<N extends CommandName> = Commands[N] extends {
  run(...args: never[]): Promise<infer O>;
}
  ? O
  : never;

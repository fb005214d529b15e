import type { Command } from 'commander';
import { registerAccess } from './access.ts';
import { registerActivity } from './activity.ts';
import { registerAlerts } from './alerts.ts';
import { registerChannels } from './channels.ts';
import { registerDemo } from './demo.ts';
import { registerFindings } from './findings.ts';
import { registerIntegrations } from './integrations.ts';
import { registerMigrate } from './migrate.ts';
import { registerPacks } from './packs.ts';
import { registerPolicies } from './policies.ts';
import { registerQuery } from './query.ts';
import { registerRemediate } from './remediate.ts';
import { registerRules } from './rules.ts';
import { registerServe } from './serve.ts';
import { registerSimCommand } from './sim.ts';
import { registerStatus } from './status.ts';
import { registerSync } from './sync.ts';
import { registerUsers } from './users.ts';
import { registerWorker } from './worker.ts';

/** Every sub-command registers itself on the program; add one line per command file. */
export const commands: Array<(program: Command) => void> = [
  registerIntegrations,
  registerSync,
  registerServe,
  registerWorker,
  registerStatus,
  registerQuery,
  registerAccess,
  registerActivity,
  registerRules,
  registerFindings,
  registerPolicies,
  registerPacks,
  registerRemediate,
  registerChannels,
  registerAlerts,
  registerUsers,
  registerMigrate,
  registerSimCommand,
  registerDemo,
];

import type { Command } from 'commander';

/** A command file: the top-level commands it registers, and how to import it. */
export interface CommandModule {
  /** Top-level command names (and aliases) its register function adds, in the order it adds them. */
  names: readonly string[];
  /** Imports the file and hands back its register function (commands, options, help text, actions). */
  load: () => Promise<(program: Command) => void>;
}

/**
 * Every command file, in the order `drivewarden --help` lists them; add one entry per file.
 * Imported only when wanted: a file pulls in most of the product, and most runs use one
 * command (src/cli/program.ts picks them). test/cli-lazy.test.ts checks `names` against
 * what each file registers.
 */
export const commands: readonly CommandModule[] = [
  { names: ['integrations'], load: async () => (await import('./integrations.ts')).registerIntegrations },
  { names: ['sync'], load: async () => (await import('./sync.ts')).registerSync },
  { names: ['serve'], load: async () => (await import('./serve.ts')).registerServe },
  { names: ['worker'], load: async () => (await import('./worker.ts')).registerWorker },
  { names: ['status'], load: async () => (await import('./status.ts')).registerStatus },
  { names: ['query'], load: async () => (await import('./query.ts')).registerQuery },
  { names: ['access'], load: async () => (await import('./access.ts')).registerAccess },
  { names: ['activity'], load: async () => (await import('./activity.ts')).registerActivity },
  { names: ['rules'], load: async () => (await import('./rules.ts')).registerRules },
  { names: ['findings'], load: async () => (await import('./findings.ts')).registerFindings },
  { names: ['policies'], load: async () => (await import('./policies.ts')).registerPolicies },
  { names: ['packs'], load: async () => (await import('./packs.ts')).registerPacks },
  { names: ['remediate'], load: async () => (await import('./remediate.ts')).registerRemediate },
  { names: ['channels'], load: async () => (await import('./channels.ts')).registerChannels },
  { names: ['alerts'], load: async () => (await import('./alerts.ts')).registerAlerts },
  { names: ['users', 'tokens'], load: async () => (await import('./users.ts')).registerUsers },
  { names: ['migrate'], load: async () => (await import('./migrate.ts')).registerMigrate },
  { names: ['sim'], load: async () => (await import('./sim.ts')).registerSimCommand },
  { names: ['demo'], load: async () => (await import('./demo.ts')).registerDemo },
];

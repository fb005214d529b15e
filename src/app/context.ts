import { type Config, loadConfig } from '../config/config.ts';
import { createGraphClient } from '../graph/client.ts';
import type { GraphClient } from '../graph/types.ts';
import { PgRuBudget } from '../jobs/ru-budget.ts';
import { IntegrationRepository, type IntegrationWithCredentials } from '../store/integrations.ts';
import { openStore, type Store } from '../store/store.ts';
import { createLogger, type Logger } from '../util/logger.ts';
import { SecretBox } from '../util/secret-box.ts';

/**
 * The application wiring of one process: config, logger, the open store, the
 * integrations repository and Graph clients. cli/, server/, service/ and the demo start
 * from here; nothing below (collect/, store/, graph/, …) imports app/.
 */
export interface AppContext {
  config: Config;
  logger: Logger;
  store: Store;
  integrations: IntegrationRepository;
  /** Seals secrets at rest (integration credentials, alert channel configurations). */
  secrets: SecretBox;
  /** A Graph client for an integration, paced and labelled from the config. */
  graphClientFor(integration: IntegrationWithCredentials): GraphClient;
  close(): Promise<void>;
}

export async function openApp(overrides: Record<string, unknown> = {}): Promise<AppContext> {
  const config = loadConfig(process.env, overrides);
  // Logs go to stderr so that stdout stays for command output (tables, JSON).
  const logger = createLogger(config.logLevel, 2);
  const store = await openStore(
    config.databaseUrl
      ? { databaseUrl: config.databaseUrl }
      : { dataDir: config.dataDir, backgroundCheckpoints: true },
  );
  return assembleApp(config, logger, store, await countSealedSecrets(store));
}

/** Secrets sealed in the database (integration credentials, channel configurations). */
async function countSealedSecrets(store: Store): Promise<number> {
  const count = async (query: Promise<{ n: number | string | bigint } | undefined>) =>
    Number((await query)?.n ?? 0);
  const { db } = store;
  return (
    (await count(
      db
        .selectFrom('integrations')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where((eb) => eb.or([eb('secret_enc', 'is not', null), eb('certificate_enc', 'is not', null)]))
        .executeTakeFirst(),
    )) +
    (await count(
      db
        .selectFrom('alert_channels')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst(),
    ))
  );
}

/** The app around an open store (openApp; tests that open their store themselves). */
export function assembleApp(config: Config, logger: Logger, store: Store, sealedSecrets = 0): AppContext {
  const box = SecretBox.open(config.dataDir, config.secretKey, sealedSecrets);
  const integrations = new IntegrationRepository(store, box);
  return {
    config,
    logger,
    store,
    integrations,
    secrets: box,
    graphClientFor: (integration) =>
      createGraphClient(
        {
          ...integration.clientOptions,
          timeoutMs: config.graph.timeoutMs,
          maxRetries: config.graph.maxRetries,
          ...(config.graph.ruBudgetPerMinute !== undefined
            ? { ruBudgetPerMinute: config.graph.ruBudgetPerMinute, timeScale: config.graph.timeScale }
            : {}),
          // On PostgreSQL every process (serve replicas, workers) draws from one budget per tenant.
          ...(config.graph.ruBudgetPerMinute !== undefined && store.dialect === 'postgres'
            ? {
                ruBudget: new PgRuBudget(store.db, {
                  key: `graph:${integration.clientOptions.tenantId}`,
                  budgetPerMinute: config.graph.ruBudgetPerMinute,
                  timeScale: config.graph.timeScale,
                }),
              }
            : {}),
        },
        logger.child({ integration: integration.name }),
      ),
    close: () => store.close(),
  };
}

/** Runs a one-shot command body with an open app and closes it whatever happens. */
export async function withApp<T>(fn: (app: AppContext) => Promise<T>): Promise<T> {
  // One-shot commands print their own results; logs below warn are noise there.
  const app = await openApp(process.env.DW_LOG_LEVEL ? {} : { logLevel: 'warn' });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

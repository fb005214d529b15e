import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Real-time path tables (see ../tables/realtime.ts). Plain SQL types both SQLite and
 * PostgreSQL accept; the autoincrement id is `integer primary key autoincrement` on
 * SQLite and `serial primary key` on PostgreSQL.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('graph_subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('change_type', 'text', (c) => c.notNull())
    .addColumn('client_state', 'text', (c) => c.notNull())
    .addColumn('notification_url', 'text', (c) => c.notNull())
    .addColumn('expiration', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_renewed_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'text')
    .execute();
  await db.schema
    .createIndex('graph_subscriptions_integration')
    .on('graph_subscriptions')
    .columns(['integration_id', 'resource'])
    .execute();

  await db.schema
    .createTable('webhook_inbox')
    .addColumn('id', isPostgres ? 'bigserial' : 'integer', (c) =>
      isPostgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('change_type', 'text')
    .addColumn('lifecycle_event', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('webhook_inbox_pending')
    .on('webhook_inbox')
    .columns(['processed_at', 'id'])
    .execute();

  await db.schema
    .createTable('webhook_rejections')
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_rejections_pk', ['integration_id', 'reason'])
    .execute();

  await db.schema
    .createTable('realtime_sync_state')
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('drive_id', 'text')
    .addColumn('last_started_at', 'text')
    .addColumn('last_success_at', 'text')
    .addColumn('last_source', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'text')
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('realtime_sync_state_pk', ['integration_id', 'resource'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['realtime_sync_state', 'webhook_rejections', 'webhook_inbox', 'graph_subscriptions']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

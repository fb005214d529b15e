import type { Kysely } from 'kysely';

/** The running service's self-description (see ../tables/service.ts). */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('service_state')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_ms', 'integer', (c) => c.notNull())
    .addColumn('stopped_at', 'text')
    .addColumn('receiver_url', 'text')
    .addColumn('receiver_up', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('public_url', 'text')
    .addColumn('webhooks_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('webhooks_message', 'text')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('service_state').ifExists().execute();
}

import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { AlertChannelsTable } from '../store/tables/alerts.ts';
import type { SecretBox } from '../util/secret-box.ts';
import { type ChannelConfig, type ChannelKind, describeTarget } from './channels/config.ts';
import { checkName } from './names.ts';

/** A channel as listed: its target masked, never a secret. */
export interface ChannelInfo {
  id: string;
  name: string;
  kind: ChannelKind;
  target: string;
  createdAt: string;
  updatedAt: string;
}

const info = (r: AlertChannelsTable): ChannelInfo => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  target: r.target,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Notification channels. The configuration is sealed with SecretBox before it reaches the database. */
export class ChannelRepository {
  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
  ) {}

  async add(name: string, channel: ChannelConfig): Promise<ChannelInfo> {
    const checked = checkName('channel', name);
    if (await this.find(checked)) throw new Error(`a channel named "${checked}" already exists`);
    const now = new Date().toISOString();
    const id = randomUUID();
    await this.store.db
      .insertInto('alert_channels')
      .values({
        id,
        name: checked,
        kind: channel.kind,
        config_enc: this.box.encrypt(JSON.stringify(channel.config)),
        target: describeTarget(channel),
        created_at: now,
        updated_at: now,
      })
      .execute();
    return (await this.get(id)) as ChannelInfo;
  }

  async list(): Promise<ChannelInfo[]> {
    const rows = await this.store.db.selectFrom('alert_channels').selectAll().orderBy('name').execute();
    return rows.map(info);
  }

  /** By id or name. */
  async get(idOrName: string): Promise<ChannelInfo | undefined> {
    const row = await this.find(idOrName);
    return row ? info(row) : undefined;
  }

  async require(idOrName: string): Promise<ChannelInfo> {
    const found = await this.get(idOrName);
    if (!found) throw new Error(`no channel "${idOrName}" (see \`drivewarden channels list\`)`);
    return found;
  }

  /** The decrypted configuration, for sending only: never log or print it. */
  async config(id: string): Promise<(ChannelConfig & { name: string }) | undefined> {
    const row = await this.find(id);
    if (!row) return undefined;
    return {
      kind: row.kind,
      config: JSON.parse(this.box.decrypt(row.config_enc)),
      name: row.name,
    } as ChannelConfig & {
      name: string;
    };
  }

  /** Removes a channel no policy uses (the error names the policies that do). */
  async remove(idOrName: string): Promise<ChannelInfo> {
    const channel = await this.require(idOrName);
    const policies = await this.store.db
      .selectFrom('alert_policies')
      .select(['name', 'channel_ids'])
      .execute();
    const users = policies.filter((p) => parseIds(p.channel_ids).includes(channel.id)).map((p) => p.name);
    if (users.length)
      throw new Error(
        `channel "${channel.name}" is used by the policies ${users.join(', ')}: remove it from them first`,
      );
    await this.store.db.deleteFrom('alert_channels').where('id', '=', channel.id).execute();
    return channel;
  }

  private async find(idOrName: string): Promise<AlertChannelsTable | undefined> {
    return this.store.db
      .selectFrom('alert_channels')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
  }
}

/** A JSON array column of ids (text on SQLite, parsed jsonb on PostgreSQL). */
export function parseIds(value: unknown): string[] {
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

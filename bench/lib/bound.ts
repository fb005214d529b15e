/**
 * The bound of a full sync: the same delta pages the product read, parsed and written as
 * bare rows (one table, no history, no paths, no access) into a SQLite file with the store's
 * own settings, on the same machine in the same run. Only parsing and writing are timed; the
 * pages are fetched from the simulator beforehand, one at a time, so nothing but one page is
 * held in memory.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Agent, request } from 'undici';
import type { SimConnectionInfo } from '../../sim/contracts.ts';
import { DELTA_PREFER } from '../../src/collect/drive-sync.ts';
import { tuneSqlite } from '../../src/store/store.ts';

export interface BoundResult {
  /** Rows in the bare table at the end (distinct items: a repeated item is written again, not twice). */
  rows: number;
  /** Items parsed (repeats included). */
  entries: number;
  pages: number;
  /** Seconds spent parsing and writing. */
  seconds: number;
  /** CPU seconds of this process while parsing and writing. */
  cpuSeconds: number;
  /** Seconds with fetching the pages from the simulator too (one page at a time, one drive after another). */
  withFetchSeconds: number;
}

const BARE_TABLE = `create table bare_items (
  drive_id text not null,
  id text not null,
  name text,
  parent_id text,
  size integer,
  last_modified text,
  raw text not null,
  primary key (drive_id, id)
)`;

async function graphToken(info: SimConnectionInfo, agent: Agent): Promise<string> {
  const res = await request(`${info.authorityUrl}/${info.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: info.clientId,
      client_secret: info.clientSecret,
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    }).toString(),
  });
  const body = (await res.body.json()) as { access_token?: string };
  if (res.statusCode !== 200 || !body.access_token)
    throw new Error(`bound: token request answered ${res.statusCode}`);
  return body.access_token;
}

/** Parses and writes every page of every drive's first delta enumeration; see the module comment. */
export async function measureBound(
  info: SimConnectionInfo,
  driveIds: string[],
  dir: string,
  pageSize = 999,
): Promise<BoundResult> {
  const agent = new Agent({ connect: { ca: readFileSync(info.caCertPath, 'utf8') } });
  const db = new SQLite(join(dir, 'bound.db'));
  try {
    tuneSqlite(db);
    db.exec(BARE_TABLE);
    const insert = db.prepare(
      'insert into bare_items (drive_id, id, name, parent_id, size, last_modified, raw) values (?, ?, ?, ?, ?, ?, ?) ' +
        'on conflict (drive_id, id) do update set name = excluded.name, parent_id = excluded.parent_id, ' +
        'size = excluded.size, last_modified = excluded.last_modified, raw = excluded.raw',
    );
    type Item = {
      id: string;
      name?: string;
      size?: number;
      lastModifiedDateTime?: string;
      parentReference?: { id?: string };
    };
    const writePage = db.transaction((driveId: string, items: Item[]) => {
      for (const it of items)
        insert.run(
          driveId,
          it.id,
          it.name ?? null,
          it.parentReference?.id ?? null,
          it.size ?? null,
          it.lastModifiedDateTime ?? null,
          JSON.stringify(it),
        );
    });
    const token = await graphToken(info, agent);
    const start = performance.now();
    const out: BoundResult = {
      rows: 0,
      entries: 0,
      pages: 0,
      seconds: 0,
      cpuSeconds: 0,
      withFetchSeconds: 0,
    };
    for (const driveId of driveIds) {
      let url: string | undefined =
        `${info.graphBaseUrl}/drives/${encodeURIComponent(driveId)}/root/delta?$top=${pageSize}`;
      while (url) {
        const res = await request(url, {
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}`, prefer: DELTA_PREFER },
        });
        const text = await res.body.text();
        if (res.statusCode !== 200)
          throw new Error(`bound: ${url} answered ${res.statusCode}: ${text.slice(0, 300)}`);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const page = JSON.parse(text) as { value: Item[]; '@odata.nextLink'?: string };
        writePage(driveId, page.value);
        out.seconds += (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        out.cpuSeconds += (c.user + c.system) / 1e6;
        out.entries += page.value.length;
        out.pages++;
        url = page['@odata.nextLink'];
      }
    }
    out.withFetchSeconds = (performance.now() - start) / 1000;
    out.rows = Number(db.prepare('select count(*) as n from bare_items').pluck().get());
    return out;
  } finally {
    db.close();
    await agent.close();
  }
}

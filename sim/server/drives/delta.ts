/**
 * GET …/root/delta: the drive's change log served as pages (tombstones capped per page,
 * repeats, sharedChanged annotations with all three Prefer values), two deltaLink shapes,
 * and 410 resyncRequired for a token of an earlier epoch.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hash01 } from '../../model/prng.ts';
import type { SimDrive } from '../../model/tenant.ts';
import type { Runtime } from '../../runtime.ts';
import { badRequest, GraphHttpError } from '../errors.ts';
import {
  checkOptions,
  decodeToken,
  encodeToken,
  link,
  opt,
  parseSelect,
  parseTop,
  type Query,
} from '../odata.ts';
import type { DriveLookup } from './lookup.ts';
import { ITEM_PROPS, itemJson, parsePrefer } from './render.ts';

const DELETED_PER_PAGE = 7;

interface DeltaToken {
  v: 1;
  d: number; // drive index
  s: number; // cursor: last seq consumed
  e: number; // drive epoch
  m: 'f' | 'i'; // full enumeration or incremental
  b: number; // seq the incremental feed started from (sharedChanged baseline)
  r?: number[]; // items to repeat at the start of the next page
}

export function registerDeltaRoutes(
  app: FastifyInstance,
  rt: Runtime,
  { driveOf, userDrive }: DriveLookup,
): void {
  const t = rt.tenant;
  const base = () => rt.graphBaseUrl;

  const deltaLinkFor = (d: SimDrive, tok: DeltaToken, q: Query): string => {
    const enc = encodeToken(tok as unknown as Record<string, unknown>);
    const keep: Array<[string, string | undefined]> = [
      ['$select', opt(q, '$select')],
      ['$top', opt(q, '$top')],
      ['$expand', opt(q, '$expand')],
    ];
    // Both shapes real Graph uses; the client must treat them as opaque.
    if (hash01(tok.s, tok.d, tok.m === 'f' ? 1 : 2) < 0.5)
      return link(base(), `/drives/${d.id}/root/delta`, [...keep, ['token', enc]]);
    return link(base(), `/drives/${d.id}/root/microsoft.graph.delta(token='${enc}')`, keep);
  };

  const delta = (d: SimDrive, req: FastifyRequest, reply: FastifyReply) => {
    const q = req.query as Query;
    checkOptions(q, ['$select', '$top', '$expand', '$orderby'], 'drive');
    const select = parseSelect(q, ITEM_PROPS, 'microsoft.graph.driveItem', 'drive');
    const top = parseTop(q, 1000, 'drive');
    const pageSize = Math.min(top ?? 200, 999);
    const prefs = parsePrefer(req);
    if (prefs.applied.length > 0) reply.header('preference-applied', prefs.applied.join(','));
    const rawToken = typeof q.token === 'string' ? q.token : undefined;
    const ctx = `${base()}/$metadata#Collection(driveItem)`;
    if (rawToken === 'latest') {
      return {
        '@odata.context': ctx,
        value: [],
        '@odata.deltaLink': deltaLinkFor(d, { v: 1, d: d.idx, s: d.seq, e: d.epoch, m: 'i', b: d.seq }, q),
      };
    }
    let tok: DeltaToken;
    if (rawToken === undefined || rawToken === '') tok = { v: 1, d: d.idx, s: 0, e: d.epoch, m: 'f', b: 0 };
    else {
      tok = decodeToken<DeltaToken>(rawToken, 'drive', 'delta token');
      if (tok.v !== 1 || typeof tok.s !== 'number' || (tok.m !== 'f' && tok.m !== 'i'))
        throw badRequest('Invalid delta token.');
      if (tok.d !== d.idx) throw badRequest('The delta token was issued for another drive.');
      if (tok.e !== d.epoch) throw resync(d, q);
    }
    const it = t.items;
    const full = tok.m === 'f';
    const value: Array<Record<string, unknown>> = [];
    const render = (i: number) =>
      itemJson(rt, i, { delta: true, withCTag: full, prefs, sharedChangedSince: full ? -1 : tok.b, select });
    for (const i of tok.r ?? []) {
      if (i < 0 || i >= it.length || it.drive[i] !== d.idx) continue;
      if (full && it.isDeleted(i)) continue;
      value.push(render(i));
    }
    const logSeqs = d.logSeqs;
    // first log position with seq > cursor
    let lo = 0;
    let hi = logSeqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (logSeqs[mid] <= tok.s) lo = mid + 1;
      else hi = mid;
    }
    let pos = lo;
    let cursor = tok.s;
    let tombstones = 0;
    const served: number[] = [];
    while (pos < logSeqs.length && value.length < pageSize && tombstones < DELETED_PER_PAGE) {
      const raw = d.logItems[pos];
      const seq = logSeqs[pos];
      pos++;
      cursor = seq;
      const permOnly = raw < 0;
      const i = permOnly ? ~raw : raw;
      const latest = prefs.all3 ? Math.max(it.seq[i], it.pseq[i]) : it.seq[i];
      if (seq !== latest || (permOnly && !prefs.all3)) continue;
      const deleted = it.isDeleted(i);
      if (deleted && full) continue;
      if (deleted) tombstones++;
      value.push(render(i));
      served.push(i);
    }
    const more = pos < logSeqs.length;
    const rate = rt.options.deltaRepeatRate;
    const repeats = rate > 0 ? served.filter((i) => hash01(t.seed, i, it.seq[i], 5) < rate).slice(0, 20) : [];
    const next: DeltaToken = { v: 1, d: d.idx, s: cursor, e: d.epoch, m: tok.m, b: full ? cursor : tok.b };
    const body: Record<string, unknown> = { '@odata.context': ctx, value };
    if (more) {
      if (repeats.length > 0) next.r = repeats;
      body['@odata.nextLink'] = deltaLinkFor(d, next, q);
    } else {
      for (const i of repeats) if (!(full && it.isDeleted(i))) value.push(render(i));
      body['@odata.deltaLink'] = deltaLinkFor(d, { ...next, m: 'i', b: cursor }, q);
    }
    return body;
  };

  const resync = (d: SimDrive, q: Query) => {
    const location = link(base(), `/drives/${d.id}/root/delta`, [
      ['$select', opt(q, '$select')],
      ['$top', opt(q, '$top')],
    ]);
    return new GraphHttpError(
      410,
      'resyncRequired',
      "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.",
      { Location: location },
    );
  };
  rt.resyncError = (driveId: string, q: Query) => resync(driveOf(driveId), q);

  app.get('/v1.0/drives/:driveId/root/delta', async (req, reply) =>
    delta(driveOf((req.params as { driveId: string }).driveId), req, reply),
  );
  app.get('/v1.0/users/:userId/drive/root/delta', async (req, reply) =>
    delta(userDrive((req.params as { userId: string }).userId), req, reply),
  );
}

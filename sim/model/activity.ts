/**
 * Audit activity the admin API injects (`backgroundActivity` and `attack` mutations): access
 * events (FileAccessed / FileDownloaded) that leave the model unchanged, and attack scenarios
 * built from model mutations (deletes, shares). Every event goes through the runtime's change
 * stream, so the audit feed serves it like any other; `at` may lie in the past (a simulated
 * week of history becomes available now, CreationTime in the past).
 */
import type { SimMutation } from '../contracts.ts';
import { MutationError } from './errors.ts';
import type { MutationContext } from './mutate.ts';
import { Prng } from './prng.ts';
import type { SimDrive, SimUser, Tenant } from './tenant.ts';

/** The tenant's time zone as an offset from UTC (working hours are local). Europe/Berlin in winter. */
export const TENANT_UTC_OFFSET_HOURS = 1;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Office egress addresses (two sites). */
const OFFICE_IPS = ['198.51.100.10', '198.51.100.20'];
/** An address in a range no background user ever uses: "a new country". */
export const FOREIGN_IP = '185.220.101.47';

export type BackgroundMutation = Extract<SimMutation, { op: 'backgroundActivity' }>;
export type AttackMutation = Extract<SimMutation, { op: 'attack' }>;

interface Profile {
  user: SimUser;
  drive: SimDrive;
  /** Local hour the workday starts, its length in hours. */
  start: number;
  length: number;
  /** Sessions per workday; accesses per session up to maxPerSession. */
  sessions: number;
  maxPerSession: number;
  downloadShare: number;
  ips: { office: string; home: string; mobile: string };
}

function members(t: Tenant): Array<{ user: SimUser; drive: SimDrive }> {
  const out: Array<{ user: SimUser; drive: SimDrive }> = [];
  for (const d of t.liveDrives()) {
    const user = t.users[d.ownerIdx];
    if (user && !user.deleted && user.accountEnabled && user.userType === 'Member')
      out.push({ user, drive: d });
  }
  return out;
}

function liveFiles(t: Tenant, d: SimDrive): number[] {
  return d.items.filter((i) => !t.items.isDeleted(i) && !t.items.isFolder(i));
}

function profileOf(rng: Prng, user: SimUser, drive: SimDrive): Profile {
  const n = user.idx;
  return {
    user,
    drive,
    start: 7 + rng.next() * 2.5,
    length: 7.5 + rng.next() * 2,
    sessions: rng.int(3, 8),
    maxPerSession: rng.int(3, 10),
    downloadShare: 0.05 + rng.next() * 0.15,
    ips: {
      office: OFFICE_IPS[n % OFFICE_IPS.length],
      home: `192.0.2.${(n % 250) + 1}`,
      mobile: `100.64.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`,
    },
  };
}

/** Monday..Friday in the tenant's time zone. */
function isWorkday(dayStartUtcMs: number, offsetHours: number): boolean {
  const local = new Date(dayStartUtcMs + offsetHours * HOUR + 12 * HOUR).getUTCDay();
  return local >= 1 && local <= 5;
}

/**
 * `days` of ordinary work ending now: per user a daily rhythm inside their working hours
 * (local time, weekdays; a rare short weekend visit), a handful of sessions of a few file
 * opens each, mostly in their own OneDrive, from their office, home or mobile address.
 */
export function backgroundActivity(ctx: MutationContext, m: BackgroundMutation): Record<string, unknown> {
  const days = m.days;
  if (!Number.isFinite(days) || days <= 0 || days > 30) throw new MutationError('days must be in (0, 30]');
  const t = ctx.tenant;
  const offset = m.utcOffsetHours ?? TENANT_UTC_OFFSET_HOURS;
  const intensity = m.intensity ?? 1;
  if (!Number.isFinite(intensity) || intensity <= 0 || intensity > 1000)
    throw new MutationError('intensity must be in (0, 1000]');
  const rng = new Prng(m.seed ?? 1, 4242);
  const people = members(t);
  if (people.length === 0) throw new MutationError('the tenant has no member with a drive');
  const files = new Map(people.map((p) => [p.drive.id, liveFiles(t, p.drive)]));
  const now = ctx.now();
  // Local midnight of today, then back `days` days.
  const todayLocal = Math.floor((now + offset * HOUR) / DAY) * DAY - offset * HOUR;
  let events = 0;
  for (const p of people.map((x) => profileOf(rng, x.user, x.drive))) {
    for (let day = Math.ceil(days); day >= 0; day--) {
      const dayStart = todayLocal - day * DAY;
      const workday = isWorkday(dayStart, offset);
      if (!workday && !rng.chance(0.05)) continue;
      // More sessions, never bigger ones: volume grows without making bursts.
      const sessions = workday ? Math.max(1, Math.round(p.sessions * intensity)) : 1;
      for (let s = 0; s < sessions; s++) {
        const hour = workday ? p.start + rng.next() * (p.length - 0.5) : 13 + rng.next() * 4;
        let at = dayStart + (offset + hour) * HOUR;
        if (at > now || at < now - days * DAY) continue;
        const ip = !workday
          ? p.ips.home
          : rng.chance(0.7)
            ? p.ips.office
            : rng.chance(0.8)
              ? p.ips.home
              : p.ips.mobile;
        const colleague = rng.chance(0.15) ? people[rng.int(0, people.length - 1)] : undefined;
        const drive = colleague?.drive ?? p.drive;
        const pool = files.get(drive.id) ?? [];
        if (pool.length === 0) continue;
        const count = rng.int(1, p.maxPerSession);
        for (let k = 0; k < count; k++) {
          const item = pool[rng.int(0, pool.length - 1)];
          ctx.emit({
            kind: 'access',
            op: rng.chance(p.downloadShare) ? 'downloaded' : 'accessed',
            driveId: drive.id,
            itemId: t.itemId(item),
            actorId: p.user.id,
            actorUpn: p.user.userPrincipalName,
            clientIp: ip,
            at: new Date(at).toISOString(),
          });
          events++;
          at += rng.int(5, 90) * 1000;
        }
      }
    }
  }
  return { events, users: people.length };
}

/** The latest instant ≤ now at `hour` local time (on a workday when `workday`). */
function latestLocal(now: number, offset: number, hour: number, workday: boolean): number {
  let day = Math.floor((now + offset * HOUR) / DAY) * DAY - offset * HOUR;
  for (let k = 0; k < 8; k++, day -= DAY) {
    const at = day + hour * HOUR;
    if (at <= now && (!workday || isWorkday(day, offset))) return at;
  }
  throw new MutationError('no suitable time in the last week');
}

/** Daytime scenarios happen in working hours: now when it is a workday 9–17 local, else the last workday's 11:00. */
function workingTime(now: number, offset: number): number {
  const localHour = ((((now + offset * HOUR) % DAY) + DAY) % DAY) / HOUR;
  const day = Math.floor((now + offset * HOUR) / DAY) * DAY - offset * HOUR;
  if (isWorkday(day, offset) && localHour >= 9 && localHour < 17) return now;
  return latestLocal(now, offset, 11, true);
}

/** The MutationContext with every emitted event stamped at `start`, `start + step`, … */
function stamped(ctx: MutationContext, start: number, stepMs: number): MutationContext {
  let k = 0;
  return { ...ctx, emit: (e) => ctx.emit({ ...e, at: new Date(start + stepMs * k++).toISOString() }) };
}

function pick<T>(rng: Prng, list: T[], count: number): T[] {
  const copy = [...list];
  for (let k = copy.length - 1; k > 0; k--) {
    const j = rng.int(0, k);
    [copy[k], copy[j]] = [copy[j], copy[k]];
  }
  return copy.slice(0, Math.max(0, Math.floor(count)));
}

/**
 * One attack scenario (`POST /_sim/mutations {op:'attack', scenario, …}`):
 * - massDownload: one user downloads `count` (300) files of a drive within 2 minutes;
 * - massDelete: deletes `count` (1,000) files within 5 minutes;
 * - massExternalShare: shares `count` (50) files with `email` (a consumer mailbox) within 10 minutes;
 * - newCountryIp: opens `count` (5) files at 3 a.m. local from `clientIp` (an address no one used);
 * - anonymousLinkOnSensitive: creates a key file (`.env`) and shares it with an Anyone link.
 * Daytime scenarios happen in working hours from the actor's office address, so each looks
 * unusual in one way only. Answers the actor, the items and the time window.
 */
export function attack(
  ctx: MutationContext,
  m: AttackMutation,
  apply: (ctx: MutationContext, m: SimMutation) => Record<string, unknown>,
): Record<string, unknown> {
  const t = ctx.tenant;
  const offset = m.utcOffsetHours ?? TENANT_UTC_OFFSET_HOURS;
  const people = members(t);
  const chosen = m.actorId ? people.find((p) => p.user.id === m.actorId) : undefined;
  if (m.actorId && !chosen)
    throw new MutationError(`actorId '${m.actorId}' is no enabled member with a drive`);
  const byFiles = [...people].sort((a, b) => liveFiles(t, b.drive).length - liveFiles(t, a.drive).length);
  const who = chosen ?? byFiles[0];
  if (!who) throw new MutationError('the tenant has no member with a drive');
  const drive = m.driveId ? t.driveById.get(m.driveId) : who.drive;
  if (!drive) throw new MutationError(`unknown driveId '${m.driveId}'`, 404);
  const rng = new Prng(m.seed ?? 1, 777);
  const now = ctx.now();
  const officeIp = profileOf(new Prng(1, 1), who.user, who.drive).ips.office;
  const base = { actorId: who.user.id, actorUpn: who.user.userPrincipalName, driveId: drive.id };
  const files = liveFiles(t, drive);
  switch (m.scenario) {
    case 'massDownload': {
      const chosenFiles = pick(rng, files, m.count ?? 300);
      const start = workingTime(now, offset) - 120_000;
      for (const [k, i] of chosenFiles.entries())
        ctx.emit({
          kind: 'access',
          op: 'downloaded',
          driveId: drive.id,
          itemId: t.itemId(i),
          actorId: who.user.id,
          actorUpn: who.user.userPrincipalName,
          clientIp: m.clientIp ?? officeIp,
          at: new Date(start + Math.floor((k * 120_000) / Math.max(1, chosenFiles.length))).toISOString(),
        });
      return { ...base, scenario: m.scenario, itemIds: chosenFiles.map((i) => t.itemId(i)), from: start };
    }
    case 'massDelete': {
      const count = Math.min(m.count ?? 1000, files.length);
      const start = workingTime(now, offset) - 300_000;
      const r = apply(stamped(ctx, start, Math.floor(300_000 / Math.max(1, count))), {
        op: 'massDelete',
        driveId: drive.id,
        count,
        actorId: who.user.id,
      });
      return { ...base, scenario: m.scenario, itemIds: r.itemIds, from: start };
    }
    case 'massExternalShare': {
      const chosenFiles = pick(rng, files, m.count ?? 50);
      const start = workingTime(now, offset) - 600_000;
      const timed = stamped(ctx, start, Math.floor(600_000 / Math.max(1, chosenFiles.length)));
      for (const i of chosenFiles)
        apply(timed, {
          op: 'share',
          driveId: drive.id,
          itemId: t.itemId(i),
          kind: 'external',
          email: m.email ?? 'exfil.drop@gmail.com',
          actorId: who.user.id,
        });
      return { ...base, scenario: m.scenario, itemIds: chosenFiles.map((i) => t.itemId(i)), from: start };
    }
    case 'newCountryIp': {
      const chosenFiles = pick(rng, files, m.count ?? 5);
      const start = latestLocal(now, offset, 3, false);
      for (const [k, i] of chosenFiles.entries())
        ctx.emit({
          kind: 'access',
          op: 'accessed',
          driveId: drive.id,
          itemId: t.itemId(i),
          actorId: who.user.id,
          actorUpn: who.user.userPrincipalName,
          clientIp: m.clientIp ?? FOREIGN_IP,
          at: new Date(start + k * 40_000).toISOString(),
        });
      return { ...base, scenario: m.scenario, itemIds: chosenFiles.map((i) => t.itemId(i)), from: start };
    }
    case 'anonymousLinkOnSensitive': {
      const start = workingTime(now, offset);
      const timed = stamped(ctx, start, 1000);
      const rootIdx = drive.rootIdx;
      const name = `prod-${rng.int(1000, 9999)}.env`;
      const created = apply(timed, {
        op: 'createItem',
        driveId: drive.id,
        parentId: t.itemId(rootIdx),
        name,
        size: 512,
        actorId: who.user.id,
      });
      const itemId = String(created.itemId ?? created.id);
      apply(timed, { op: 'share', driveId: drive.id, itemId, kind: 'anonymous', actorId: who.user.id });
      return { ...base, scenario: m.scenario, itemIds: [itemId], from: start };
    }
    default:
      throw new MutationError(
        `scenario '${(m as { scenario: string }).scenario}' is none of massDownload, massDelete, massExternalShare, newCountryIp, anonymousLinkOnSensitive`,
      );
  }
}

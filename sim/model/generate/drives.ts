/** OneDrives: which members have one, how many items each holds, and their quota states. */
import { Prng } from '../prng.ts';
import type { SimDrive, SimUser, Tenant } from '../tenant.ts';
import { toBase32 } from '../tenant.ts';
import { DAY } from '../time.ts';
import { generateDriveItems } from './items.ts';
import type { GenerateOptions } from './options.ts';

type QuotaState = 'normal' | 'nearing' | 'critical' | 'exceeded';

export function generateDrives(t: Tenant, rng: Prng, o: GenerateOptions, members: SimUser[]): void {
  const owners = driveOwners(rng, o, members);
  const perDrive = itemBudgets(rng, o, owners.length);
  const states = quotaStates(rng, owners.length);
  let sensitiveCounter = 0;
  for (let k = 0; k < owners.length; k++) {
    const drng = new Prng(o.seed, 1000 + k);
    const d = addDrive(t, drng, owners[k]);
    const used = generateDriveItems(t, d, perDrive[k], drng, o, d.createdMs, () => sensitiveCounter++);
    setQuota(d, drng, states[k], used);
    let lastMod = d.createdMs;
    for (const i of d.items) if (t.items.modified[i] > lastMod) lastMod = t.items.modified[i];
    d.lastModifiedMs = lastMod;
  }
}

/** Members with a provisioned OneDrive (the admin always; with ten or more members, not all). */
function driveOwners(rng: Prng, o: GenerateOptions, members: SimUser[]): SimUser[] {
  const owners: SimUser[] = [];
  for (const u of members) {
    if (u.idx !== 0 && rng.chance(o.unprovisionedRatio)) continue;
    owners.push(u);
  }
  if (o.unprovisionedRatio > 0 && members.length >= 10 && owners.length === members.length) owners.pop();
  return owners;
}

/** Items per drive: log-normal shares of the item budget, every drive at least its root. */
function itemBudgets(rng: Prng, o: GenerateOptions, nDrives: number): number[] {
  const weights = Array.from({ length: nDrives }, () => rng.logNormal(1, 0.9));
  const wsum = weights.reduce((a, b) => a + b, 0) || 1;
  const budget = Math.max(nDrives, Math.floor(o.items));
  const perDrive = weights.map((w) => Math.max(1, Math.floor((w / wsum) * budget)));
  let assigned = perDrive.reduce((a, b) => a + b, 0);
  for (let k = 0; assigned < budget && perDrive.length > 0; k = (k + 1) % perDrive.length) {
    perDrive[k]++;
    assigned++;
  }
  return perDrive;
}

/** Quota states: at least one of each when there are ≥4 drives, on a shuffled order of drives. */
function quotaStates(rng: Prng, nDrives: number): QuotaState[] {
  const states: QuotaState[] = Array.from({ length: nDrives }, () => 'normal');
  const order = states.map((_, k) => k);
  for (let k = order.length - 1; k > 0; k--) {
    const j = rng.int(0, k);
    [order[k], order[j]] = [order[j], order[k]];
  }
  const nEx = nDrives >= 4 ? Math.max(1, Math.round(nDrives * 0.02)) : 0;
  const nCr = nDrives >= 4 ? Math.max(1, Math.round(nDrives * 0.03)) : 0;
  const nNe = nDrives >= 4 ? Math.max(1, Math.round(nDrives * 0.06)) : 0;
  let p = 0;
  for (let k = 0; k < nEx; k++) states[order[p++]] = 'exceeded';
  for (let k = 0; k < nCr; k++) states[order[p++]] = 'critical';
  for (let k = 0; k < nNe; k++) states[order[p++]] = 'nearing';
  return states;
}

/** The drive record of one owner (ids and site from the drive's own PRNG stream), registered on the tenant. */
function addDrive(t: Tenant, drng: Prng, u: SimUser): SimDrive {
  const idBytes = Buffer.alloc(48);
  for (let b = 0; b < 48; b += 4) idBytes.writeUInt32LE(drng.u32(), b);
  let tag = toBase32(drng.u32() % 32 ** 6, 6);
  while (t.driveByTag.has(tag)) tag = toBase32(drng.u32() % 32 ** 6, 6);
  const personal = u.userPrincipalName.replace(/[@.]/g, '_');
  const siteUrl = `https://${t.mySiteHost}/personal/${personal}`;
  const createdMs = Date.parse(u.createdDateTime) + drng.int(1, 10) * DAY;
  const d: SimDrive = {
    idx: t.drives.length,
    id: `b!${idBytes.toString('base64url')}`,
    tag,
    ownerIdx: u.idx,
    createdMs,
    lastModifiedMs: createdMs,
    webUrl: `${siteUrl}/Documents`,
    siteUrl,
    siteId: drng.guid(),
    webId: drng.guid(),
    listId: drng.guid(),
    quotaTotal: 1_099_511_627_776,
    quotaUsed: 0,
    quotaDeleted: 0,
    rootIdx: -1,
    seq: 0,
    epoch: 1,
    logItems: [],
    logSeqs: [],
    items: [],
  };
  t.drives.push(d);
  t.driveById.set(d.id, d);
  t.driveByTag.set(tag, d.idx);
  u.driveIdx = d.idx;
  return d;
}

/** Normal drives use what their items take (plus recycle bin); the others get a small, filled quota. */
function setQuota(d: SimDrive, drng: Prng, state: QuotaState, used: number): void {
  d.quotaDeleted = Math.round(used * drng.next() * 0.05);
  if (state === 'normal') {
    d.quotaUsed = used + d.quotaDeleted;
    return;
  }
  d.quotaTotal = drng.pick([5, 10, 25]) * 1_073_741_824;
  const frac =
    state === 'nearing'
      ? 0.905 + drng.next() * 0.08
      : state === 'critical'
        ? 0.991 + drng.next() * 0.008
        : 1 + drng.next() * 0.05;
  d.quotaUsed = Math.round(d.quotaTotal * frac);
}

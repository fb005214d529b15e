/**
 * The least Graph cost (RU) any client could pay to inventory a tenant exactly, computed
 * from the simulator's ground truth with the simulator's own prices (sim/server/metering.ts,
 * docs/graph-behaviour.md, "Throttling and cost") and the page sizes it serves. See docs/performance.md.
 */
import type { TruthRecord } from '../../sim/contracts.ts';
import { extensionOf, LABEL_CAPABLE_EXTENSIONS } from '../../sim/model/labels.ts';

/** Largest delta page the simulator serves (`$top` is capped at 999; 200 without `$top`). */
export const DELTA_PAGE = 999;
/** Largest /users page when signInActivity is selected (docs/graph-behaviour.md, "Directory"). */
export const USERS_PAGE_WITH_SIGNIN = 120;
/** The MFA report has a fixed page size in the simulator (no `$top`). */
export const MFA_PAGE = 200;
/** Largest page of /groups, /groups/{id}/transitiveMembers and permissions (`$top` ≤ 999). */
export const LIST_PAGE = 999;

/** RU prices, as in sim/server/metering.ts `ruCost`. */
export const PRICE = {
  deltaWithoutToken: 2,
  deltaWithToken: 1,
  list: 2,
  singleGet: 1,
  permission: 5,
  /** A POST action (extractSensitivityLabels) is priced like a write. */
  write: 2,
} as const;

export interface RuMinimum {
  total: number;
  delta: number;
  permissions: number;
  directory: number;
  /** extractSensitivityLabels: one call per live file exposed outside (public/external) that can carry a label. */
  labels: number;
  labelFiles: number;
  deltaPages: number;
  sharingRoots: number;
  items: number;
  drives: number;
  users: number;
  groups: number;
}

/** Per-minute RU budget by licence (user) count (docs/graph-behaviour.md, "Throttling and cost"). */
export function ruBudgetForUsers(users: number): number {
  if (users <= 1_000) return 1_200;
  if (users <= 5_000) return 2_400;
  if (users <= 15_000) return 3_600;
  if (users <= 50_000) return 4_800;
  return 6_000;
}

const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));

/** Streams the truth once and prices the minimum. */
export async function ruMinimum(truth: AsyncIterable<TruthRecord>): Promise<RuMinimum> {
  let users = 0;
  let enabledUsers = 0;
  const itemsPerDrive = new Map<string, number>();
  const membersPerGroup = new Map<string, number>();
  const permsPerRoot = new Map<string, number>();
  let roots = 0;
  let items = 0;
  let labelFiles = 0;
  for await (const r of truth) {
    switch (r.kind) {
      case 'user':
        users++;
        if (r.accountEnabled) enabledUsers++;
        break;
      case 'group':
        if (!membersPerGroup.has(r.id)) membersPerGroup.set(r.id, 0);
        break;
      case 'member':
        membersPerGroup.set(r.groupId, (membersPerGroup.get(r.groupId) ?? 0) + 1);
        break;
      case 'drive':
        if (!itemsPerDrive.has(r.id)) itemsPerDrive.set(r.id, 0);
        break;
      case 'item':
        items++;
        itemsPerDrive.set(r.driveId, (itemsPerDrive.get(r.driveId) ?? 0) + 1);
        if (r.sharedScope !== null) roots++;
        if (
          !r.isFolder &&
          (r.exposure === 'public' || r.exposure === 'external') &&
          LABEL_CAPABLE_EXTENSIONS.includes(extensionOf(r.name))
        )
          labelFiles++;
        break;
      case 'permission': {
        const key = `${r.driveId}/${r.itemId}`;
        permsPerRoot.set(key, (permsPerRoot.get(key) ?? 0) + 1);
        break;
      }
      default:
        break;
    }
  }
  // Delta: the first page of a drive has no token (2 RU), every following page has one (1 RU).
  let deltaPages = 0;
  let delta = 0;
  for (const n of itemsPerDrive.values()) {
    const p = pages(n, DELTA_PAGE);
    deltaPages += p;
    delta += PRICE.deltaWithoutToken + (p - 1) * PRICE.deltaWithToken;
  }
  // Permissions: one call per sharing-hierarchy root (more only past a full page).
  let permissionCalls = 0;
  let extra = 0;
  for (const n of permsPerRoot.values()) extra += pages(n, LIST_PAGE) - 1;
  permissionCalls = roots + extra;
  const permissions = permissionCalls * PRICE.permission;
  // Directory: users (with sign-in activity), MFA report, groups, transitive members, one drive GET per
  // user, the tenant's SharePoint settings and its label catalogue (one GET each).
  let members = 0;
  for (const n of membersPerGroup.values()) members += pages(n, LIST_PAGE);
  const directory =
    pages(users, USERS_PAGE_WITH_SIGNIN) * PRICE.list +
    pages(enabledUsers, MFA_PAGE) * PRICE.list +
    pages(membersPerGroup.size, LIST_PAGE) * PRICE.list +
    members * PRICE.list +
    users * PRICE.singleGet +
    2 * PRICE.singleGet;
  const labels = labelFiles * PRICE.write;
  return {
    total: delta + permissions + directory + labels,
    delta,
    permissions,
    directory,
    labels,
    labelFiles,
    deltaPages,
    sharingRoots: roots,
    items,
    drives: itemsPerDrive.size,
    users,
    groups: membersPerGroup.size,
  };
}

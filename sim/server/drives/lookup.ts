import type { SimDrive } from '../../model/tenant.ts';
import type { Runtime } from '../../runtime.ts';
import { findUser } from '../directory.ts';
import { GraphHttpError, itemNotFound } from '../errors.ts';

/** Resolves the drive and item of a request path, with Graph's 404s. */
export interface DriveLookup {
  driveOf(id: string): SimDrive;
  /** The OneDrive of a user (id or UPN). */
  userDrive(userId: string): SimDrive;
  /** A live item of the drive by id, or `root`. */
  itemOf(d: SimDrive, itemId: string): number;
  /**
   * A live item by path below `from` (`/Documents/Plan.docx`, segments URL-encoded or not,
   * matched without regard to case as OneDrive does); 404 itemNotFound when nothing is there.
   */
  itemByPath(d: SimDrive, from: number, path: string): number;
}

export function driveLookup(rt: Runtime): DriveLookup {
  const t = rt.tenant;
  return {
    driveOf(id) {
      const d = t.driveById.get(id);
      if (!d) throw itemNotFound('The resource could not be found.');
      return d;
    },
    userDrive(userId) {
      const u = findUser(rt, userId);
      if (u.driveIdx < 0) throw new GraphHttpError(404, 'ResourceNotFound', "User's mysite not found.");
      return t.drives[u.driveIdx];
    },
    itemOf(d, itemId) {
      const i = itemId === 'root' ? d.rootIdx : t.parseItemId(d.idx, itemId);
      if (i < 0 || t.items.isDeleted(i)) throw itemNotFound('Item not found');
      return i;
    },
    itemByPath(_d, from, path) {
      let cur = from;
      for (const raw of path.split('/')) {
        if (raw === '') continue;
        let name: string;
        try {
          name = decodeURIComponent(raw).toLowerCase();
        } catch {
          throw itemNotFound();
        }
        const next = t.items.isFolder(cur)
          ? t.liveChildren(cur).find((k) => t.items.name[k].toLowerCase() === name)
          : undefined;
        if (next === undefined) throw itemNotFound();
        cur = next;
      }
      return cur;
    },
  };
}

/**
 * Compact per-item storage: parallel typed arrays indexed by a global item number. A 1,000,000-item
 * tenant costs roughly 60 bytes per item plus its name, instead of a JSON object per item.
 */

export const F_FOLDER = 1;
export const F_DELETED = 2;
export const F_ROOT = 4;

export class ItemStore {
  length = 0;
  capacity: number;
  drive: Int32Array;
  parent: Int32Array;
  name: string[] = [];
  size: Float64Array;
  created: Float64Array;
  modified: Float64Array;
  createdBy: Int32Array;
  modifiedBy: Int32Array;
  /** Drive-local change sequence of the item's last content change. */
  seq: Uint32Array;
  /** Drive-local sequence of the item's last permission change (explicit or inherited), 0 if none. */
  pseq: Uint32Array;
  flags: Uint8Array;
  childCount: Uint32Array;
  version: Uint32Array;

  constructor(capacity: number) {
    this.capacity = Math.max(16, capacity);
    const c = this.capacity;
    this.drive = new Int32Array(c);
    this.parent = new Int32Array(c);
    this.size = new Float64Array(c);
    this.created = new Float64Array(c);
    this.modified = new Float64Array(c);
    this.createdBy = new Int32Array(c);
    this.modifiedBy = new Int32Array(c);
    this.seq = new Uint32Array(c);
    this.pseq = new Uint32Array(c);
    this.flags = new Uint8Array(c);
    this.childCount = new Uint32Array(c);
    this.version = new Uint32Array(c);
  }

  private grow(): void {
    const c = Math.ceil(this.capacity * 1.5) + 16;
    const g = <T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(c);
      b.set(a);
      return b;
    };
    this.drive = g(this.drive);
    this.parent = g(this.parent);
    this.size = g(this.size);
    this.created = g(this.created);
    this.modified = g(this.modified);
    this.createdBy = g(this.createdBy);
    this.modifiedBy = g(this.modifiedBy);
    this.seq = g(this.seq);
    this.pseq = g(this.pseq);
    this.flags = g(this.flags);
    this.childCount = g(this.childCount);
    this.version = g(this.version);
    this.capacity = c;
  }

  add(
    drive: number,
    parent: number,
    name: string,
    flags: number,
    size: number,
    created: number,
    modified: number,
    by: number,
  ): number {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.drive[i] = drive;
    this.parent[i] = parent;
    this.name[i] = name;
    this.flags[i] = flags;
    this.size[i] = size;
    this.created[i] = created;
    this.modified[i] = modified;
    this.createdBy[i] = by;
    this.modifiedBy[i] = by;
    this.version[i] = 1;
    if (parent >= 0) this.childCount[parent]++;
    return i;
  }

  isFolder(i: number): boolean {
    return (this.flags[i] & F_FOLDER) !== 0;
  }
  isDeleted(i: number): boolean {
    return (this.flags[i] & F_DELETED) !== 0;
  }
  isRoot(i: number): boolean {
    return (this.flags[i] & F_ROOT) !== 0;
  }
}

/** The folder tree and files of one drive, and the order its delta feed first serves them in. */
import {
  FILE_STEMS,
  FILE_TYPES,
  PROJECT_WORDS,
  SENSITIVE_FILES,
  SUB_FOLDERS,
  TOP_FOLDERS,
} from '../names.ts';
import type { Prng } from '../prng.ts';
import { F_FOLDER, F_ROOT } from '../store.ts';
import type { SimDrive, Tenant } from '../tenant.ts';
import { DAY } from '../time.ts';
import type { GenerateOptions } from './options.ts';

/** Adds `count` items (root included) to the drive; returns the bytes its files take. */
export function generateDriveItems(
  t: Tenant,
  d: SimDrive,
  count: number,
  r: Prng,
  o: GenerateOptions,
  driveCreated: number,
  nextSensitive: () => number,
): number {
  const it = t.items;
  const owner = d.ownerIdx;
  const ref = o.referenceMs;
  const span = Math.max(DAY, ref - driveCreated);
  const order: number[] = [];
  const root = it.add(d.idx, -1, 'root', F_FOLDER | F_ROOT, 0, driveCreated, driveCreated, owner);
  d.rootIdx = root;
  order.push(root);
  const folders: number[] = [];
  const depth = new Map<number, number>();
  const names = new Map<number, Set<string>>();
  depth.set(root, 0);
  const uniqueName = (parent: number, name: string) => {
    let set = names.get(parent);
    if (!set) {
      set = new Set();
      names.set(parent, set);
    }
    let n = name;
    if (set.has(n)) {
      const dot = name.lastIndexOf('.');
      const stem = dot > 0 ? name.slice(0, dot) : name;
      const ext = dot > 0 ? name.slice(dot) : '';
      for (let c = 1; set.has(n); c++) n = `${stem} (${c})${ext}`;
    }
    set.add(n);
    return n;
  };
  let usedBytes = 0;
  const addFolder = (parent: number, name: string) => {
    const c = driveCreated + r.next() * span * 0.9;
    const f = it.add(
      d.idx,
      parent,
      uniqueName(parent, name),
      F_FOLDER,
      0,
      c,
      c + r.next() * (ref - c),
      owner,
    );
    order.push(f);
    folders.push(f);
    depth.set(f, (depth.get(parent) ?? 0) + 1);
    return f;
  };
  const addFile = (parent: number, name: string, size: number) => {
    const c = driveCreated + r.next() * span;
    const m = r.chance(0.6) ? c : c + r.next() * (ref - c);
    const f = it.add(d.idx, parent, uniqueName(parent, name), 0, size, c, m, owner);
    if (r.chance(0.05)) it.modifiedBy[f] = r.int(0, t.users.length - 1);
    it.version[f] = 1 + (r.chance(0.3) ? r.int(1, 12) : 0);
    usedBytes += size;
    order.push(f);
  };
  let remaining = count - 1;
  const tops = TOP_FOLDERS.filter((_, k) => k === 0 || r.chance(0.6));
  for (const name of tops) {
    if (remaining <= 0) break;
    addFolder(root, name);
    remaining--;
  }
  const documents = folders.length > 0 ? folders[0] : root;
  while (remaining > 0) {
    const x = r.next();
    if (x < 0.1 || folders.length === 0) {
      let parent = folders.length > 0 && r.chance(0.85) ? r.pick(folders) : root;
      if ((depth.get(parent) ?? 0) >= 7) parent = documents;
      const name =
        parent === documents && r.chance(0.5)
          ? `Project ${r.pick(PROJECT_WORDS)}${r.chance(0.4) ? ` ${2019 + r.int(0, 7)}` : ''}`
          : r.pick(SUB_FOLDERS);
      addFolder(parent, name);
    } else if (r.chance(0.0015)) {
      const [name, , size] = SENSITIVE_FILES[nextSensitive() % SENSITIVE_FILES.length];
      addFile(r.chance(0.5) ? documents : r.pick(folders), name, size);
    } else {
      const [ext, , median] = r.weighted(
        FILE_TYPES,
        FILE_TYPES.map((f) => f[3]),
      );
      const stem = r.pick(FILE_STEMS);
      const suffix = r.weighted(
        ['', ' v2', ' - Copy', ' final', ` ${2018 + r.int(0, 8)}`, ` Q${r.int(1, 4)}`, ` (${r.int(1, 9)})`],
        [40, 8, 5, 6, 20, 12, 4],
      );
      const name =
        ext === 'png' && r.chance(0.5)
          ? `Screenshot ${2020 + r.int(0, 6)}-0${r.int(1, 9)}-${10 + r.int(0, 18)} ${r.int(100000, 235959)}.png`
          : `${stem}${suffix}.${ext}`;
      addFile(r.pick(folders), name, Math.max(1, Math.round(r.logNormal(median, 1.1))));
    }
    remaining--;
  }
  // a few folders get their sequence after their children: parents after children in enumerations
  const late: number[] = [];
  const early: number[] = [];
  for (const i of order) {
    if (i !== root && it.isFolder(i) && r.chance(0.05)) late.push(i);
    else early.push(i);
  }
  for (const i of [...early, ...late]) {
    const s = ++d.seq;
    it.seq[i] = s;
    d.logItems.push(i);
    d.logSeqs.push(s);
    d.items.push(i);
  }
  return usedBytes;
}

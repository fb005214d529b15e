/**
 * Sensitivity labels: the tenant's catalogue and the labels its files carry. A label-capable
 * file (Word, Excel, PowerPoint in Open XML, PDF) carries one with probability `share`,
 * decided by a hash of the seed and the item (no PRNG stream: the rest of the tenant does not
 * change with these options); `setItemLabels` overrides that per file.
 */
import type { SimLabelOptions } from '../contracts.ts';
import { MutationError } from './errors.ts';
import { hash01, Prng } from './prng.ts';

/** What extractSensitivityLabels reads labels from ("Enable sensitivity labels for files in SharePoint and OneDrive"). */
export const LABEL_CAPABLE_EXTENSIONS: readonly string[] = [
  'docx',
  'docm',
  'xlsx',
  'xlsm',
  'xlsb',
  'pptx',
  'ppsx',
  'pdf',
];

export type AssignmentMethod = 'standard' | 'privileged' | 'auto';

export interface SimLabel {
  id: string;
  name: string;
  description: string;
  color: string;
  priority: number;
  sensitivity: number;
  tooltip: string;
  hasProtection: boolean;
  /** False for a parent with sublabels: content carries one of its sublabels. */
  isAppliable: boolean;
  parentId: string | null;
}

export interface SimLabelAssignment {
  labelId: string;
  method: AssignmentMethod;
}

/** What reading a file's labels gives. */
export type LabelRead =
  | { kind: 'unsupported'; extension: string }
  | { kind: 'locked' }
  | { kind: 'labels'; labels: SimLabelAssignment[] };

const CATALOGUE: Array<Omit<SimLabel, 'id' | 'parentId'> & { parent?: string }> = [
  {
    name: 'Public',
    description: 'Approved for public release.',
    color: '#0F9D58',
    priority: 0,
    sensitivity: 0,
    tooltip: 'Anyone may see this.',
    hasProtection: false,
    isAppliable: true,
  },
  {
    name: 'General',
    description: 'Business data, not for public release.',
    color: '#4285F4',
    priority: 1,
    sensitivity: 1,
    tooltip: 'Internal business data.',
    hasProtection: false,
    isAppliable: true,
  },
  {
    name: 'Confidential',
    description: 'Sensitive business data.',
    color: '#F4B400',
    priority: 2,
    sensitivity: 2,
    tooltip: 'Share only with people who need it.',
    hasProtection: false,
    isAppliable: true,
  },
  {
    name: 'Highly Confidential',
    description: 'The most sensitive data.',
    color: '#DB4437',
    priority: 3,
    sensitivity: 3,
    tooltip: 'Choose a sublabel.',
    hasProtection: true,
    isAppliable: false,
  },
  {
    name: 'All Employees',
    description: 'Highly confidential, all employees.',
    color: '#DB4437',
    priority: 4,
    sensitivity: 3,
    tooltip: 'Employees only; encrypted.',
    hasProtection: true,
    isAppliable: true,
    parent: 'Highly Confidential',
  },
  {
    name: 'Finance',
    description: 'Highly confidential, finance team.',
    color: '#DB4437',
    priority: 5,
    sensitivity: 3,
    tooltip: 'Finance only; encrypted.',
    hasProtection: true,
    isAppliable: true,
    parent: 'Highly Confidential',
  },
];

const METHODS: AssignmentMethod[] = ['standard', 'auto', 'privileged'];

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

export class SimLabels {
  readonly catalogue: SimLabel[];
  readonly share: number;
  readonly lockedShare: number;
  private readonly seed: number;
  /** Labels set by `setItemLabels`, by item index. */
  private readonly overrides = new Map<number, SimLabelAssignment[]>();

  constructor(seed: number, o: SimLabelOptions = {}) {
    this.seed = seed;
    this.share = o.share ?? 0.3;
    this.lockedShare = o.lockedShare ?? 0;
    if (!(this.share >= 0 && this.share <= 1)) throw new MutationError('labels.share must be in 0..1');
    if (!(this.lockedShare >= 0 && this.lockedShare <= 1))
      throw new MutationError('labels.lockedShare must be in 0..1');
    const ids = new Prng(seed, 43);
    const byName = new Map<string, SimLabel>();
    this.catalogue = CATALOGUE.map(({ parent, ...l }) => {
      const label: SimLabel = {
        ...l,
        id: ids.guid(),
        parentId: parent ? (byName.get(parent)?.id ?? null) : null,
      };
      byName.set(label.name, label);
      return label;
    });
  }

  byId(id: string): SimLabel | undefined {
    return this.catalogue.find((l) => l.id === id);
  }

  /** The labels of file `i` (named `name`), or why they cannot be read. */
  read(i: number, name: string): LabelRead {
    const extension = extensionOf(name);
    if (!LABEL_CAPABLE_EXTENSIONS.includes(extension)) return { kind: 'unsupported', extension };
    if (hash01(this.seed, i, 604) < this.lockedShare) return { kind: 'locked' };
    const set = this.overrides.get(i);
    if (set) return { kind: 'labels', labels: set.map((a) => ({ ...a })) };
    if (hash01(this.seed, i, 601) >= this.share) return { kind: 'labels', labels: [] };
    const appliable = this.catalogue.filter((l) => l.isAppliable);
    const label = appliable[Math.floor(hash01(this.seed, i, 602) * appliable.length)];
    const method = METHODS[Math.floor(hash01(this.seed, i, 603) * METHODS.length)];
    return { kind: 'labels', labels: [{ labelId: label.id, method }] };
  }

  /** Replaces the labels of file `i` (setItemLabels); unknown or non-appliable ids are refused. */
  set(i: number, labelIds: unknown, method: AssignmentMethod = 'privileged'): void {
    if (!Array.isArray(labelIds) || labelIds.some((x) => typeof x !== 'string'))
      throw new MutationError('labelIds must be a list of label ids');
    if (!METHODS.includes(method))
      throw new MutationError(`assignmentMethod must be one of ${METHODS.join(', ')}`);
    for (const id of labelIds as string[]) {
      const label = this.byId(id);
      if (!label) throw new MutationError(`unknown label id '${id}'`, 404);
      if (!label.isAppliable)
        throw new MutationError(`label '${label.name}' has sublabels and cannot be applied`);
    }
    this.overrides.set(
      i,
      (labelIds as string[]).map((labelId) => ({ labelId, method })),
    );
  }
}

import { z } from 'zod';
import { boolOrNull, numOrNull, type ResourceDef, strOrNull } from './types.ts';

/**
 * The tenant's sensitivity label catalogue: GET /security/dataSecurityAndGovernance/sensitivityLabels
 * (v1.0, application permission SensitivityLabel.Read or SensitivityLabels.Read.All). Labels
 * nest their children in `sublabels`; the collector flattens them and gives each child the
 * `parent` reference the beta API serves (see flattenLabels). Files carry label ids only
 * (extractSensitivityLabels): the names come from here.
 */
const labelFields = {
  id: z.string().min(1),
  name: z.string().nullish(),
  displayName: z.string().nullish(),
  description: z.string().nullish(),
  color: z.string().nullish(),
  priority: z.number().nullish(),
  sensitivity: z.number().nullish(),
  toolTip: z.string().nullish(),
  tooltip: z.string().nullish(),
  isEnabled: z.boolean().nullish(),
  isActive: z.boolean().nullish(),
  isAppliable: z.boolean().nullish(),
  hasProtection: z.boolean().nullish(),
  applicableTo: z.string().nullish(),
  parent: z.object({ id: z.string().nullish() }).passthrough().nullish(),
};

export const sensitivityLabelSchema = z
  .object({ ...labelFields, sublabels: z.array(z.object({}).passthrough()).nullish() })
  .passthrough();

export type GraphSensitivityLabel = z.infer<typeof sensitivityLabelSchema>;

/**
 * Labels with their sublabels (any depth) as one flat list, parents first; a child without a
 * `parent` reference gets its parent's id. Entries that are not objects are passed on as they
 * are (the schema reports them).
 */
export function flattenLabels(values: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  const visit = (entry: unknown, parentId: string | null) => {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      out.push(entry);
      return;
    }
    const label = entry as Record<string, unknown>;
    const withParent =
      parentId !== null && (label.parent === undefined || label.parent === null)
        ? { ...label, parent: { id: parentId } }
        : label;
    out.push(withParent);
    const children = label.sublabels;
    if (Array.isArray(children)) {
      const id = typeof label.id === 'string' ? label.id : null;
      for (const child of children) visit(child, id);
    }
  };
  for (const v of values) visit(v, null);
  return out;
}

export const sensitivityLabel = {
  type: 'sensitivity_label',
  table: 'sensitivity_labels',
  description:
    "The tenant's sensitivity labels (sublabels flattened, with parent_id): the names behind the label ids files carry.",
  kind: 'state',
  graph: {
    endpoint: '/security/dataSecurityAndGovernance/sensitivityLabels',
    // The list is small and its shape varies (sublabels nested): read whole.
    select: null,
    permissions: [
      {
        permission: 'SensitivityLabel.Read',
        neededFor:
          'names of the sensitivity labels files carry (optional: without it labels are kept by id only)',
      },
    ],
  },
  collection: 'listing',
  schema: sensitivityLabelSchema,
  key: ['id'] as const,
  columns: {
    name: { kind: 'text', description: 'Label name, e.g. Confidential (what rules match on).' },
    description: { kind: 'text', description: "The admin's description of the label." },
    color: { kind: 'text', description: 'Display color, e.g. #FF0000.' },
    priority: { kind: 'integer', description: 'Priority (order in the label policy).' },
    sensitivity: { kind: 'integer', description: 'Sensitivity value: higher is more sensitive.' },
    tooltip: { kind: 'text', description: 'Tooltip shown to users.' },
    is_enabled: { kind: 'boolean', description: 'Whether the label is enabled (active).' },
    is_appliable: {
      kind: 'boolean',
      description: 'Whether content can carry it (false for a parent with sublabels).',
    },
    has_protection: { kind: 'boolean', description: 'Whether the label applies protection (encryption).' },
    applicable_to: { kind: 'text', description: 'Workloads it applies to, e.g. email,teamwork,file.' },
    parent_id: { kind: 'text', description: 'Id of the parent label of a sublabel; null at the top.' },
  },
  toRow(l, ctx) {
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      id: l.id,
      // displayName is documented but comes back null: the name is in `name`.
      name: strOrNull(l.name) ?? strOrNull(l.displayName),
      description: strOrNull(l.description),
      color: strOrNull(l.color),
      priority: numOrNull(l.priority),
      sensitivity: numOrNull(l.sensitivity),
      tooltip: strOrNull(l.toolTip) ?? strOrNull(l.tooltip),
      is_enabled: boolOrNull(l.isEnabled) ?? boolOrNull(l.isActive),
      is_appliable: boolOrNull(l.isAppliable),
      has_protection: boolOrNull(l.hasProtection),
      applicable_to: strOrNull(l.applicableTo),
      parent_id: strOrNull(l.parent?.id),
      raw: l,
    };
  },
} satisfies ResourceDef<GraphSensitivityLabel>;

import { z } from 'zod';
import { type ResourceDef, strOrNull } from './types.ts';

/**
 * Sensitivity labels of files: one row per file and label, from
 * POST /drives/{d}/items/{i}/extractSensitivityLabels (v1.0, Files.Read.All), which answers an
 * extractSensitivityLabelsResult `{labels: [sensitivityLabelAssignment]}` (the documentation's
 * example wraps it in `{"value": …}`; both are accepted). Read only for files exposed beyond
 * the organization (public or external) and again only when their content changed
 * (src/collect/labels.ts); a label's name comes from the catalogue (sensitivity_labels).
 */
export const itemLabelSchema = z
  .object({
    sensitivityLabelId: z.string().min(1),
    assignmentMethod: z.string().nullish(),
    tenantId: z.string().nullish(),
  })
  .passthrough();

export type GraphLabelAssignment = z.infer<typeof itemLabelSchema>;

export const extractLabelsResultSchema = z.object({ labels: z.array(z.unknown()).nullish() }).passthrough();

/**
 * Extensions SharePoint and OneDrive read sensitivity labels from (Word, Excel, PowerPoint
 * in Open XML, and PDF: "Enable sensitivity labels for files in SharePoint and OneDrive").
 * extractSensitivityLabels "is applicable only for supported file extensions": other files
 * are never sent.
 */
export const LABEL_FILE_EXTENSIONS: readonly string[] = [
  'docx',
  'docm',
  'xlsx',
  'xlsm',
  'xlsb',
  'pptx',
  'ppsx',
  'pdf',
];

export const itemLabel = {
  type: 'item_label',
  table: 'item_labels',
  description:
    'Sensitivity labels of files shared outside the organization (public or external exposure), one row per file and label (id = the sensitivity label id).',
  kind: 'state',
  graph: {
    endpoint: '/drives/{id}/items/{id}/extractSensitivityLabels',
    // A POST action: no $select.
    select: null,
    permissions: [
      {
        permission: 'Files.Read.All',
        neededFor: 'sensitivity labels of files shared outside the organization (extractSensitivityLabels)',
      },
    ],
  },
  collection: 'per-exposed-file',
  schema: itemLabelSchema,
  key: ['drive_id', 'item_id', 'id'] as const,
  keyDescriptions: {
    drive_id: 'Graph id of the drive holding the file.',
    item_id: 'Graph id of the file (drive_items.id).',
  },
  columns: {
    label_name: {
      kind: 'text',
      description:
        'Name of the label from the catalogue (sensitivity_labels); null when the catalogue is not readable or does not hold the label.',
      derived: true,
      volatile: true,
    },
    assignment_method: {
      kind: 'text',
      description: 'How the label was applied: standard, privileged (manually) or auto (by policy).',
    },
    label_tenant_id: {
      kind: 'text',
      description: 'The tenant the label belongs to (another tenant for files labelled elsewhere).',
    },
    c_tag: {
      kind: 'text',
      description:
        "The content tag the labels were read for: 'qxh:' + the file's quickXorHash, else 'ctag:' + its cTag, else 'etag:' + its eTag (delta omits the cTag of changed items on OneDrive for Business; the hash changes exactly when the content does).",
      volatile: true,
    },
    extracted_at: { kind: 'timestamp', description: 'When the labels were read.', volatile: true },
  },
  toRow(a, ctx) {
    const driveId = ctx.scope?.drive_id;
    const itemId = ctx.scope?.item_id;
    if (!driveId || !itemId) throw new Error('item label mapped without a drive_id and item_id scope');
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      drive_id: driveId,
      item_id: itemId,
      id: a.sensitivityLabelId,
      // Filled in by the collector (src/collect/labels.ts): the catalogue's name, the content tag.
      label_name: null,
      assignment_method: strOrNull(a.assignmentMethod),
      label_tenant_id: strOrNull(a.tenantId),
      c_tag: null,
      extracted_at: null,
      raw: a,
    };
  },
} satisfies ResourceDef<GraphLabelAssignment>;

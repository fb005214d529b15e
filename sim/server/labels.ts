/**
 * Sensitivity labels: the catalogue (GET /security/dataSecurityAndGovernance/sensitivityLabels,
 * sublabels nested like v1.0 serves them) and POST …/items/{id}/extractSensitivityLabels.
 */
import type { FastifyInstance } from 'fastify';
import type { SimLabel } from '../model/labels.ts';
import type { SimDrive } from '../model/tenant.ts';
import type { Runtime } from '../runtime.ts';
import { driveLookup } from './drives/lookup.ts';
import { badRequest, GraphHttpError } from './errors.ts';
import { checkOptions, type Query } from './odata.ts';
import { singleValue } from './tenant-settings.ts';

function labelJson(l: SimLabel, all: SimLabel[]): Record<string, unknown> {
  return {
    id: l.id,
    name: l.name,
    // Documented, but null in real answers: clients read `name`.
    displayName: null,
    description: l.description,
    color: l.color,
    priority: l.priority,
    sensitivity: l.sensitivity,
    toolTip: l.tooltip,
    isEnabled: true,
    isAppliable: l.isAppliable,
    isDefault: false,
    isEndpointProtectionEnabled: false,
    hasProtection: l.hasProtection,
    applicationMode: 'manual',
    applicableTo: 'email,teamwork,file',
    autoTooltip: '',
    actionSource: 'manual',
    sublabels: all.filter((c) => c.parentId === l.id).map((c) => labelJson(c, all)),
  };
}

export function registerLabelRoutes(app: FastifyInstance, rt: Runtime): void {
  const t = rt.tenant;
  const lookup = driveLookup(rt);

  app.get('/v1.0/security/dataSecurityAndGovernance/sensitivityLabels', async (req) => {
    checkOptions(req.query as Query, [], 'drive');
    const all = t.labels.catalogue;
    return {
      '@odata.context': `${rt.graphBaseUrl}/$metadata#security/dataSecurityAndGovernance/sensitivityLabels`,
      value: all.filter((l) => l.parentId === null).map((l) => labelJson(l, all)),
    };
  });

  const extract = (d: SimDrive, itemId: string) => {
    const i = lookup.itemOf(d, itemId);
    if (t.items.isFolder(i)) throw badRequest('Sensitivity labels can only be extracted from files.');
    const read = t.labels.read(i, t.items.name[i]);
    // Not documented: the API "is applicable only for supported file extensions".
    if (read.kind === 'unsupported')
      throw badRequest(
        `Sensitivity labels cannot be extracted from files of type '.${read.extension}'.`,
        'notSupported',
      );
    if (read.kind === 'locked')
      throw new GraphHttpError(
        423,
        'fileDoubleKeyEncrypted',
        'The file is protected with double key encryption and cannot be opened to extract sensitivity labels.',
      );
    const labels = read.labels.map((a) => ({
      sensitivityLabelId: a.labelId,
      assignmentMethod: a.method,
      tenantId: t.tenantId,
    }));
    return singleValue(
      rt,
      'microsoft.graph.extractSensitivityLabelsResult',
      'extractSensitivityLabelsResult',
      {
        labels,
      },
    );
  };

  app.post('/v1.0/drives/:driveId/items/:itemId/extractSensitivityLabels', async (req) => {
    const { driveId, itemId } = req.params as { driveId: string; itemId: string };
    return extract(lookup.driveOf(driveId), itemId);
  });
  app.post('/v1.0/users/:userId/drive/items/:itemId/extractSensitivityLabels', async (req) => {
    const { userId, itemId } = req.params as { userId: string; itemId: string };
    return extract(lookup.userDrive(userId), itemId);
  });
}

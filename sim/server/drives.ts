/** OneDrive endpoints: drives, items, children, delta (with every documented quirk) and permissions. */
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.ts';
import { registerDeltaRoutes } from './drives/delta.ts';
import { registerItemRoutes } from './drives/item-routes.ts';
import { driveLookup } from './drives/lookup.ts';
import { registerPermissionRoutes } from './drives/permission-routes.ts';

export { itemPermissions } from './drives/permission-json.ts';

export function registerDriveRoutes(app: FastifyInstance, rt: Runtime): void {
  const lookup = driveLookup(rt);
  registerItemRoutes(app, rt, lookup);
  registerDeltaRoutes(app, rt, lookup);
  registerPermissionRoutes(app, rt, lookup);
}

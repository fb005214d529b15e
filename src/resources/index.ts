import { drive } from './drive.ts';
import { driveItem } from './drive-item.ts';
import { group } from './group.ts';
import { groupMember } from './group-member.ts';
import { itemLabel } from './item-label.ts';
import { permission } from './permission.ts';
import { sensitivityLabel } from './sensitivity-label.ts';
import { tenantSettings } from './tenant-settings.ts';
import type { ResourceDef, ResourceType } from './types.ts';
import { user } from './user.ts';
import { userDrive } from './user-drive.ts';
import { userMfa } from './user-mfa.ts';

export type {
  CollectionStrategy,
  ColumnDef,
  ColumnKind,
  ErrorSubject,
  GraphPermissionUse,
  GraphSource,
  ResourceDef,
  ResourceKind,
  ResourceRow,
  ResourceType,
  RowContext,
} from './types.ts';
export { STANDARD_COLUMNS } from './types.ts';
export {
  drive,
  driveItem,
  group,
  groupMember,
  itemLabel,
  permission,
  sensitivityLabel,
  tenantSettings,
  user,
  userDrive,
  userMfa,
};

/**
 * Every resource type drivewarden collects. Adding one = one file, its name in ResourceType
 * (types.ts) and one line here.
 */
const registry = [
  user,
  userMfa,
  group,
  groupMember,
  drive,
  userDrive,
  driveItem,
  permission,
  itemLabel,
  sensitivityLabel,
  tenantSettings,
] as const;

// Compile-time: every ResourceType has a definition in the registry.
type Unregistered = Exclude<ResourceType, (typeof registry)[number]['type']>;
const everyTypeRegistered: [Unregistered] extends [never] ? true : Unregistered = true;
void everyTypeRegistered;

// biome-ignore lint/suspicious/noExplicitAny: the registry holds defs of different payload types
export const resources: ReadonlyArray<ResourceDef<any>> = registry;

// biome-ignore lint/suspicious/noExplicitAny: see above
export function resourceByType(type: string): ResourceDef<any> {
  const def = resources.find((r) => r.type === type);
  if (!def) throw new Error(`unknown resource type ${type}`);
  return def;
}

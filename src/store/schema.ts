import type { ActivityTables } from './tables/activity.ts';
import type { AlertsTables } from './tables/alerts.ts';
import type { AnomaliesTables } from './tables/anomalies.ts';
import type { AuthTables } from './tables/auth.ts';
import type { ConnectTables } from './tables/connect.ts';
import type { ExposureTables } from './tables/exposure.ts';
import type { InventoryTables } from './tables/inventory.ts';
import type { JobsTables } from './tables/jobs.ts';
import type { PoliciesTables } from './tables/policies.ts';
import type { RealtimeTables } from './tables/realtime.ts';
import type { RemediationTables } from './tables/remediation.ts';
import type { RulesTables } from './tables/rules.ts';
import type { QueryTables } from './tables/saved-queries.ts';
import type { ServiceTables } from './tables/service.ts';
import type { SsoTables } from './tables/sso.ts';
import type { TenantTables } from './tables/tenant.ts';

/**
 * The whole database, as Kysely sees it: one interface per area, each in ./tables/.
 * Adding an area = one tables file, one migration file, one line here and one in
 * ./migrations/index.ts.
 */
export interface Database
  extends InventoryTables,
    RealtimeTables,
    ServiceTables,
    RulesTables,
    TenantTables,
    PoliciesTables,
    QueryTables,
    ActivityTables,
    AnomaliesTables,
    RemediationTables,
    AlertsTables,
    AuthTables,
    ConnectTables,
    ExposureTables,
    SsoTables,
    JobsTables {}

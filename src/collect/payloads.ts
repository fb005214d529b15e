/** Graph payloads as they come: validated by a resource definition, mapped to rows. */
import type { ResourceDef, ResourceRow } from '../resources/types.ts';
import { type ApplyContext, touchRows } from '../store/apply.ts';
import { type CollectError, reportError, rowContext, type SyncContext, zodMessage } from './context.ts';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The id of a payload, when it has one. */
export const idOf = (v: unknown): string | null => (isObj(v) && typeof v.id === 'string' ? v.id : null);

/**
 * The object of a single-object answer (GET /admin/sharepoint/settings, an action's result):
 * the body itself, or its `value` when Graph wraps it (as the documentation's examples show),
 * without OData annotations other than @odata.type.
 */
export function singleObject(body: unknown): unknown {
  if (!isObj(body)) return body;
  const inner = isObj(body.value) ? body.value : body;
  return clean(inner);
}

/** The payload without delta annotations (members@delta, manager@delta, @removed, @odata.context …). */
export function clean(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (!k.includes('@') || k === '@odata.type') out[k] = v;
  return out;
}

/**
 * Maps payloads (with their ids, when known) through a resource definition. A payload the
 * schema rejects becomes an `invalidPayload` error instead of a row.
 */
export function mapPayloads(
  ctx: SyncContext,
  // biome-ignore lint/suspicious/noExplicitAny: payload types differ per resource
  def: ResourceDef<any>,
  payloads: Iterable<[string | null, unknown]>,
  requestId: string | null,
  scope?: string,
): { rows: ResourceRow[]; invalid: CollectError[] } {
  const rows: ResourceRow[] = [];
  const invalid: CollectError[] = [];
  for (const [id, payload] of payloads) {
    const parsed = def.schema.safeParse(payload);
    if (!parsed.success) {
      invalid.push({
        resourceType: def.type,
        resourceId: id,
        scope,
        code: 'invalidPayload',
        message: `unexpected ${def.type} payload: ${zodMessage(parsed.error)}`,
        requestId,
      });
      continue;
    }
    rows.push(def.toRow(parsed.data, rowContext(ctx)));
  }
  return { rows, invalid };
}

/**
 * Records invalid payloads as errors (inside the page's transaction). The objects Graph
 * returned but that could not be mapped keep their stored state, and are marked seen so a
 * sweep spares them.
 */
export async function recordInvalid(
  ctx: SyncContext,
  actx: ApplyContext,
  // biome-ignore lint/suspicious/noExplicitAny: payload types differ per resource
  def: ResourceDef<any>,
  invalid: CollectError[],
): Promise<void> {
  for (const e of invalid) await reportError(ctx, e, actx.db);
  const spare = invalid.map((e) => e.resourceId).filter((x): x is string => !!x);
  if (spare.length > 0) await touchRows(actx, def, {}, spare);
}

import type { ResourceDef } from './types.ts';

/**
 * The `$select` / `$expand` query values of a resource type, built from its definition (the
 * single source of what drivewarden asks Graph for).
 */

export interface SelectOptions {
  /** Include the gated properties (signInActivity): the caller holds their permission. */
  gated?: boolean;
  /** For a delta feed: relations are named in $select (no $expand on delta), plus the delta signals. */
  delta?: boolean;
}

/** 'id,displayName,…' for `$select=`; throws for a resource read without $select. */
export function selectParam(def: ResourceDef<unknown>, opts: SelectOptions = {}): string {
  const { select, expand = [], gated = {}, deltaSignals = [] } = def.graph;
  if (select === null) throw new Error(`${def.type} is read without $select`);
  const names = [...select];
  if (opts.gated) names.push(...Object.keys(gated));
  if (opts.delta) names.push(...expand, ...deltaSignals);
  return names.join(',');
}

/** 'manager($select=id)' for `$expand=`; null when the resource expands nothing. */
export function expandParam(def: ResourceDef<unknown>): string | null {
  const expand = def.graph.expand ?? [];
  return expand.length > 0 ? expand.map((r) => `${r}($select=id)`).join(',') : null;
}

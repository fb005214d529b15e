import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import { expandParam, selectParam } from './graph-query.ts';
import { type ResourceDef, type RowContext, resources } from './index.ts';

/**
 * Every Graph property a mapping reads must be requested: a property read but not named in
 * $select arrives as undefined and its column stays empty for ever (groups'
 * onPremisesSyncEnabled did). The mapping runs over payloads that record the properties it
 * reads, once with nothing present and once with every declared property present (so
 * branches such as "is the root" run too).
 */

const ctx: RowContext = {
  integrationId: 'i',
  tenantId: 't',
  verifiedDomains: ['example.com'],
  scope: { drive_id: 'd', item_id: 'p', group_id: 'g' },
};

/** Properties the Graph request brings: $select (or the full object), expansions, gated, annotations. */
function requested(def: ResourceDef<unknown>): Set<string> | null {
  const g = def.graph;
  if (g.select === null) return null;
  return new Set([
    'id',
    ...g.select,
    ...(g.expand ?? []),
    ...Object.keys(g.gated ?? {}),
    ...(g.annotations ?? []),
  ]);
}

/** The top-level keys the payload schema declares. */
function schemaKeys(def: ResourceDef<unknown>): string[] {
  return Object.keys((def.schema as unknown as z.ZodObject).shape);
}

// A plausible value for a zod schema (zod 4 internals): strings, true, 1, one-element arrays.
function sampleOf(schema: unknown): unknown {
  const d = (schema as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  switch (d.type) {
    case 'optional':
    case 'nullable':
      return sampleOf(d.innerType);
    case 'object':
      return Object.fromEntries(
        Object.entries(d.shape as Record<string, unknown>).map(([k, v]) => [k, sampleOf(v)]),
      );
    case 'array':
      return [sampleOf(d.element)];
    case 'union':
      return sampleOf((d.options as unknown[])[0]);
    case 'string':
      return 'someone_x.com#EXT#@example.com';
    case 'boolean':
      return true;
    case 'number':
      return 1;
    default:
      return {};
  }
}

function recordReads(def: ResourceDef<unknown>, payload: Record<string, unknown>): Set<string> {
  const reads = new Set<string>();
  const proxy = new Proxy(payload, {
    get(target, prop, receiver) {
      if (typeof prop === 'string') reads.add(prop);
      return Reflect.get(target, prop, receiver);
    },
  });
  def.toRow(proxy, ctx);
  def.actor?.(proxy);
  return reads;
}

for (const def of resources) {
  test(`${def.type}: every property the mapping reads is requested from Graph`, () => {
    const declared = new Set(schemaKeys(def));
    const full = sampleOf(def.schema) as Record<string, unknown>;
    const reads = new Set([...recordReads(def, { id: 'x' }), ...recordReads(def, full)]);
    assert.ok(reads.size > 1, `${def.type}: the mapping reads the payload`);
    const want = requested(def);
    for (const prop of reads) {
      // The schema declares everything the mapping relies on…
      assert.ok(declared.has(prop), `${def.type}.toRow reads ${prop}, which its schema does not declare`);
      // …and the request asks for it.
      if (want) assert.ok(want.has(prop), `${def.type}.toRow reads ${prop}, which is not in its $select`);
    }
  });

  test(`${def.type}: every property its schema declares is requested, nothing twice`, () => {
    const want = requested(def);
    if (!want) return;
    for (const prop of schemaKeys(def)) {
      assert.ok(want.has(prop), `${def.type}: schema declares ${prop}, which is not requested`);
    }
    const select = def.graph.select ?? [];
    assert.equal(new Set(select).size, select.length, `${def.type}: $select names a property twice`);
  });
}

test('the $select and $expand values the collector sends', () => {
  const group = resources.find((r) => r.type === 'group') as ResourceDef<unknown>;
  assert.ok(selectParam(group).split(',').includes('onPremisesSyncEnabled'));
  assert.ok(selectParam(group, { delta: true }).endsWith(',members'));
  const user = resources.find((r) => r.type === 'user') as ResourceDef<unknown>;
  assert.ok(selectParam(user, { gated: true }).endsWith(',assignedPlans,signInActivity'));
  assert.ok(!selectParam(user).includes('signInActivity'));
  assert.ok(selectParam(user, { delta: true }).endsWith(',manager'));
  assert.equal(expandParam(user), 'manager($select=id)');
  assert.equal(expandParam(group), null);
});

test('every resource names its Graph permission, collection strategy and kind', () => {
  for (const def of resources) {
    assert.ok(def.graph.permissions.length > 0, `${def.type} names a permission`);
    for (const p of def.graph.permissions)
      assert.ok(p.permission && p.neededFor, `${def.type}: ${p.permission}`);
    assert.ok(def.graph.endpoint.startsWith('/'), `${def.type} names its endpoint`);
    assert.ok(def.collection, `${def.type} names its collection strategy`);
    assert.ok(def.kind === 'state' || def.kind === 'event', `${def.type} is state or event`);
  }
});

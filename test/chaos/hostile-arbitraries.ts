/**
 * fast-check arbitraries for hostile Graph entries, over the resource schemas: the field hit is
 * one the entry carries or one its zod schema declares; the change is a missing field, a wrong
 * type, a huge string, unicode and path characters, a `__proto__`/`constructor`/`prototype` key
 * (at the top or nested), or an object where a scalar belongs. `hostileMutation(entry, schema,
 * seed)` draws one, reproducibly from its seed.
 */
import fc from 'fast-check';
import type { z } from 'zod';
import { driveSchema } from '../../src/resources/drive.ts';
import { driveItemSchema } from '../../src/resources/drive-item.ts';
import { groupSchema } from '../../src/resources/group.ts';
import { groupMemberSchema } from '../../src/resources/group-member.ts';
import { permissionSchema } from '../../src/resources/permission.ts';
import { userSchema } from '../../src/resources/user.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Entry = Record<string, Json>;

export interface Mutation {
  /** "<kind> <field>", e.g. "huge-string name". */
  what: string;
  value: Entry;
}

/** The schema of the entries a Graph URL lists (by path), for the declared field names. */
export function schemaForUrl(url: string): z.ZodObject<z.ZodRawShape> | undefined {
  const path = url.replace(/^https?:\/\/[^/]+/, '').split('?')[0];
  if (/\/permissions$/.test(path)) return permissionSchema as never;
  if (/\/(root\/delta|children)$/.test(path)) return driveItemSchema as never;
  if (/\/members$|\/transitiveMembers$/.test(path)) return groupMemberSchema as never;
  if (/\/groups(\/delta)?$/.test(path)) return groupSchema as never;
  if (/\/users(\/delta)?$/.test(path)) return userSchema as never;
  if (/\/drives?$/.test(path)) return driveSchema as never;
  return undefined;
}

/** Characters file systems, shells, terminals and SQL treat specially, and broken UTF-16. */
const nastyChar = fc.oneof(
  fc.constantFrom(
    '/',
    '\\',
    '..',
    ':',
    '*',
    '?',
    '"',
    '<',
    '>',
    '|',
    '\u0000',
    '\u202e',
    '%n',
    "'",
    ';',
    '\n',
  ),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);
const nastyString = fc.oneof(
  fc.string({ unit: nastyChar, minLength: 1, maxLength: 40 }),
  fc.constantFrom(
    '../../etc/passwd',
    '..\\..\\windows\\system32',
    "'; drop table drive_items; --",
    '<script>alert(1)</script>',
    '',
  ),
);
/** 10–200 kB: a short random unit repeated (drawing 200 kB char by char would be slow). */
const hugeString = fc
  .tuple(fc.integer({ min: 10_000, max: 200_000 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }))
  .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n));
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
) as fc.Arbitrary<Json>;
const pollution = fc.constantFrom<Json>(
  { polluted: 'yes', isAdmin: true },
  { prototype: { polluted: 'yes' } },
  { toString: 'polluted', valueOf: 'polluted', polluted: 'yes' },
);

const clone = (e: Entry): Entry => JSON.parse(JSON.stringify(e));
/** An own key, as JSON.parse makes `__proto__` (a plain assignment would set the prototype). */
const withOwnKey = (o: Entry, key: string, value: Json): Entry => {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
};

/** One mutation of `entry`; fields drawn from its own keys and `schema`'s declared ones. */
export function mutationArbitrary(entry: Entry, schema?: z.ZodObject<z.ZodRawShape>): fc.Arbitrary<Mutation> {
  const fields = [...new Set([...Object.keys(entry), ...Object.keys(schema?.shape ?? {})])];
  const field = fc.constantFrom(...(fields.length > 0 ? fields : ['id']));
  const set = (kind: string, value: fc.Arbitrary<Json>) =>
    fc
      .tuple(field, value)
      .map(([k, v]): Mutation => ({ what: `${kind} ${k}`, value: { ...clone(entry), [k]: v } }));
  // A field can only go missing from the entry itself.
  const own = Object.keys(entry).length > 0 ? fc.constantFrom(...Object.keys(entry)) : field;
  return fc.oneof(
    own.map((k): Mutation => {
      const value = clone(entry);
      delete value[k];
      return { what: `missing ${k}`, value };
    }),
    set('wrong-type', wrongType),
    set('huge-string', hugeString),
    set('nasty-string', nastyString),
    set(
      'nested-object',
      nastyString.map((s) => ({ nested: { deeper: [s] } })),
    ),
    fc
      .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), pollution, fc.boolean(), field)
      .map(([key, value, nested, k]): Mutation => {
        const copy = clone(entry);
        // Nested: inside an object field (parentReference, createdBy, …) when the entry has one.
        const inner = copy[k];
        if (nested && inner && typeof inner === 'object' && !Array.isArray(inner)) {
          withOwnKey(inner, key, value);
          return { what: `proto-key ${k}.${key}`, value: copy };
        }
        return { what: `proto-key ${key}`, value: withOwnKey(copy, key, value) };
      }),
  );
}

/** The mutation the seed draws (fast-check's own seeded generator: same seed, same mutation). */
export function hostileMutation(
  entry: Entry,
  schema: z.ZodObject<z.ZodRawShape> | undefined,
  seed: number,
): Mutation {
  return fc.sample(mutationArbitrary(entry, schema), { seed, numRuns: 1 })[0];
}

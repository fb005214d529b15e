import type { ParamValue } from '../store/sql-params.ts';

/**
 * Built-in example queries for the common questions, runnable by name
 * (`drivewarden query run <name>`) and documented in docs/queries.md (generated from this
 * file by `npm run docs`). Each runs unchanged on SQLite and PostgreSQL (the conventions of
 * rule SQL: `col = true`, no `::` casts, dw_* helpers, `:now` for the current time) and is
 * tested on both against seeded data (examples.test.ts).
 */

export interface ExampleParam {
  description: string;
  /** Used when the parameter is not given; without one the parameter is required. */
  default?: ParamValue;
  /** A value for the docs' command line. */
  example?: string;
}

export interface ExampleQuery {
  /** The name it runs by (saved queries cannot take it). */
  name: string;
  /** The question it answers. */
  title: string;
  /** What the rows are, in a sentence or two. */
  description: string;
  sql: string;
  /** Parameters besides `:now` (always the current time unless given). */
  params?: Record<string, ExampleParam>;
}

const ITEM_JOIN = `join drive_items i
  on i.integration_id = g.integration_id and i.drive_id = g.drive_id and i.id = g.item_id
left join drives d
  on d.integration_id = i.integration_id and d.id = i.drive_id`;

const ACCESS = `case when dw_json_has(g.roles, 'write') = 1 then 'edit' else 'view' end`;

export const EXAMPLE_QUERIES: readonly ExampleQuery[] = [
  {
    name: 'shared-with-anyone',
    title: 'What is shared with anyone who has the link?',
    description:
      'Every file or folder with an Anyone link: its owner, path, the link type (view or edit), when the link ' +
      'expires, and how many items the link opens (a folder opens everything under it).',
    sql: `select d.owner_email as owner, i.path,
  case when i.is_folder = true then 'folder' else 'file' end as kind,
  g.link_type, g.expiration,
  (select count(*) from drive_items r
    where r.integration_id = i.integration_id and r.drive_id = i.drive_id
      and r.access_root_id = i.id and r.deleted_at is null) as items_reachable
from grants g
${ITEM_JOIN}
where g.audience = 'public' and i.deleted_at is null
order by coalesce(d.owner_email, ''), i.path`,
  },
  {
    name: 'shared-outside',
    title: 'What is shared with people outside the organisation?',
    description:
      'Every file or folder shared with an outside address (external) or a B2B guest account (guest), one row ' +
      'per recipient, with view or edit access. Anyone links are in shared-with-anyone.',
    sql: `select d.owner_email as owner, i.path, g.audience,
  coalesce(g.recipient_email, g.login_name) as recipient, g.recipient_name,
  ${ACCESS} as access
from grants g
${ITEM_JOIN}
where g.audience in ('external', 'guest') and i.deleted_at is null
order by coalesce(d.owner_email, ''), i.path, coalesce(g.recipient_email, g.login_name, '')`,
  },
  {
    name: 'who-shares-most',
    title: 'Who shares the most?',
    description:
      'Drive owners ranked by how many of their files and folders are shared beyond themselves, split into ' +
      'Anyone links, outsiders (external addresses and guests) and people inside the organisation (top 20).',
    sql: `select d.owner_email as owner,
  count(distinct g.item_id) as shared_items,
  count(distinct case when g.audience = 'public' then g.item_id end) as with_anyone,
  count(distinct case when g.audience in ('external', 'guest') then g.item_id end) as with_outsiders,
  count(distinct case when g.audience = 'internal' then g.item_id end) as within_organisation
from grants g
${ITEM_JOIN}
where g.audience <> 'none' and i.deleted_at is null and d.deleted_at is null
group by d.owner_email
order by shared_items desc, with_anyone desc, coalesce(d.owner_email, '')
limit 20`,
  },
  {
    name: 'biggest-drives',
    title: 'Which drives are the biggest?',
    description: 'Drives by storage used, with their quota, the share of it used and its state (top 20).',
    sql: `select d.owner_email as owner, d.owner_name, d.quota_used as used_bytes, d.quota_total as total_bytes,
  case when d.quota_total > 0
    then cast(round(100.0 * d.quota_used / d.quota_total, 1) as double precision) end as percent_used,
  d.quota_state
from drives d
where d.deleted_at is null
order by coalesce(d.quota_used, 0) desc, coalesce(d.owner_email, '')
limit 20`,
  },
  {
    name: 'stale-external-shares',
    title: 'Which files are exposed outside but no longer worked on?',
    description:
      'Files that anyone or an outsider can open (exposure public or external, through the file or a folder ' +
      'above it) and that nobody has modified for more than `days` days: candidates for unsharing (the rule ' +
      'item_external_share_not_stale alarms on the same files).',
    sql: `select d.owner_email as owner, i.path, i.exposure, i.modified_at,
  cast(round(dw_days_between(i.modified_at, :now) * 86400) as bigint) / 86400 as days_unmodified
from drive_items i
left join drives d on d.integration_id = i.integration_id and d.id = i.drive_id
where i.deleted_at is null and i.is_folder = false
  and i.exposure in ('public', 'external')
  and dw_days_between(i.modified_at, :now) > :days
order by days_unmodified desc, i.path`,
    params: { days: { description: 'Days without a modification', default: 180 } },
  },
  {
    name: 'guests-with-access',
    title: 'Which guests can open what?',
    description:
      'B2B guest accounts and what they can open: shared with them directly, or with a group they are a member ' +
      'of (one row per guest and shared file or folder).',
    sql: `with guest_grants as (
  select g.integration_id, g.drive_id, g.item_id, ${ACCESS} as access,
    lower(coalesce(g.recipient_email, g.login_name)) as guest, g.recipient_name as guest_name, 'direct' as via
  from grants g
  where g.audience = 'guest'
  union all
  select g.integration_id, g.drive_id, g.item_id, ${ACCESS},
    lower(coalesce(u.mail, u.user_principal_name)), u.display_name,
    'group ' || coalesce(g.recipient_name, g.recipient_id)
  from grants g
  join group_members m
    on m.integration_id = g.integration_id and m.group_id = g.recipient_id and m.deleted_at is null
  join users u
    on u.integration_id = m.integration_id and u.id = m.id and u.deleted_at is null and u.is_guest = true
  where g.recipient_kind = 'group'
)
select g.guest, g.guest_name, d.owner_email as owner, i.path, g.via, g.access
from guest_grants g
${ITEM_JOIN}
where i.deleted_at is null
order by g.guest, coalesce(d.owner_email, ''), i.path`,
  },
  {
    name: 'person-reach',
    title: 'What can this person reach?',
    description:
      'What one person (e-mail, user principal name or user id) can open: their own drive, and files and ' +
      'folders shared with them directly or with a group they are a member of, with how many items each ' +
      'opens. Organization links (anyone in the organisation who has the link) and Anyone links are not ' +
      'listed: see shared-with-anyone. `drivewarden access what` answers the same with link counts.',
    sql: `with person as (
  select u.integration_id, u.id
  from users u
  where u.deleted_at is null
    and (lower(u.mail) = lower(:person) or lower(u.user_principal_name) = lower(:person) or u.id = :person)
),
reached as (
  select g.integration_id, g.drive_id, g.item_id, 'direct' as via, ${ACCESS} as access
  from grants g
  where g.is_owner = false
    and (lower(g.recipient_email) = lower(:person)
      or g.recipient_id in (select p.id from person p where p.integration_id = g.integration_id))
  union all
  select g.integration_id, g.drive_id, g.item_id, 'group ' || coalesce(g.recipient_name, g.recipient_id), ${ACCESS}
  from grants g
  join group_members m
    on m.integration_id = g.integration_id and m.group_id = g.recipient_id and m.deleted_at is null
  join person p on p.integration_id = m.integration_id and p.id = m.id
  where g.recipient_kind = 'group'
  union all
  select r.integration_id, r.drive_id, r.id, 'owner', 'owner'
  from drives d
  join person p on p.integration_id = d.integration_id and p.id = d.owner_id
  join drive_items r on r.integration_id = d.integration_id and r.drive_id = d.id and r.is_root = true
  where d.deleted_at is null
)
select d.owner_email as owner, i.path, g.via, g.access,
  (select count(*) from drive_items x
    where x.integration_id = i.integration_id and x.drive_id = i.drive_id and x.deleted_at is null
      and (g.via = 'owner' or x.access_root_id = i.id)) as items_reachable
from reached g
${ITEM_JOIN}
where i.deleted_at is null
order by coalesce(d.owner_email, ''), i.path, g.via`,
    params: {
      person: {
        description: "The person's e-mail address, user principal name or user id",
        example: 'alice@contoso.com',
      },
    },
  },
];

/** The example of that name, if there is one. */
export function exampleQuery(name: string): ExampleQuery | undefined {
  return EXAMPLE_QUERIES.find((e) => e.name === name);
}

/** The example's parameter defaults (given values win later). */
export function exampleDefaults(example: ExampleQuery): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [name, p] of Object.entries(example.params ?? {}))
    if (p.default !== undefined) out[name] = p.default;
  return out;
}

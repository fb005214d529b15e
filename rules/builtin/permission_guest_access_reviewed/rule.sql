-- One row per live permission: alarm when a recipient signs in as a guest (#ext#,
-- urn:spo:guest, or a directory user of type Guest). The permission's grants are read by
-- correlated subqueries (its primary key), not an aggregate over the whole grants table, so
-- an incremental evaluation's scope predicate reaches the permissions first.
select
  x.id as resource_id,
  x.drive_id,
  x.item_id,
  x.resource_name,
  x.resource_path,
  x.resource_owner,
  case when x.has_guest = 1 then 'alarm' else 'ok' end as status,
  case
    when x.has_guest = 1 then 'guest access to review: ' || x.example
    else 'no guest recipient'
  end as reason
from (
  select
    p.id,
    p.drive_id,
    p.item_id,
    i.name as resource_name,
    i.path as resource_path,
    d.owner_email as resource_owner,
    case when exists (
      select 1
      from grants g
      left join users u
        on u.integration_id = g.integration_id and u.id = g.recipient_id and u.deleted_at is null
      where g.integration_id = p.integration_id
        and g.drive_id = p.drive_id and g.item_id = p.item_id and g.permission_id = p.id
        and (
          g.recipient_kind = 'guest'
          or lower(coalesce(g.login_name, '')) like '%#ext#%'
          or lower(coalesce(g.login_name, '')) like '%urn:spo:guest%'
          or u.is_guest = true
        )
    ) then 1 else 0 end as has_guest,
    (
      select min(coalesce(g.recipient_email, g.login_name))
      from grants g
      left join users u
        on u.integration_id = g.integration_id and u.id = g.recipient_id and u.deleted_at is null
      where g.integration_id = p.integration_id
        and g.drive_id = p.drive_id and g.item_id = p.item_id and g.permission_id = p.id
        and (
          g.recipient_kind = 'guest'
          or lower(coalesce(g.login_name, '')) like '%#ext#%'
          or lower(coalesce(g.login_name, '')) like '%urn:spo:guest%'
          or u.is_guest = true
        )
    ) as example
  from permissions p
  left join drive_items i
    on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
  left join drives d
    on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
  where p.integration_id = :integration_id
    and p.deleted_at is null
) x

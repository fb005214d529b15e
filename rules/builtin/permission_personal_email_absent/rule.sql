-- One row per live permission: alarm when a recipient's e-mail domain is a consumer one. The
-- grants are read per permission by correlated subqueries (its primary key), not an aggregate
-- over the whole grants table, so an incremental evaluation's scope predicate reaches the
-- permissions first.
select
  x.id as resource_id,
  x.drive_id,
  x.item_id,
  x.resource_name,
  x.resource_path,
  x.resource_owner,
  case when x.has_personal = 1 then 'alarm' else 'ok' end as status,
  case
    when x.has_personal = 1 then 'shared with a personal mailbox: ' || x.example
    else 'no recipient with a personal mailbox'
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
      select 1 from grants g
      where g.integration_id = p.integration_id
        and g.drive_id = p.drive_id and g.item_id = p.item_id and g.permission_id = p.id
        and g.recipient_domain in (:personal_domains)
    ) then 1 else 0 end as has_personal,
    (
      select min(g.recipient_email) from grants g
      where g.integration_id = p.integration_id
        and g.drive_id = p.drive_id and g.item_id = p.item_id and g.permission_id = p.id
        and g.recipient_domain in (:personal_domains)
    ) as example
  from permissions p
  left join drive_items i
    on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
  left join drives d
    on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
  where p.integration_id = :integration_id
    and p.deleted_at is null
) x

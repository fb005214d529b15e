-- One row per live permission: alarm for an Anyone (anonymous) link.
select
  p.id as resource_id,
  p.drive_id,
  p.item_id,
  i.name as resource_name,
  i.path as resource_path,
  d.owner_email as resource_owner,
  case when p.link_scope = 'anonymous' then 'alarm' else 'ok' end as status,
  case
    when p.link_scope = 'anonymous'
      then 'Anyone link (' || coalesce(p.link_type, 'unknown type') || ') lets whoever holds its URL open the item without signing in'
    else 'not an Anyone link'
  end as reason,
  p.link_type,
  p.link_scope
from permissions p
left join drive_items i
  on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
left join drives d
  on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
where p.integration_id = :integration_id
  and p.deleted_at is null

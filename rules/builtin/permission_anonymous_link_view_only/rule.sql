-- One row per live permission. For Anyone links: alarm when the link can edit (type edit or
-- the write role); error when neither its type nor its roles say what it grants.
select
  p.id as resource_id,
  p.drive_id,
  p.item_id,
  i.name as resource_name,
  i.path as resource_path,
  d.owner_email as resource_owner,
  case
    when coalesce(p.link_scope, '') <> 'anonymous' then 'ok'
    when p.link_type = 'edit' or dw_json_has(p.roles, 'write') = 1 then 'alarm'
    when p.link_type in ('view', 'embed') or dw_json_has(p.roles, 'read') = 1 then 'ok'
    else 'error'
  end as status,
  case
    when coalesce(p.link_scope, '') <> 'anonymous' then 'not an Anyone link'
    when p.link_type = 'edit' or dw_json_has(p.roles, 'write') = 1
      then 'Anyone link lets whoever holds its URL edit the item'
    when p.link_type in ('view', 'embed') or dw_json_has(p.roles, 'read') = 1 then 'Anyone link is view-only'
    else 'Anyone link of unknown type: neither its link type nor its roles say view or edit'
  end as reason,
  p.link_type
from permissions p
left join drive_items i
  on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
left join drives d
  on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
where p.integration_id = :integration_id
  and p.deleted_at is null

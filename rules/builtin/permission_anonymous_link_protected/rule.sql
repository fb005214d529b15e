-- One row per live permission. For Anyone links: alarm unless the link blocks downloads or
-- has a password.
select
  p.id as resource_id,
  p.drive_id,
  p.item_id,
  i.name as resource_name,
  i.path as resource_path,
  d.owner_email as resource_owner,
  case
    when coalesce(p.link_scope, '') <> 'anonymous' then 'ok'
    when p.prevents_download = true or p.has_password = true then 'ok'
    else 'alarm'
  end as status,
  case
    when coalesce(p.link_scope, '') <> 'anonymous' then 'not an Anyone link'
    when p.has_password = true then 'Anyone link requires a password'
    when p.prevents_download = true then 'Anyone link blocks downloads'
    when p.link_type = 'edit' then 'editable Anyone link (edit links cannot block downloads) without a password'
    else 'Anyone link neither blocks downloads nor requires a password'
  end as reason
from permissions p
left join drive_items i
  on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
left join drives d
  on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
where p.integration_id = :integration_id
  and p.deleted_at is null

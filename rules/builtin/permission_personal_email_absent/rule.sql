-- One row per live permission: alarm when a recipient's e-mail domain is a consumer one.
with personal as (
  select g.drive_id, g.item_id, g.permission_id, min(g.recipient_email) as example
  from grants g
  where g.integration_id = :integration_id
    and g.recipient_domain in (:personal_domains)
  group by g.drive_id, g.item_id, g.permission_id
)
select
  p.id as resource_id,
  p.drive_id,
  p.item_id,
  i.name as resource_name,
  i.path as resource_path,
  d.owner_email as resource_owner,
  case when x.permission_id is null then 'ok' else 'alarm' end as status,
  case
    when x.permission_id is null then 'no recipient with a personal mailbox'
    else 'shared with a personal mailbox: ' || x.example
  end as reason
from permissions p
left join personal x
  on x.drive_id = p.drive_id and x.item_id = p.item_id and x.permission_id = p.id
left join drive_items i
  on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
left join drives d
  on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
where p.integration_id = :integration_id
  and p.deleted_at is null

-- One row per live permission: alarm when a recipient signs in as a guest (#ext#,
-- urn:spo:guest, or a directory user of type Guest).
with guests as (
  select g.drive_id, g.item_id, g.permission_id, min(coalesce(g.recipient_email, g.login_name)) as example
  from grants g
  left join users u
    on u.integration_id = g.integration_id and u.id = g.recipient_id and u.deleted_at is null
  where g.integration_id = :integration_id
    and (
      g.recipient_kind = 'guest'
      or lower(coalesce(g.login_name, '')) like '%#ext#%'
      or lower(coalesce(g.login_name, '')) like '%urn:spo:guest%'
      or u.is_guest = true
    )
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
    when x.permission_id is null then 'no guest recipient'
    else 'guest access to review: ' || x.example
  end as reason
from permissions p
left join guests x
  on x.drive_id = p.drive_id and x.item_id = p.item_id and x.permission_id = p.id
left join drive_items i
  on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
left join drives d
  on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
where p.integration_id = :integration_id
  and p.deleted_at is null

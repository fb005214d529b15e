-- One row per live folder that is a sharing root: alarm when it is open to Anyone or outside.
select
  i.id as resource_id,
  i.drive_id,
  i.id as item_id,
  i.name as resource_name,
  i.path as resource_path,
  d.owner_email as resource_owner,
  case when i.exposure in ('public', 'external') then 'alarm' else 'ok' end as status,
  case
    when i.exposure = 'public' then 'folder open to anyone with a link, with everything below it'
    when i.exposure = 'external' then 'folder shared outside the tenant, with everything below it'
    else 'folder shared inside the tenant only (' || coalesce(i.exposure, 'unknown') || ')'
  end as reason,
  case when i.exposure = 'public' then 'high' end as severity,
  i.exposure
from drive_items i
left join drives d
  on d.integration_id = i.integration_id and d.id = i.drive_id and d.deleted_at is null
where i.integration_id = :integration_id
  and i.deleted_at is null
  and i.is_folder = true
  and i.access_root_id = i.id

-- One row per live key or secret file: alarm when its effective exposure is public or external.
select
  i.id as resource_id,
  i.drive_id,
  i.id as item_id,
  i.name as resource_name,
  i.path as resource_path,
  d.owner_email as resource_owner,
  case
    when i.exposure is null then 'error'
    when i.exposure in ('public', 'external') then 'alarm'
    else 'ok'
  end as status,
  case
    when i.exposure is null then 'key or secret file whose exposure is not known yet (its parent has not been collected)'
    when i.exposure = 'public' then 'key or secret file open to anyone with a link'
    when i.exposure = 'external' then 'key or secret file shared outside the tenant'
    else 'key or secret file not exposed outside the tenant (' || i.exposure || ')'
  end as reason,
  case when i.exposure = 'public' then 'critical' end as severity,
  i.exposure,
  i.access_root_id
from drive_items i
left join drives d
  on d.integration_id = i.integration_id and d.id = i.drive_id and d.deleted_at is null
where i.integration_id = :integration_id
  and i.deleted_at is null
  and i.is_folder = false
  and (lower(i.name) in (:sensitive_names) or i.extension in (:sensitive_extensions))

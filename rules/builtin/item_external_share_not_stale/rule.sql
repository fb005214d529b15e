-- One row per live file exposed outside the tenant (effective exposure public or external).
select
  i.id as resource_id,
  i.drive_id,
  i.id as item_id,
  i.name as resource_name,
  i.path as resource_path,
  d.owner_email as resource_owner,
  case
    when i.modified_at is null then 'error'
    when dw_days_between(i.modified_at, :now) > :stale_days then 'alarm'
    else 'ok'
  end as status,
  case
    when i.modified_at is null then 'exposed ' || i.exposure || ' but its modification time is unknown'
    when dw_days_between(i.modified_at, :now) > :stale_days
      then 'exposed ' || i.exposure || ' and not modified for '
        || (cast(round(dw_days_between(i.modified_at, :now) * 86400) as bigint) / 86400) || ' days'
    else 'exposed ' || i.exposure || ', modified within ' || cast(:stale_days as integer) || ' days'
  end as reason,
  i.exposure,
  i.access_root_id
from drive_items i
left join drives d
  on d.integration_id = i.integration_id and d.id = i.drive_id and d.deleted_at is null
where i.integration_id = :integration_id
  and i.deleted_at is null
  and i.is_folder = false
  and i.exposure in ('public', 'external')

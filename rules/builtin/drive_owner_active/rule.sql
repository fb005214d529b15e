-- One row per live drive: alarm when its owner is disabled or missing from the directory.
select
  d.id as resource_id,
  d.id as drive_id,
  coalesce(d.owner_name, d.owner_email, d.name) as resource_name,
  d.web_url as resource_path,
  d.owner_email as resource_owner,
  case
    when d.owner_id is null then 'error'
    when u.id is null then 'alarm'
    when u.account_enabled is null then 'error'
    when u.account_enabled = false then 'alarm'
    else 'ok'
  end as status,
  case
    when d.owner_id is null then 'the drive names no owner'
    when u.id is null then 'the owner is not among the directory''s users (deleted or gone)'
    when u.account_enabled is null then 'whether the owner''s account is enabled is unknown'
    when u.account_enabled = false then 'the owner''s account is disabled'
    else 'the owner''s account exists and is enabled'
  end as reason
from drives d
left join users u
  on u.integration_id = d.integration_id and u.id = d.owner_id and u.deleted_at is null
where d.integration_id = :integration_id
  and d.deleted_at is null

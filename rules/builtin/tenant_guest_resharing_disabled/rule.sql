-- One row per integration: whether guests may reshare items they don't own.
select
  s.id as resource_id,
  case
    when s.is_resharing_by_external_users_enabled = false then 'ok'
    when s.sharing_capability = 'disabled' then 'ok'
    when s.is_resharing_by_external_users_enabled = true then 'alarm'
    else 'error'
  end as status,
  case
    when s.is_resharing_by_external_users_enabled = false then 'guests cannot reshare items they don''t own'
    when s.sharing_capability = 'disabled' then 'external sharing is off, so guests cannot reshare'
    when s.is_resharing_by_external_users_enabled = true then 'guests may reshare files, folders and sites they don''t own'
    else 'the resharing setting was not in the settings Graph returned'
  end as reason,
  'SharePoint and OneDrive sharing' as resource_name,
  s.sharing_capability
from tenant_settings s
where s.integration_id = :integration_id and s.deleted_at is null

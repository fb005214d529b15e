-- One row per enabled member who owns a live drive: alarm when not registered for MFA.
select
  u.id as resource_id,
  u.user_principal_name as resource_name,
  u.mail as resource_owner,
  case
    when m.id is null then 'error'
    when m.is_mfa_registered is null then 'error'
    when m.is_mfa_registered = true then 'ok'
    else 'alarm'
  end as status,
  case
    when m.id is null then 'the user is not in the MFA registration report'
    when m.is_mfa_registered is null then 'the MFA registration report does not say whether the user is registered'
    when m.is_mfa_registered = true then 'registered for MFA'
    else 'not registered for MFA'
  end as reason
from users u
left join user_mfa m
  on m.integration_id = u.integration_id and m.id = u.id and m.deleted_at is null
where u.integration_id = :integration_id
  and u.deleted_at is null
  and u.account_enabled = true
  and coalesce(u.is_guest, false) = false
  and exists (
    select 1 from drives d
    where d.integration_id = u.integration_id and d.owner_id = u.id and d.deleted_at is null
  )

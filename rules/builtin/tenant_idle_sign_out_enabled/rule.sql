-- One row per integration: the idle session sign-out policy.
select
  s.id as resource_id,
  case
    when s.idle_sign_out_enabled is null then 'error'
    when s.idle_sign_out_enabled = false then 'alarm'
    when s.idle_sign_out_after_seconds is null then 'error'
    when s.idle_sign_out_after_seconds > :max_sign_out_seconds then 'alarm'
    else 'ok'
  end as status,
  case
    when s.idle_sign_out_enabled is null then 'the idle sign-out policy was not in the settings Graph returned'
    when s.idle_sign_out_enabled = false then 'idle sessions are never signed out'
    when s.idle_sign_out_after_seconds is null then 'the idle sign-out time was not in the settings Graph returned'
    when s.idle_sign_out_after_seconds > :max_sign_out_seconds
      then 'idle sessions are signed out only after ' || cast(s.idle_sign_out_after_seconds as text)
        || ' s, more than ' || cast(cast(:max_sign_out_seconds as integer) as text) || ' s'
    else 'idle sessions are signed out after ' || cast(s.idle_sign_out_after_seconds as text) || ' s'
  end as reason,
  'SharePoint and OneDrive sessions' as resource_name,
  s.idle_sign_out_after_seconds
from tenant_settings s
where s.integration_id = :integration_id and s.deleted_at is null

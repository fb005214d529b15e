-- One row per live guest: alarm when the invitation has been pending for more than
-- :pending_days days.
select
  u.id as resource_id,
  u.user_principal_name as resource_name,
  u.mail as resource_owner,
  case
    when coalesce(u.external_user_state, '') <> 'PendingAcceptance' then 'ok'
    when coalesce(u.external_user_state_changed_at, u.created_at) is null then 'error'
    when dw_days_between(coalesce(u.external_user_state_changed_at, u.created_at), :now) > :pending_days then 'alarm'
    else 'ok'
  end as status,
  case
    when coalesce(u.external_user_state, '') <> 'PendingAcceptance'
      then 'invitation ' || coalesce(lower(u.external_user_state), 'state not reported')
    when coalesce(u.external_user_state_changed_at, u.created_at) is null
      then 'invitation pending since an unknown time'
    when dw_days_between(coalesce(u.external_user_state_changed_at, u.created_at), :now) > :pending_days
      then 'invitation pending for '
        || (cast(round(dw_days_between(coalesce(u.external_user_state_changed_at, u.created_at), :now) * 86400) as bigint) / 86400)
        || ' days'
    else 'invitation pending for less than ' || cast(:pending_days as integer) || ' days'
  end as reason
from users u
where u.integration_id = :integration_id
  and u.deleted_at is null
  and u.is_guest = true

-- One row per integration: whether guests must accept invitations with the invited account.
select
  s.id as resource_id,
  case
    when s.is_require_accepting_user_to_match_invited_user_enabled = true then 'ok'
    when s.sharing_capability = 'disabled' then 'ok'
    when s.is_require_accepting_user_to_match_invited_user_enabled = false then 'alarm'
    else 'error'
  end as status,
  case
    when s.is_require_accepting_user_to_match_invited_user_enabled = true
      then 'guests must sign in with the account the invitation was sent to'
    when s.sharing_capability = 'disabled' then 'external sharing is off, so no guest is invited'
    when s.is_require_accepting_user_to_match_invited_user_enabled = false
      then 'a guest can accept an invitation with another account than the one it was sent to'
    else 'the invited-account setting was not in the settings Graph returned'
  end as reason,
  'SharePoint and OneDrive sharing' as resource_name,
  s.sharing_capability
from tenant_settings s
where s.integration_id = :integration_id and s.deleted_at is null

-- One row per integration: the tenant's sharing capability (sharepointSettings.sharingCapability).
select
  s.id as resource_id,
  case
    when s.sharing_capability in ('disabled', 'existingExternalUserSharingOnly') then 'ok'
    when s.sharing_capability in ('externalUserSharingOnly', 'externalUserAndGuestSharing') then 'alarm'
    else 'error'
  end as status,
  case
    when s.sharing_capability = 'disabled' then 'external sharing is off: people in the organization only'
    when s.sharing_capability = 'existingExternalUserSharingOnly' then 'external sharing is limited to existing guests'
    when s.sharing_capability = 'externalUserSharingOnly'
      then 'users can share with new guests (sharing capability externalUserSharingOnly)'
    when s.sharing_capability = 'externalUserAndGuestSharing'
      then 'users can share with anyone through links that need no sign-in (sharing capability externalUserAndGuestSharing)'
    when s.sharing_capability is null then 'the sharing capability was not in the settings Graph returned'
    else 'unknown sharing capability ' || s.sharing_capability
  end as reason,
  case when s.sharing_capability = 'externalUserAndGuestSharing' then 'critical' end as severity,
  'SharePoint and OneDrive sharing' as resource_name,
  s.sharing_capability
from tenant_settings s
where s.integration_id = :integration_id and s.deleted_at is null

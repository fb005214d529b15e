-- One row per integration: the domain restriction of external sharing, when sharing is on.
select
  s.id as resource_id,
  case
    when s.sharing_capability = 'disabled' then 'ok'
    when s.sharing_capability is null then 'error'
    when s.sharing_domain_restriction_mode = 'allowList' then 'ok'
    when s.sharing_domain_restriction_mode in ('none', 'blockList') then 'alarm'
    else 'error'
  end as status,
  case
    when s.sharing_capability = 'disabled' then 'external sharing is off'
    when s.sharing_capability is null then 'the sharing capability was not in the settings Graph returned'
    when s.sharing_domain_restriction_mode = 'allowList' then 'external sharing is limited to the allowed domains'
    when s.sharing_domain_restriction_mode = 'none' then 'external sharing is not restricted by domain'
    when s.sharing_domain_restriction_mode = 'blockList'
      then 'external sharing is open to every domain but the blocked ones'
    when s.sharing_domain_restriction_mode is null
      then 'the domain restriction mode was not in the settings Graph returned'
    else 'unknown domain restriction mode ' || s.sharing_domain_restriction_mode
  end as reason,
  'SharePoint and OneDrive sharing' as resource_name,
  s.sharing_capability,
  s.sharing_domain_restriction_mode,
  s.sharing_allowed_domains
from tenant_settings s
where s.integration_id = :integration_id and s.deleted_at is null

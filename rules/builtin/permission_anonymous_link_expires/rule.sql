-- One row per live permission. For Anyone links: alarm when the link never expires (null
-- expiration: Graph's 0001-01-01 or no value) or expires more than :max_days days from :now.
select
  p.id as resource_id,
  p.drive_id,
  p.item_id,
  i.name as resource_name,
  i.path as resource_path,
  d.owner_email as resource_owner,
  case
    when coalesce(p.link_scope, '') <> 'anonymous' then 'ok'
    when p.expiration is null then 'alarm'
    when dw_days_between(:now, p.expiration) > :max_days then 'alarm'
    else 'ok'
  end as status,
  case
    when coalesce(p.link_scope, '') <> 'anonymous' then 'not an Anyone link'
    when p.expiration is null then 'Anyone link never expires'
    when dw_days_between(:now, p.expiration) > :max_days
      then 'Anyone link expires in ' || (cast(round(dw_days_between(:now, p.expiration) * 86400) as bigint) / 86400)
        || ' days, more than the ' || cast(:max_days as integer) || ' allowed'
    when dw_days_between(p.expiration, :now) >= 0 then 'Anyone link has expired'
    else 'Anyone link expires within ' || cast(:max_days as integer) || ' days'
  end as reason,
  p.expiration
from permissions p
left join drive_items i
  on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
left join drives d
  on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
where p.integration_id = :integration_id
  and p.deleted_at is null

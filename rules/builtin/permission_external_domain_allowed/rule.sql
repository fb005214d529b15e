-- One row per live permission. Its outside recipients (grants to guests and outside addresses)
-- are checked against :allowed_domains; an empty list (bound as NULL) allows none.
with outside as (
  select
    g.drive_id,
    g.item_id,
    g.permission_id,
    sum(case when g.recipient_domain is null then 0 when g.recipient_domain in (:allowed_domains) then 0 else 1 end) as not_allowed,
    sum(case when g.recipient_domain is null then 1 else 0 end) as unknown,
    min(case when g.recipient_domain in (:allowed_domains) then null else g.recipient_domain end) as example
  from grants g
  where g.integration_id = :integration_id
    and g.recipient_kind in ('guest', 'external')
  group by g.drive_id, g.item_id, g.permission_id
)
select
  p.id as resource_id,
  p.drive_id,
  p.item_id,
  i.name as resource_name,
  i.path as resource_path,
  d.owner_email as resource_owner,
  case
    when o.permission_id is null then 'ok'
    when o.not_allowed > 0 then 'alarm'
    when o.unknown > 0 then 'error'
    else 'ok'
  end as status,
  case
    when o.permission_id is null then 'no recipient outside the tenant'
    when o.not_allowed > 0 then 'shared with a recipient in a domain that is not allowed: ' || o.example
    when o.unknown > 0 then 'shared with a recipient outside the tenant whose e-mail domain is unknown'
    else 'every recipient outside the tenant is in an allowed domain'
  end as reason
from permissions p
left join outside o
  on o.drive_id = p.drive_id and o.item_id = p.item_id and o.permission_id = p.id
left join drive_items i
  on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
left join drives d
  on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
where p.integration_id = :integration_id
  and p.deleted_at is null

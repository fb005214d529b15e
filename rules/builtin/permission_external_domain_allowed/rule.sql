-- One row per live permission. Its outside recipients (grants to guests and outside addresses)
-- are checked against :allowed_domains; an empty list (bound as NULL) allows none. The grants
-- are read per permission by correlated subqueries (its primary key), not an aggregate over the
-- whole grants table, so an incremental evaluation's scope predicate reaches the permissions first.
select
  x.id as resource_id,
  x.drive_id,
  x.item_id,
  x.resource_name,
  x.resource_path,
  x.resource_owner,
  case
    when x.outside = 0 then 'ok'
    when x.not_allowed > 0 then 'alarm'
    when x.unknown > 0 then 'error'
    else 'ok'
  end as status,
  case
    when x.outside = 0 then 'no recipient outside the tenant'
    when x.not_allowed > 0 then 'shared with a recipient in a domain that is not allowed: ' || x.example
    when x.unknown > 0 then 'shared with a recipient outside the tenant whose e-mail domain is unknown'
    else 'every recipient outside the tenant is in an allowed domain'
  end as reason
from (
  select
    p.id,
    p.drive_id,
    p.item_id,
    i.name as resource_name,
    i.path as resource_path,
    d.owner_email as resource_owner,
    (
      select count(*) from grants g
      where g.integration_id = p.integration_id
        and g.drive_id = p.drive_id and g.item_id = p.item_id and g.permission_id = p.id
        and g.recipient_kind in ('guest', 'external')
    ) as outside,
    (
      select sum(case when g.recipient_domain is null then 0 when g.recipient_domain in (:allowed_domains) then 0 else 1 end)
      from grants g
      where g.integration_id = p.integration_id
        and g.drive_id = p.drive_id and g.item_id = p.item_id and g.permission_id = p.id
        and g.recipient_kind in ('guest', 'external')
    ) as not_allowed,
    (
      select sum(case when g.recipient_domain is null then 1 else 0 end)
      from grants g
      where g.integration_id = p.integration_id
        and g.drive_id = p.drive_id and g.item_id = p.item_id and g.permission_id = p.id
        and g.recipient_kind in ('guest', 'external')
    ) as unknown,
    (
      select min(case when g.recipient_domain in (:allowed_domains) then null else g.recipient_domain end)
      from grants g
      where g.integration_id = p.integration_id
        and g.drive_id = p.drive_id and g.item_id = p.item_id and g.permission_id = p.id
        and g.recipient_kind in ('guest', 'external')
    ) as example
  from permissions p
  left join drive_items i
    on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
  left join drives d
    on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
  where p.integration_id = :integration_id
    and p.deleted_at is null
) x

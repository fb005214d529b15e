-- One row per live drive. The owner is inactive when the last interactive sign-in (or, never
-- signed in, the account's creation) is more than :inactive_days days before :now; sharing
-- means a live sharing root in the drive that reaches someone (exposure other than private).
-- The roots are counted per drive by a correlated subquery, not an aggregate over the whole
-- table, so an incremental evaluation's scope predicate reaches the drives before the count.
select
  x.id as resource_id,
  x.id as drive_id,
  coalesce(x.owner_name, x.owner_email, x.name) as resource_name,
  x.web_url as resource_path,
  x.owner_email as resource_owner,
  case
    when x.user_id is null then 'error'
    when x.sign_in_last is null and x.created_at is null then 'error'
    when dw_days_between(coalesce(x.sign_in_last, x.created_at), :now) <= :inactive_days then 'ok'
    when x.roots = 0 then 'ok'
    else 'alarm'
  end as status,
  case
    when x.user_id is null then 'the owner is not among the directory''s users: activity unknown'
    when x.sign_in_last is null and x.created_at is null then 'the owner has neither a sign-in nor a creation time'
    when dw_days_between(coalesce(x.sign_in_last, x.created_at), :now) <= :inactive_days
      then 'the owner signed in (or was created) within ' || cast(:inactive_days as integer) || ' days'
    when x.roots = 0 then 'the owner is inactive but shares nothing'
    when x.sign_in_last is null
      then 'the owner never signed in and shares ' || x.roots || ' item(s)'
    else 'the owner has not signed in for '
      || (cast(round(dw_days_between(x.sign_in_last, :now) * 86400) as bigint) / 86400)
      || ' days and shares ' || x.roots || ' item(s)'
  end as reason,
  x.roots as shared_roots
from (
  select
    d.id, d.name, d.web_url, d.owner_name, d.owner_email,
    u.id as user_id, u.sign_in_last, u.created_at,
    (
      select count(*)
      from drive_items i
      where i.integration_id = d.integration_id
        and i.drive_id = d.id
        and i.deleted_at is null
        and i.access_root_id = i.id
        and i.exposure in ('public', 'external', 'internal')
    ) as roots
  from drives d
  left join users u
    on u.integration_id = d.integration_id and u.id = d.owner_id and u.deleted_at is null
  where d.integration_id = :integration_id
    and d.deleted_at is null
) x

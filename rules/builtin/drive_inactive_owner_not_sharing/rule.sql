-- One row per live drive. The owner is inactive when the last interactive sign-in (or, never
-- signed in, the account's creation) is more than :inactive_days days before :now; sharing
-- means a live sharing root in the drive that reaches someone (exposure other than private).
with shared as (
  select i.drive_id, count(*) as roots
  from drive_items i
  where i.integration_id = :integration_id
    and i.deleted_at is null
    and i.access_root_id = i.id
    and i.exposure in ('public', 'external', 'internal')
  group by i.drive_id
)
select
  d.id as resource_id,
  d.id as drive_id,
  coalesce(d.owner_name, d.owner_email, d.name) as resource_name,
  d.web_url as resource_path,
  d.owner_email as resource_owner,
  case
    when u.id is null then 'error'
    when u.sign_in_last is null and u.created_at is null then 'error'
    when dw_days_between(coalesce(u.sign_in_last, u.created_at), :now) <= :inactive_days then 'ok'
    when s.roots is null then 'ok'
    else 'alarm'
  end as status,
  case
    when u.id is null then 'the owner is not among the directory''s users: activity unknown'
    when u.sign_in_last is null and u.created_at is null then 'the owner has neither a sign-in nor a creation time'
    when dw_days_between(coalesce(u.sign_in_last, u.created_at), :now) <= :inactive_days
      then 'the owner signed in (or was created) within ' || cast(:inactive_days as integer) || ' days'
    when s.roots is null then 'the owner is inactive but shares nothing'
    when u.sign_in_last is null
      then 'the owner never signed in and shares ' || s.roots || ' item(s)'
    else 'the owner has not signed in for '
      || (cast(round(dw_days_between(u.sign_in_last, :now) * 86400) as bigint) / 86400)
      || ' days and shares ' || s.roots || ' item(s)'
  end as reason,
  coalesce(s.roots, 0) as shared_roots
from drives d
left join users u
  on u.integration_id = d.integration_id and u.id = d.owner_id and u.deleted_at is null
left join shared s
  on s.drive_id = d.id
where d.integration_id = :integration_id
  and d.deleted_at is null

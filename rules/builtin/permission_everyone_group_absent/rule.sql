-- One row per live permission: alarm on a grant to the Everyone claims (by login name, any
-- identity kind); "Everyone" is high, "Everyone except external users" the rule's medium.
with everyone as (
  select
    g.drive_id,
    g.item_id,
    g.permission_id,
    max(case when lower(g.login_name) = 'c:0(.s|true' then 1 else 0 end) as everyone,
    max(case when lower(g.login_name) like 'c:0-.f|rolemanager|spo-grid-all-users%' then 1 else 0 end) as members
  from grants g
  where g.integration_id = :integration_id
    and (lower(g.login_name) = 'c:0(.s|true' or lower(g.login_name) like 'c:0-.f|rolemanager|spo-grid-all-users%')
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
    when e.everyone = 1 then 'alarm'
    when e.members = 1 and :include_everyone_except_external = true then 'alarm'
    else 'ok'
  end as status,
  case
    when e.everyone = 1 then 'shared with Everyone: every account in the tenant, guests included'
    when e.members = 1 and :include_everyone_except_external = true
      then 'shared with Everyone except external users: every member of the tenant'
    when e.members = 1 then 'shared with Everyone except external users (not checked: include_everyone_except_external is off)'
    else 'not shared with an Everyone claim'
  end as reason,
  case when e.everyone = 1 then 'high' end as severity
from permissions p
left join everyone e
  on e.drive_id = p.drive_id and e.item_id = p.item_id and e.permission_id = p.id
left join drive_items i
  on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id and i.deleted_at is null
left join drives d
  on d.integration_id = p.integration_id and d.id = p.drive_id and d.deleted_at is null
where p.integration_id = :integration_id
  and p.deleted_at is null

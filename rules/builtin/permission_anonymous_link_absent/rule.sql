-- One row per live sharing root (a live item with live permissions of its own): alarm while
-- any of them is an Anyone (anonymous) link. Keyed by the item, not the link: Graph gives a
-- re-created link a new permission id, and a re-share must reopen the item's finding.
-- The links are counted per item by correlated subqueries (permissions by drive and item), so
-- an incremental evaluation's scope predicate reaches the items first.
select
  x.id as resource_id,
  x.drive_id,
  x.id as item_id,
  x.name as resource_name,
  x.path as resource_path,
  x.owner_email as resource_owner,
  case when x.links > 0 then 'alarm' else 'ok' end as status,
  case
    when x.links = 0 then 'no Anyone link'
    else x.links || case when x.links = 1 then ' Anyone link (' else ' Anyone links (' end
      || substr(
        case when x.edit_links > 0 then ', ' || x.edit_links || ' edit' else '' end
          || case when x.view_links > 0 then ', ' || x.view_links || ' view' else '' end
          || case when x.links - x.edit_links - x.view_links > 0
            then ', ' || (x.links - x.edit_links - x.view_links) || ' of another or unknown type'
            else '' end,
        3)
      || case when x.links = 1 then ') lets' else ') let' end
      || ' whoever holds the URL open the item without signing in'
  end as reason,
  x.links as anyone_links
from (
  select
    i.drive_id, i.id, i.name, i.path, d.owner_email,
    (
      select count(*) from permissions p
      where p.integration_id = i.integration_id and p.drive_id = i.drive_id and p.item_id = i.id
        and p.deleted_at is null and p.link_scope = 'anonymous'
    ) as links,
    (
      select count(*) from permissions p
      where p.integration_id = i.integration_id and p.drive_id = i.drive_id and p.item_id = i.id
        and p.deleted_at is null and p.link_scope = 'anonymous' and p.link_type = 'edit'
    ) as edit_links,
    (
      select count(*) from permissions p
      where p.integration_id = i.integration_id and p.drive_id = i.drive_id and p.item_id = i.id
        and p.deleted_at is null and p.link_scope = 'anonymous' and p.link_type = 'view'
    ) as view_links
  from drive_items i
  left join drives d
    on d.integration_id = i.integration_id and d.id = i.drive_id and d.deleted_at is null
  where i.integration_id = :integration_id
    and i.deleted_at is null
    and exists (
      select 1 from permissions p
      where p.integration_id = i.integration_id and p.drive_id = i.drive_id and p.item_id = i.id
        and p.deleted_at is null
    )
) x

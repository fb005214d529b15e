-- Per live file: its restricted label, if any (by name, or a sublabel of a restricted label),
-- and a label it carries that has no name in the catalogue. Evaluated: every file with a
-- restricted label (alarm when public or external), and exposed files whose labels cannot be
-- judged (error).
-- A file's labels are read by correlated subqueries (item_labels' primary key), not an
-- aggregate over the whole table, so an incremental evaluation's scope predicate reaches the
-- files first.
with judged as (
  select *
  from (
    select
      di.drive_id, di.id, di.name, di.path, di.exposure, d.owner_email,
      (
        select min(case
          when dw_in_nocase(il.label_name, :restricted_labels) = 1
            or dw_in_nocase(p.name, :restricted_labels) = 1
          then il.label_name
        end)
        from item_labels il
        left join sensitivity_labels l
          on l.integration_id = il.integration_id and l.id = il.id and l.deleted_at is null
        left join sensitivity_labels p
          on p.integration_id = l.integration_id and p.id = l.parent_id and p.deleted_at is null
        where il.integration_id = di.integration_id and il.drive_id = di.drive_id
          and il.item_id = di.id and il.deleted_at is null
      ) as restricted_label,
      (
        select min(il.id)
        from item_labels il
        where il.integration_id = di.integration_id and il.drive_id = di.drive_id
          and il.item_id = di.id and il.deleted_at is null and il.label_name is null
      ) as unnamed_label,
      le.outcome, le.error_code
    from drive_items di
    left join drives d on d.integration_id = di.integration_id and d.id = di.drive_id
    left join label_extractions le
      on le.integration_id = di.integration_id and le.drive_id = di.drive_id and le.item_id = di.id
    where di.integration_id = :integration_id and di.deleted_at is null and di.is_folder = false
  ) f
  where f.restricted_label is not null
    or (f.exposure in ('public', 'external')
        and (f.unnamed_label is not null or f.outcome in ('locked', 'failed')))
)
select
  j.id as resource_id,
  j.drive_id,
  case
    when j.restricted_label is not null and j.exposure in ('public', 'external') then 'alarm'
    when j.restricted_label is not null and j.exposure is not null then 'ok'
    else 'error'
  end as status,
  case
    when j.restricted_label is not null and j.exposure = 'public'
      then 'labelled ' || j.restricted_label || ' and reachable by anyone with a link'
    when j.restricted_label is not null and j.exposure = 'external'
      then 'labelled ' || j.restricted_label || ' and shared with people outside the organization'
    when j.restricted_label is not null and j.exposure is not null
      then 'labelled ' || j.restricted_label || ', not shared outside the organization'
    when j.restricted_label is not null
      then 'labelled ' || j.restricted_label || '; who can reach it is not known yet (its folder was not collected)'
    when j.unnamed_label is not null
      then 'shared outside the organization, with label ' || j.unnamed_label || ' that has no name in the label catalogue'
    else 'shared outside the organization; its labels could not be read (' || coalesce(j.error_code, j.outcome) || ')'
  end as reason,
  j.name as resource_name,
  j.path as resource_path,
  j.owner_email as resource_owner,
  j.exposure,
  j.restricted_label as label_name
from judged j

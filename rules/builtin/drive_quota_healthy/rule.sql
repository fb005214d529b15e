-- One row per live drive: alarm on a quota state other than normal (derived from the bytes
-- when Graph gave no state).
select
  q.id as resource_id,
  q.id as drive_id,
  q.resource_name,
  q.web_url as resource_path,
  q.owner_email as resource_owner,
  case when q.state is null then 'error' when q.state = 'normal' then 'ok' else 'alarm' end as status,
  case
    when q.state is null then 'the drive reports neither a quota state nor its used and total bytes'
    when q.percent is null then 'quota ' || q.state
    else 'quota ' || q.state || ': ' || q.percent || '% of ' || q.quota_total || ' bytes used'
  end as reason,
  case when q.state in ('critical', 'exceeded') then 'high' end as severity,
  q.quota_used,
  q.quota_total
from (
  select
    d.id,
    coalesce(d.owner_name, d.owner_email, d.name) as resource_name,
    d.web_url,
    d.owner_email,
    d.quota_used,
    d.quota_total,
    case when d.quota_total > 0 and d.quota_used is not null
      then cast(round(100.0 * d.quota_used / d.quota_total) as bigint) end as percent,
    coalesce(
      d.quota_state,
      case
        when d.quota_total is null or d.quota_used is null or d.quota_total <= 0 then null
        when d.quota_used >= d.quota_total then 'exceeded'
        when d.quota_total - d.quota_used < d.quota_total * 0.01 then 'critical'
        when d.quota_total - d.quota_used < d.quota_total * 0.1 then 'nearing'
        else 'normal'
      end
    ) as state
  from drives d
  where d.integration_id = :integration_id
    and d.deleted_at is null
) q

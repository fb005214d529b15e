-- One row per live user drive to which a storage policy applies (see rule.yaml for the order).
with group_sizes as (
  select gm.group_id, count(*) as members
  from group_members gm
  where gm.integration_id = :integration_id and gm.deleted_at is null
  group by gm.group_id
),
user_drives as (
  select d.id, d.owner_id
  from drives d
  where d.integration_id = :integration_id and d.deleted_at is null and d.owner_kind = 'user'
),
candidates as (
  select ud.id as drive_id, p.id as policy_id, 0 as scope_rank, 0 as group_members
  from user_drives ud
  join storage_policies p
    on p.integration_id = :integration_id and p.scope_kind = 'user' and p.scope_id = ud.owner_id
  union all
  select ud.id, p.id, 1, gs.members
  from user_drives ud
  join group_members gm
    on gm.integration_id = :integration_id and gm.id = ud.owner_id and gm.deleted_at is null
  join storage_policies p
    on p.integration_id = :integration_id and p.scope_kind = 'group' and p.scope_id = gm.group_id
  join group_sizes gs on gs.group_id = gm.group_id
),
chosen as (
  select drive_id, policy_id, group_members,
    row_number() over (partition by drive_id order by scope_rank, group_members, policy_id) as pick
  from candidates
),
measured as (
  select d.id, d.name, d.web_url, d.owner_name, d.owner_email, d.quota_used, d.quota_total,
    p.id as policy_id, p.scope_kind, p.scope_id, p.limit_bytes, p.limit_percent,
    p.warning_threshold, p.violation_threshold,
    case when p.scope_kind = 'group' then c.group_members end as group_members,
    case
      when p.limit_bytes is not null then p.limit_bytes
      -- integer arithmetic in basis points: the same bytes on both dialects
      when d.quota_total > 0 then d.quota_total * cast(round(p.limit_percent * 100) as bigint) / 10000
    end as limit_eff
  from chosen c
  join drives d on d.integration_id = :integration_id and d.id = c.drive_id
  join storage_policies p on p.integration_id = :integration_id and p.id = c.policy_id
  where c.pick = 1
),
-- sizes in binary units with one decimal, rounded half up in integer arithmetic (no float
-- formatting, which differs between the dialects)
judged as (
  select m.*,
    case
      when m.quota_used is null or m.limit_eff is null or m.limit_eff <= 0 then 'error'
      when m.quota_used > m.violation_threshold * m.limit_eff then 'violation'
      when m.quota_used >= m.warning_threshold * m.limit_eff then 'warning'
      else 'ok'
    end as verdict,
    case
      when m.quota_used >= 1099511627776 then
        cast((m.quota_used * 10 + 549755813888) / 1099511627776 / 10 as text) || '.'
        || cast((m.quota_used * 10 + 549755813888) / 1099511627776 % 10 as text) || ' TB'
      when m.quota_used >= 1073741824 then
        cast((m.quota_used * 10 + 536870912) / 1073741824 / 10 as text) || '.'
        || cast((m.quota_used * 10 + 536870912) / 1073741824 % 10 as text) || ' GB'
      when m.quota_used >= 1048576 then
        cast((m.quota_used * 10 + 524288) / 1048576 / 10 as text) || '.'
        || cast((m.quota_used * 10 + 524288) / 1048576 % 10 as text) || ' MB'
      else cast(m.quota_used as text) || ' B'
    end as used_text,
    case
      when m.limit_eff >= 1099511627776 then
        cast((m.limit_eff * 10 + 549755813888) / 1099511627776 / 10 as text) || '.'
        || cast((m.limit_eff * 10 + 549755813888) / 1099511627776 % 10 as text) || ' TB'
      when m.limit_eff >= 1073741824 then
        cast((m.limit_eff * 10 + 536870912) / 1073741824 / 10 as text) || '.'
        || cast((m.limit_eff * 10 + 536870912) / 1073741824 % 10 as text) || ' GB'
      when m.limit_eff >= 1048576 then
        cast((m.limit_eff * 10 + 524288) / 1048576 / 10 as text) || '.'
        || cast((m.limit_eff * 10 + 524288) / 1048576 % 10 as text) || ' MB'
      else cast(m.limit_eff as text) || ' B'
    end as limit_text
  from measured m
)
select
  j.id as resource_id,
  j.id as drive_id,
  case j.verdict when 'ok' then 'ok' when 'error' then 'error' else 'alarm' end as status,
  case j.verdict
    when 'violation' then 'high'
    when 'warning' then 'medium'
  end as severity,
  case
    when j.quota_used is null then
      'Graph did not report the used bytes of this drive; storage policy '
      || cast(j.policy_id as text) || ' cannot be checked'
    when j.limit_eff is null or j.limit_eff <= 0 then
      'storage policy ' || cast(j.policy_id as text)
      || ' limits this drive to a percent of its quota, and Graph did not report the quota'
    else
      case j.verdict
        when 'violation' then 'over its storage limit: '
        when 'warning' then 'nearing its storage limit: '
        else 'within its storage limit: '
      end
      || j.used_text || ' used of ' || j.limit_text || ' ('
      || cast(j.quota_used * 100 / j.limit_eff as text) || '%), '
      || case j.scope_kind when 'user' then 'user' else 'group' end
      || ' policy ' || cast(j.policy_id as text)
  end as reason,
  coalesce(j.owner_name, j.owner_email, j.name) as resource_name,
  j.web_url as resource_path,
  j.owner_email as resource_owner,
  j.policy_id,
  j.scope_kind as policy_scope,
  j.scope_id as policy_scope_id,
  j.group_members as policy_group_members,
  j.quota_used as used_bytes,
  j.limit_eff as limit_bytes,
  j.warning_threshold,
  j.violation_threshold
from judged j
order by j.id

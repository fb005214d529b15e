import { Link, useParams } from 'react-router-dom';
import { rowPath } from '../api.ts';
import { bytes, count, when } from '../format.ts';
import { ErrorBox, Exposure, Loading, Table, useApi } from '../ui.tsx';

/** A change of a directory object, as the inventory API lists it. */
interface HistoryEntry {
  at: string;
  action: string;
  fields: string[];
  actor: string | null;
  source: string;
}
interface Reach {
  roots: { driveId: string; rootId: string | null; via: string; groupId: string | null; roles: string[] }[];
  linkRoots: { organization: number; anyone: number };
  items: { driveId: string; id: string; path: string | null; exposure: string | null; via: string }[];
  truncated: boolean;
}
interface Drive {
  integrationId: string;
  id: string;
  name: string | null;
  driveType: string | null;
  ownerName: string | null;
  ownerEmail: string | null;
  quotaUsed: number | null;
  quotaTotal: number | null;
  quotaState: string | null;
}
interface UserDetail {
  user: {
    displayName: string | null;
    upn: string | null;
    mail: string | null;
    userType: string | null;
    accountEnabled: boolean | null;
    department: string | null;
    jobTitle: string | null;
    lastSignInAt: string | null;
    mfaRegistered: boolean | null;
  };
  drives: Drive[];
  groups: { id: string; displayName: string | null }[];
  reach: Reach;
  history: HistoryEntry[];
}
interface GroupDetail {
  group: { displayName: string | null; mail: string | null; description: string | null; memberCount: number };
  members: { id: string; memberType: string | null; displayName: string | null; upn: string | null }[];
  membersTruncated: boolean;
  reach: Reach;
  history: HistoryEntry[];
}
interface DriveDetail {
  drive: Drive & { quotaRemaining: number | null; createdAt: string | null };
  exposure: Record<'public' | 'external' | 'internal' | 'private', { files: number; bytes: number }>;
  history: HistoryEntry[];
}

const yesNo = (v: boolean | null) => (v === null ? 'unknown' : v ? 'yes' : 'no');

function History({ rows }: { rows: HistoryEntry[] }) {
  return (
    <>
      <h2>Change history</h2>
      <Table
        rows={rows}
        rowKey={(e, i) => `${e.at}-${i}`}
        empty="No changes recorded."
        columns={[
          { key: 'at', label: 'When', render: (e) => when(e.at) },
          { key: 'action', label: 'Change', render: (e) => e.action },
          { key: 'fields', label: 'Fields', render: (e) => e.fields.join(', ') || '—' },
          { key: 'by', label: 'By', render: (e) => e.actor ?? '—' },
          { key: 'source', label: 'Seen by', render: (e) => e.source },
        ]}
      />
    </>
  );
}

/** What a user or group can open: sharing roots and items, directly, through groups or links. */
function ReachTables({ integrationId, reach }: { integrationId: string; reach: Reach }) {
  return (
    <>
      <h2>What it can reach</h2>
      <p className="muted">
        Besides these: {count(reach.linkRoots.organization)} items shared with the whole organization and{' '}
        {count(reach.linkRoots.anyone)} with anyone who has the link.
      </p>
      <Table
        rows={reach.items}
        rowKey={(i) => `${i.driveId}/${i.id}`}
        empty="Nothing shared with it."
        caption={`Items it can open${reach.truncated ? ' (the first ones)' : ''}`}
        columns={[
          {
            key: 'path',
            label: 'Item',
            render: (i) => (
              <Link to={`/inventory/items/${rowPath(integrationId, i.id)}`}>{i.path ?? i.id}</Link>
            ),
          },
          { key: 'exposure', label: 'Exposure', render: (i) => <Exposure value={i.exposure} /> },
          { key: 'via', label: 'Via', render: (i) => i.via },
        ]}
      />
    </>
  );
}

export function UserPage() {
  const { integrationId = '', id = '' } = useParams();
  const detail = useApi<UserDetail>(`/inventory/users/${rowPath(integrationId, id)}`);
  const d = detail.data;
  return (
    <section>
      <p>
        <Link to="/inventory?tab=users">← Users</Link>
      </p>
      <ErrorBox error={detail.error} />
      <Loading when={detail.loading && !d} />
      {d ? (
        <>
          <h1>{d.user.displayName ?? d.user.upn ?? id}</h1>
          <dl className="facts">
            <dt>Sign-in name</dt>
            <dd>{d.user.upn ?? '—'}</dd>
            <dt>Type</dt>
            <dd>{d.user.userType ?? '—'}</dd>
            <dt>Enabled</dt>
            <dd>{yesNo(d.user.accountEnabled)}</dd>
            <dt>MFA registered</dt>
            <dd>{yesNo(d.user.mfaRegistered)}</dd>
            <dt>Department · title</dt>
            <dd>
              {d.user.department ?? '—'} · {d.user.jobTitle ?? '—'}
            </dd>
            <dt>Last sign-in</dt>
            <dd>{when(d.user.lastSignInAt)}</dd>
          </dl>
          <p>
            {d.user.upn ? (
              <Link to={`/activity?${new URLSearchParams({ upn: d.user.upn })}`}>Activity timeline</Link>
            ) : null}
          </p>
          <h2>Drives</h2>
          <Table
            rows={d.drives}
            rowKey={(r) => r.id}
            empty="No drive."
            columns={[
              {
                key: 'name',
                label: 'Drive',
                render: (r) => (
                  <Link to={`/inventory/drives/${rowPath(r.integrationId, r.id)}`}>{r.name ?? r.id}</Link>
                ),
              },
              { key: 'used', label: 'Used', render: (r) => bytes(r.quotaUsed), className: 'num' },
              { key: 'state', label: 'Quota state', render: (r) => r.quotaState ?? '—' },
            ]}
          />
          <h2>Groups</h2>
          <ul>
            {d.groups.length === 0 ? <li className="muted">None.</li> : null}
            {d.groups.map((g) => (
              <li key={g.id}>
                <Link to={`/inventory/groups/${rowPath(integrationId, g.id)}`}>{g.displayName ?? g.id}</Link>
              </li>
            ))}
          </ul>
          <ReachTables integrationId={integrationId} reach={d.reach} />
          <History rows={d.history} />
        </>
      ) : null}
    </section>
  );
}

export function GroupPage() {
  const { integrationId = '', id = '' } = useParams();
  const detail = useApi<GroupDetail>(`/inventory/groups/${rowPath(integrationId, id)}`);
  const d = detail.data;
  return (
    <section>
      <p>
        <Link to="/inventory?tab=groups">← Groups</Link>
      </p>
      <ErrorBox error={detail.error} />
      <Loading when={detail.loading && !d} />
      {d ? (
        <>
          <h1>{d.group.displayName ?? id}</h1>
          <p>{d.group.description}</p>
          <h2>Members ({count(d.group.memberCount)}, nested groups expanded)</h2>
          <Table
            rows={d.members}
            rowKey={(m) => m.id}
            empty="No members."
            columns={[
              {
                key: 'name',
                label: 'Member',
                render: (m) =>
                  m.memberType === 'group' ? (
                    <Link to={`/inventory/groups/${rowPath(integrationId, m.id)}`}>
                      {m.displayName ?? m.id}
                    </Link>
                  ) : (
                    <Link to={`/inventory/users/${rowPath(integrationId, m.id)}`}>
                      {m.displayName ?? m.id}
                    </Link>
                  ),
              },
              { key: 'upn', label: 'Sign-in name', render: (m) => m.upn ?? '—' },
              { key: 'type', label: 'Type', render: (m) => m.memberType ?? '—' },
            ]}
          />
          {d.membersTruncated ? <p className="muted">The first members only.</p> : null}
          <ReachTables integrationId={integrationId} reach={d.reach} />
          <History rows={d.history} />
        </>
      ) : null}
    </section>
  );
}

export function DrivePage() {
  const { integrationId = '', id = '' } = useParams();
  const detail = useApi<DriveDetail>(`/inventory/drives/${rowPath(integrationId, id)}`);
  const d = detail.data;
  return (
    <section>
      <p>
        <Link to="/inventory?tab=drives">← Drives</Link>
      </p>
      <ErrorBox error={detail.error} />
      <Loading when={detail.loading && !d} />
      {d ? (
        <>
          <h1>{d.drive.name ?? id}</h1>
          <dl className="facts">
            <dt>Owner</dt>
            <dd>
              {d.drive.ownerName ?? '—'} {d.drive.ownerEmail ? `(${d.drive.ownerEmail})` : ''}
            </dd>
            <dt>Used</dt>
            <dd>
              {bytes(d.drive.quotaUsed)} of {bytes(d.drive.quotaTotal)} ({d.drive.quotaState ?? 'unknown'})
            </dd>
            <dt>Created</dt>
            <dd>{when(d.drive.createdAt)}</dd>
          </dl>
          <h2>Files by exposure</h2>
          <Table
            rows={(['public', 'external', 'internal', 'private'] as const).map((e) => ({
              e,
              ...d.exposure[e],
            }))}
            rowKey={(r) => r.e}
            columns={[
              {
                key: 'e',
                label: 'Exposure',
                render: (r) => (
                  <Link
                    to={`/inventory?${new URLSearchParams({ exposure: r.e, integrationId, driveId: id })}`}
                  >
                    {r.e}
                  </Link>
                ),
              },
              { key: 'files', label: 'Files', render: (r) => count(r.files), className: 'num' },
              { key: 'bytes', label: 'Size', render: (r) => bytes(r.bytes), className: 'num' },
            ]}
          />
          <History rows={d.history} />
        </>
      ) : null}
    </section>
  );
}

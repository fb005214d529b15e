import { Link, useParams } from 'react-router-dom';
import { rowPath } from '../api.ts';
import { bytes, text, when } from '../format.ts';
import { RemediatePanel } from '../remediate.tsx';
import { useIsAdmin } from '../session.tsx';
import { ErrorBox, Exposure, Loading, Severity, Table, useApi } from '../ui.tsx';
import type { InventoryItem } from './Inventory.tsx';

interface Accessor {
  kind: string;
  id: string | null;
  name: string | null;
  upn: string | null;
  via: string;
  roles: string[];
  audience?: string;
  viaGroup?: { id: string | null; name: string | null };
  linkScope?: string | null;
  expiration?: string | null;
}
interface ResourceDetails {
  item: InventoryItem & Record<string, unknown>;
  reach: { accessors: Accessor[] } & Record<string, unknown>;
  permissions: {
    id: string;
    roles: string[];
    linkType: string | null;
    linkScope: string | null;
    recipientKind: string | null;
    recipientEmail: string | null;
    recipientName: string | null;
    recipients?: string[];
    isExternal: boolean;
    isGuest?: boolean;
    expiration: string | null;
    firstSeen?: string;
  }[];
  sharingTimeline: { at: string; action: string; summary: string; actor: string | null }[];
  history: {
    at: string;
    action: string;
    fields: string[] | null;
    before: unknown;
    after: unknown;
    actor: string | null;
    source: string;
  }[];
  findings: { id: number; ruleId: string; severity: string; status: string; title: string }[];
}

const VIA: Record<string, string> = {
  owner: 'owner',
  direct: 'shared directly',
  group: 'group membership',
  organization_link: 'organization link',
  anyone_link: 'anyone link',
  link: 'sharing link',
};

export function ResourcePage() {
  const { integrationId = '', id = '' } = useParams();
  const details = useApi<ResourceDetails>(`/inventory/items/${rowPath(integrationId, id)}`);
  const d = details.data;
  const isAdmin = useIsAdmin();
  return (
    <section>
      <p>
        <Link to="/inventory">← Inventory</Link>
      </p>
      <ErrorBox error={details.error} />
      <Loading when={details.loading && !d} />
      {d ? (
        <>
          <h1>{d.item.name ?? d.item.id}</h1>
          <dl className="facts">
            <dt>Path</dt>
            <dd className="path">{d.item.path ?? '—'}</dd>
            <dt>Exposure</dt>
            <dd>
              <Exposure value={d.item.exposure} />
            </dd>
            <dt>Owner</dt>
            <dd>{d.item.owner ?? '—'}</dd>
            <dt>Size</dt>
            <dd>{bytes(d.item.size)}</dd>
            <dt>Modified</dt>
            <dd>{when(d.item.modifiedAt)}</dd>
            <dt>Last accessed</dt>
            <dd>{when(d.item.lastAccessedAt)}</dd>
            <dt>Integration · drive</dt>
            <dd>
              {d.item.integrationId} · {d.item.driveId}
            </dd>
            {d.item.webUrl ? (
              <>
                <dt>Open in OneDrive</dt>
                <dd>
                  <a href={d.item.webUrl} rel="noreferrer noopener" target="_blank">
                    {d.item.webUrl}
                  </a>
                </dd>
              </>
            ) : null}
          </dl>

          <h2 id="findings">Findings</h2>
          <Table
            rows={d.findings}
            rowKey={(f) => String(f.id)}
            empty="No findings on this item."
            columns={[
              { key: 'sev', label: 'Severity', render: (f) => <Severity value={f.severity} /> },
              {
                key: 'title',
                label: 'Finding',
                render: (f) => <Link to={`/findings/${f.id}`}>{f.title}</Link>,
              },
              {
                key: 'rule',
                label: 'Rule',
                render: (f) => <Link to={`/rules/${encodeURIComponent(f.ruleId)}`}>{f.ruleId}</Link>,
              },
              { key: 'status', label: 'Status', render: (f) => f.status },
            ]}
          />

          <h2 id="reach">Who can reach it</h2>
          <Table
            rows={d.reach.accessors}
            rowKey={(a, i) => `${a.kind}-${a.id}-${a.via}-${i}`}
            empty="Nobody but the owner."
            caption={`${d.reach.accessors.length} accessors (groups expanded)`}
            columns={[
              { key: 'kind', label: 'Kind', render: (a) => a.kind },
              {
                key: 'name',
                label: 'Name',
                render: (a) =>
                  a.id && (a.kind === 'user' || a.kind === 'guest' || a.kind === 'member') ? (
                    <Link to={`/inventory/users/${rowPath(d.item.integrationId, a.id)}`}>
                      {a.name ?? a.id}
                    </Link>
                  ) : (
                    (a.name ?? a.id ?? '—')
                  ),
              },
              { key: 'upn', label: 'Sign-in name', render: (a) => a.upn ?? '—' },
              { key: 'roles', label: 'Roles', render: (a) => a.roles.join(', ') },
              {
                key: 'via',
                label: 'Via',
                render: (a) =>
                  a.viaGroup
                    ? `${VIA[a.via] ?? a.via}: ${a.viaGroup.name ?? a.viaGroup.id}`
                    : (VIA[a.via] ?? a.via),
              },
            ]}
          />

          <h2>Permissions</h2>
          <Table
            rows={d.permissions}
            rowKey={(p) => p.id}
            empty="No permissions."
            caption="Permissions on its sharing root"
            columns={[
              { key: 'roles', label: 'Roles', render: (p) => p.roles.join(', ') },
              {
                key: 'kind',
                label: 'Kind',
                render: (p) =>
                  p.linkScope ? `${p.linkScope} ${p.linkType ?? ''} link` : (p.recipientKind ?? 'grant'),
              },
              {
                key: 'who',
                label: 'Granted to',
                render: (p) =>
                  (p.recipients?.length ? p.recipients.join(', ') : (p.recipientEmail ?? p.recipientName)) ??
                  '—',
              },
              {
                key: 'outside',
                label: 'Outside',
                render: (p) =>
                  [p.isExternal ? 'external' : '', p.isGuest ? 'guest' : ''].filter(Boolean).join(', ') ||
                  '—',
              },
              { key: 'expires', label: 'Expires', render: (p) => when(p.expiration) },
              { key: 'since', label: 'Seen since', render: (p) => when(p.firstSeen) },
            ]}
          />

          {isAdmin && (d.item.exposure === 'public' || d.item.exposure === 'external') ? (
            <RemediatePanel
              integrationId={d.item.integrationId}
              target={{
                kind: 'item',
                itemId: d.item.id,
                driveId: d.item.driveId,
                scope: d.item.exposure === 'public' ? 'public' : 'external',
                subtree: d.item.isFolder,
              }}
              label={
                d.item.exposure === 'public'
                  ? 'Plan removing its "Anyone" links'
                  : 'Plan removing outside access'
              }
            />
          ) : null}

          <h2>Sharing timeline</h2>
          <Table
            rows={d.sharingTimeline}
            rowKey={(e, i) => `${e.at}-${i}`}
            empty="No sharing changes recorded."
            columns={[
              { key: 'at', label: 'When', render: (e) => when(e.at) },
              { key: 'action', label: 'Action', render: (e) => e.action },
              { key: 'summary', label: 'What', render: (e) => e.summary },
              { key: 'actor', label: 'By', render: (e) => e.actor ?? '—' },
            ]}
          />

          <p>
            <Link
              to={`/activity?${new URLSearchParams({ itemIntegration: d.item.integrationId, itemId: d.item.id })}`}
            >
              Access history (audit feed)
            </Link>
          </p>

          <h2>Change history</h2>
          <Table
            rows={d.history}
            rowKey={(e, i) => `${e.at}-${i}`}
            empty="No changes recorded."
            columns={[
              { key: 'at', label: 'When', render: (e) => when(e.at) },
              { key: 'action', label: 'Change', render: (e) => e.action },
              { key: 'fields', label: 'Fields', render: (e) => (e.fields ?? []).join(', ') || '—' },
              {
                key: 'before',
                label: 'Before',
                render: (e) => <code className="clip">{text(e.before)}</code>,
              },
              { key: 'after', label: 'After', render: (e) => <code className="clip">{text(e.after)}</code> },
              { key: 'by', label: 'By', render: (e) => e.actor ?? '—' },
              { key: 'source', label: 'Seen by', render: (e) => e.source },
            ]}
          />
        </>
      ) : null}
    </section>
  );
}

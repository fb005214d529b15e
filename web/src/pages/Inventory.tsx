import { type FormEvent, type ReactNode, useMemo } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { queryString, rowPath } from '../api.ts';
import { bytes, when } from '../format.ts';
import {
  AutoTable,
  ErrorBox,
  Exposure,
  Field,
  Loading,
  Pager,
  Table,
  UnfinishedSearch,
  usePaged,
} from '../ui.tsx';

export interface InventoryItem {
  integrationId: string;
  id: string;
  driveId: string;
  name: string | null;
  path: string | null;
  isFolder: boolean;
  size: number | null;
  modifiedAt: string | null;
  owner: string | null;
  ownerName?: string | null;
  exposure: string;
  linkScopes: string[] | null;
  permissionCount: number;
  lastAccessedAt: string | null;
  webUrl: string | null;
}

const TABS = [
  ['items', 'Files and folders'],
  ['users', 'Users'],
  ['groups', 'Groups'],
  ['drives', 'Drives'],
  ['permissions', 'Permissions'],
] as const;

/** Filters the items list takes from the address (so links and reloads keep them). */
const ITEM_FILTERS = [
  'q',
  'exposure',
  'linkScope',
  'outsideDomain',
  'guest',
  'owner',
  'extension',
  'minSize',
  'maxSize',
  'modifiedAfter',
  'modifiedBefore',
  'lastAccessedBefore',
  'folder',
  'integrationId',
  'driveId',
  'sort',
] as const;

export function InventoryPage() {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'items';
  return (
    <section>
      <h1>Inventory</h1>
      <nav className="tabs" aria-label="inventory">
        {TABS.map(([id, label]) => (
          <Link key={id} to={`/inventory?tab=${id}`} aria-current={tab === id ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {tab === 'items' ? (
        <Items params={params} setParams={setParams} />
      ) : (
        <Directory kind={tab} params={params} setParams={setParams} />
      )}
    </section>
  );
}

type SetParams = ReturnType<typeof useSearchParams>[1];

function Items({ params, setParams }: { params: URLSearchParams; setParams: SetParams }) {
  const base = useMemo(() => {
    const filters: Record<string, string | undefined> = { limit: '50' };
    for (const f of ITEM_FILTERS) filters[f] = params.get(f) ?? undefined;
    return `/inventory/items${queryString(filters)}`;
  }, [params]);
  const list = usePaged<InventoryItem>(base);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const f of ITEM_FILTERS) {
      let value = String(form.get(f) ?? '').trim();
      if ((f === 'minSize' || f === 'maxSize') && value)
        value = String(Math.round(Number(value) * 1024 * 1024));
      if ((f === 'modifiedAfter' || f === 'modifiedBefore' || f === 'lastAccessedBefore') && value)
        value = new Date(`${value}T00:00:00Z`).toISOString();
      if (value) next.set(f, value);
    }
    setParams(next);
  };
  const v = (f: string) => params.get(f) ?? '';
  const mb = (f: string) => (params.get(f) ? String(Number(params.get(f)) / 1024 / 1024) : '');
  const day = (f: string) => (params.get(f) ?? '').slice(0, 10);

  return (
    <>
      <form className="filters" onSubmit={submit} aria-label="filter items" key={params.toString()}>
        <Field label="Search name or path">
          {(id) => <input id={id} name="q" type="search" defaultValue={v('q')} />}
        </Field>
        <Field label="Exposure">
          {(id) => (
            <select id={id} name="exposure" defaultValue={v('exposure')}>
              <option value="">any</option>
              <option value="public">public (anyone link)</option>
              <option value="external">external</option>
              <option value="internal">internal</option>
              <option value="private">private</option>
            </select>
          )}
        </Field>
        <Field label="Link scope">
          {(id) => (
            <select id={id} name="linkScope" defaultValue={v('linkScope')}>
              <option value="">any</option>
              <option value="anonymous">anyone</option>
              <option value="organization">organization</option>
              <option value="users">specific people</option>
            </select>
          )}
        </Field>
        <Field label="Shared with domain">
          {(id) => (
            <input id={id} name="outsideDomain" defaultValue={v('outsideDomain')} placeholder="gmail.com" />
          )}
        </Field>
        <Field label="Shared with guests">
          {(id) => (
            <select id={id} name="guest" defaultValue={v('guest')}>
              <option value="">any</option>
              <option value="true">yes</option>
              <option value="false">no</option>
            </select>
          )}
        </Field>
        <Field label="Owner">
          {(id) => <input id={id} name="owner" defaultValue={v('owner')} placeholder="user@contoso.com" />}
        </Field>
        <Field label="Extensions">
          {(id) => <input id={id} name="extension" defaultValue={v('extension')} placeholder="pdf,docx" />}
        </Field>
        <Field label="Min size (MB)">
          {(id) => (
            <input id={id} name="minSize" type="number" min="0" step="any" defaultValue={mb('minSize')} />
          )}
        </Field>
        <Field label="Max size (MB)">
          {(id) => (
            <input id={id} name="maxSize" type="number" min="0" step="any" defaultValue={mb('maxSize')} />
          )}
        </Field>
        <Field label="Modified after">
          {(id) => <input id={id} name="modifiedAfter" type="date" defaultValue={day('modifiedAfter')} />}
        </Field>
        <Field label="Modified before">
          {(id) => <input id={id} name="modifiedBefore" type="date" defaultValue={day('modifiedBefore')} />}
        </Field>
        <Field label="Last accessed before">
          {(id) => (
            <input id={id} name="lastAccessedBefore" type="date" defaultValue={day('lastAccessedBefore')} />
          )}
        </Field>
        <Field label="Kind">
          {(id) => (
            <select id={id} name="folder" defaultValue={v('folder')}>
              <option value="">files and folders</option>
              <option value="false">files</option>
              <option value="true">folders</option>
            </select>
          )}
        </Field>
        <Field label="Sort by">
          {(id) => (
            <select id={id} name="sort" defaultValue={v('sort')}>
              <option value="">name (A–Z)</option>
              <option value="-name">name (Z–A)</option>
              <option value="path">path</option>
              <option value="-size">size (largest first)</option>
              <option value="size">size (smallest first)</option>
              <option value="-modified">modified (newest first)</option>
              <option value="modified">modified (oldest first)</option>
            </select>
          )}
        </Field>
        <div className="filter-actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button type="button" onClick={() => setParams(new URLSearchParams())}>
            Clear
          </button>
        </div>
      </form>
      <ErrorBox error={list.error} />
      <Loading when={list.loading && !list.data} />
      <UnfinishedSearch list={list} what="items" />
      <Table
        // An empty page with a nextCursor is not "no match" (the API stops a page at its time
        // ceiling): UnfinishedSearch says so and searches on.
        rows={list.data?.items.length === 0 && list.hasNext ? undefined : list.data?.items}
        busy={!list.current}
        rowKey={(r) => `${r.integrationId}/${r.id}`}
        empty="No items match these filters."
        caption="Files and folders"
        columns={[
          {
            key: 'name',
            label: 'Name',
            render: (r) => (
              <Link to={`/inventory/items/${rowPath(r.integrationId, r.id)}`}>
                {r.isFolder ? '📁 ' : ''}
                {r.name ?? r.id}
              </Link>
            ),
          },
          { key: 'path', label: 'Path', render: (r) => <span className="path">{r.path ?? '—'}</span> },
          { key: 'owner', label: 'Owner', render: (r) => r.owner ?? '—' },
          { key: 'exposure', label: 'Exposure', render: (r) => <Exposure value={r.exposure} /> },
          { key: 'links', label: 'Links', render: (r) => (r.linkScopes ?? []).join(', ') || '—' },
          { key: 'perms', label: 'Permissions', render: (r) => r.permissionCount, className: 'num' },
          { key: 'size', label: 'Size', render: (r) => bytes(r.size), className: 'num' },
          { key: 'modified', label: 'Modified', render: (r) => when(r.modifiedAt) },
        ]}
      />
      <Pager {...list} label="item pages" />
    </>
  );
}

const DIRECTORY_COLUMNS: Record<string, string[]> = {
  users: [
    'displayName',
    'upn',
    'userType',
    'accountEnabled',
    'department',
    'jobTitle',
    'lastSignInAt',
    'createdAt',
  ],
  groups: ['displayName', 'mail', 'memberCount', 'visibility', 'isUnified', 'securityEnabled', 'createdAt'],
  drives: [
    'ownerName',
    'ownerEmail',
    'name',
    'driveType',
    'quotaUsed',
    'quotaTotal',
    'quotaState',
    'modifiedAt',
  ],
  permissions: [
    'itemPath',
    'roles',
    'linkScope',
    'linkType',
    'recipientEmail',
    'isExternal',
    'isGuest',
    'expiration',
  ],
};

const DIRECTORY_SORTS: Record<string, [string, string][]> = {
  users: [
    ['', 'name'],
    ['upn', 'sign-in name'],
    ['-created', 'created (newest first)'],
  ],
  groups: [
    ['', 'name'],
    ['-created', 'created (newest first)'],
  ],
  drives: [
    ['', 'owner'],
    ['-used', 'usage (largest first)'],
    ['-total', 'quota (largest first)'],
    ['name', 'name'],
  ],
  permissions: [
    ['', 'item'],
    ['-firstSeen', 'first seen (newest first)'],
  ],
};

const BYTES = { quotaUsed: (r: Record<string, unknown>) => bytes(r.quotaUsed as number | null) };
/** A link to the detail page of a directory row. */
const detailLink =
  (kind: string, label: (r: Record<string, unknown>) => unknown) => (r: Record<string, unknown>) => (
    <Link to={`/inventory/${kind}/${rowPath(String(r.integrationId), String(r.id))}`}>
      {String(label(r) ?? r.id)}
    </Link>
  );
const DIRECTORY_RENDER: Record<string, Record<string, (r: Record<string, unknown>) => ReactNode>> = {
  users: { displayName: detailLink('users', (r) => r.displayName ?? r.upn) },
  groups: { displayName: detailLink('groups', (r) => r.displayName ?? r.mail) },
  drives: {
    ...BYTES,
    quotaTotal: (r) => bytes(r.quotaTotal as number | null),
    ownerName: detailLink('drives', (r) => r.ownerName ?? r.name),
  },
  permissions: {
    roles: (r) => (Array.isArray(r.roles) ? r.roles.join(', ') : String(r.roles ?? '')),
    itemPath: (r) => (
      <Link to={`/inventory/items/${rowPath(String(r.integrationId), String(r.itemId))}`}>
        {String(r.itemPath ?? r.itemName ?? r.itemId)}
      </Link>
    ),
  },
};

function Directory({
  kind,
  params,
  setParams,
}: {
  kind: string;
  params: URLSearchParams;
  setParams: SetParams;
}) {
  const q = params.get('q') ?? '';
  const sort = params.get('sort') ?? '';
  const list = usePaged<Record<string, unknown>>(`/inventory/${kind}${queryString({ q, sort, limit: 50 })}`);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setParams(
      new URLSearchParams({
        tab: kind,
        q: String(form.get('q') ?? ''),
        sort: String(form.get('sort') ?? ''),
      }),
    );
  };
  return (
    <>
      <form
        className="filters"
        onSubmit={submit}
        aria-label={`filter ${kind}`}
        key={`${kind}-${params.toString()}`}
      >
        <Field label="Search">{(id) => <input id={id} name="q" type="search" defaultValue={q} />}</Field>
        <Field label="Sort by">
          {(id) => (
            <select id={id} name="sort" defaultValue={sort}>
              {(DIRECTORY_SORTS[kind] ?? [['', 'default']]).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="filter-actions">
          <button type="submit" className="primary">
            Search
          </button>
        </div>
      </form>
      <ErrorBox error={list.error} />
      <Loading when={list.loading && !list.data} />
      <AutoTable
        rows={list.data?.items}
        preferred={DIRECTORY_COLUMNS[kind]}
        hidden={['integrationId', 'raw', 'tenantId', 'id', 'driveId', 'itemId', 'ownerId']}
        render={DIRECTORY_RENDER[kind]}
        empty={`No ${kind}.`}
      />
      <Pager {...list} label={`${kind} pages`} />
    </>
  );
}

import { useState } from 'react';
import { bytes } from '../format.ts';
import { AutoTable, BarChart, ErrorBox, Field, Loading, useApi } from '../ui.tsx';

type Row = Record<string, unknown>;
interface Listing {
  items: Row[];
  nextCursor?: string | null;
}

const LABEL_KEYS = ['displayName', 'name', 'userPrincipalName', 'upn', 'owner', 'path', 'id'];
const BYTE_KEYS = ['bytes', 'usedBytes', 'used', 'quotaUsed', 'size', 'totalBytes'];

const labelOf = (row: Row) =>
  String(LABEL_KEYS.map((k) => row[k]).find((v) => typeof v === 'string' && v) ?? '?');
const bytesOf = (row: Row) => Number(BYTE_KEYS.map((k) => row[k]).find((v) => typeof v === 'number') ?? 0);
const rowsOf = (answer: Listing | Row[] | undefined): Row[] | undefined =>
  answer === undefined ? undefined : Array.isArray(answer) ? answer : answer.items;

const byteRender = Object.fromEntries(
  [...BYTE_KEYS, 'quotaTotal', 'quotaRemaining', 'limitBytes'].map((k) => [
    k,
    (r: Row) => bytes(r[k] as number),
  ]),
);

export function StoragePage() {
  const [by, setBy] = useState<'user' | 'group'>('user');
  const usage = useApi<Listing | Row[]>(`/storage/usage?by=${by}&limit=20`);
  const top = useApi<Listing | Row[]>('/storage/top?limit=15');
  const policies = useApi<Listing | Row[]>('/storage/policies');
  const usageRows = rowsOf(usage.data);
  const topRows = rowsOf(top.data);
  return (
    <section>
      <h1>Storage</h1>
      <div className="columns">
        <div>
          <h2>Usage by {by}</h2>
          <Field label="Group usage by">
            {(id) => (
              <select id={id} value={by} onChange={(e) => setBy(e.target.value as 'user' | 'group')}>
                <option value="user">user</option>
                <option value="group">group</option>
              </select>
            )}
          </Field>
          <ErrorBox error={usage.error} />
          <Loading when={usage.loading && !usageRows} />
          {usageRows ? (
            <BarChart
              title={`Storage used by ${by}`}
              data={usageRows.slice(0, 20).map((r) => ({ label: labelOf(r), value: bytesOf(r) }))}
              format={bytes}
            />
          ) : null}
          <AutoTable rows={usageRows} hidden={['integrationId', 'tenantId']} render={byteRender} />
        </div>
        <div>
          <h2>Top consumers</h2>
          <ErrorBox error={top.error} />
          <Loading when={top.loading && !topRows} />
          {topRows ? (
            <BarChart
              title="Largest files"
              data={topRows.slice(0, 15).map((r) => ({ label: labelOf(r), value: bytesOf(r) }))}
              format={bytes}
            />
          ) : null}
          <AutoTable
            rows={topRows}
            hidden={['integrationId', 'tenantId', 'driveId', 'id']}
            render={byteRender}
            max={6}
          />
        </div>
      </div>
      <h2>Storage policies</h2>
      <ErrorBox error={policies.error} />
      <AutoTable rows={rowsOf(policies.data)} empty="No storage policies." render={byteRender} />
    </section>
  );
}

import { AutoTable, ErrorBox, Loading, Pager, usePaged } from '../ui.tsx';

export function RemediationPage() {
  const actions = usePaged<Record<string, unknown>>('/remediation/actions?limit=50');
  return (
    <section>
      <h1>Remediation trail</h1>
      <p className="muted">
        Every change drivewarden made in the tenant: who asked for it, what it did, and how it went.
      </p>
      <ErrorBox error={actions.error} />
      <Loading when={actions.loading && !actions.data} />
      <AutoTable
        rows={actions.data?.items}
        preferred={[
          'at',
          'createdAt',
          'action',
          'kind',
          'target',
          'resourcePath',
          'status',
          'actor',
          'requestedBy',
          'error',
        ]}
        hidden={['id', 'integrationId', 'planId']}
        max={9}
        empty="No remediation actions yet."
      />
      <Pager {...actions} label="remediation pages" />
    </section>
  );
}

/**
 * Paging: a Graph collection page is `{value, @odata.nextLink?, @odata.deltaLink?}`; the
 * Office 365 Management API answers a bare array with the next page in the `NextPageUri`
 * header. Both become a GraphPage.
 */
import { GraphError } from './errors.ts';
import type { GraphPage, GraphRequest, GraphResponse } from './types.ts';

export function pageFromResponse<T>(
  res: GraphResponse<unknown>,
  req: GraphRequest,
  label: string,
): GraphPage<T> {
  const body = res.body;
  if (Array.isArray(body)) {
    const next = res.headers.nextpageuri;
    return { value: body as T[], nextLink: next || undefined, requestId: res.requestId };
  }
  if (!body || typeof body !== 'object' || !Array.isArray((body as { value?: unknown }).value)) {
    throw new GraphError({
      status: res.status,
      code: 'invalidPage',
      message: `${label}: ${req.url} did not answer a collection page (no "value" array)`,
      requestId: res.requestId,
      url: req.url,
      resource: req.resource,
    });
  }
  const b = body as { value: T[]; '@odata.nextLink'?: unknown; '@odata.deltaLink'?: unknown };
  const nextLink = typeof b['@odata.nextLink'] === 'string' ? b['@odata.nextLink'] : undefined;
  const deltaLink = typeof b['@odata.deltaLink'] === 'string' ? b['@odata.deltaLink'] : undefined;
  const page: GraphPage<T> = { value: b.value, requestId: res.requestId };
  if (nextLink) page.nextLink = nextLink;
  if (deltaLink) page.deltaLink = deltaLink;
  if (!nextLink) {
    const headerNext = res.headers.nextpageuri;
    if (headerNext) page.nextLink = headerNext;
  }
  return page;
}

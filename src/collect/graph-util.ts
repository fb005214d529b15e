import { GraphError } from '../graph/errors.ts';
import type { BatchItemResponse } from '../graph/types.ts';

/** A failed $batch sub-response as a GraphError (code, message and request id from the sub-response). */
export function batchError(res: BatchItemResponse<unknown>, resource: string, url: string): GraphError {
  const body = res.body as { error?: { code?: string; message?: string } } | undefined;
  return new GraphError({
    status: res.status,
    code: body?.error?.code ?? `http${res.status}`,
    message: `${url}: ${body?.error?.message ?? `HTTP ${res.status}`}`,
    requestId: res.headers?.['request-id'] ?? res.headers?.['client-request-id'],
    url,
    resource,
  });
}

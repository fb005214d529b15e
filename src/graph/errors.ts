/** A Graph request that failed for good (after retries), with what Graph said about it. */
export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter?: number;
  readonly requestId?: string;
  readonly url?: string;
  readonly resource?: string;
  /** A non-idempotent request that may have been carried out though no answer said so. */
  readonly outcomeUnknown: boolean;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    retryAfter?: number;
    requestId?: string;
    url?: string;
    resource?: string;
    outcomeUnknown?: boolean;
  }) {
    super(init.message);
    this.name = 'GraphError';
    this.status = init.status;
    this.code = init.code;
    this.retryAfter = init.retryAfter;
    this.requestId = init.requestId;
    this.url = init.url;
    this.resource = init.resource;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
  }

  /** 403 / Authorization_RequestDenied: the app lacks a permission. */
  get isAccessDenied(): boolean {
    return this.status === 403 || this.code === 'accessDenied' || this.code === 'Authorization_RequestDenied';
  }

  /** 410 on delta: the token is no longer valid, enumerate again. */
  get isResyncRequired(): boolean {
    return this.status === 410 || this.code.startsWith('resync');
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

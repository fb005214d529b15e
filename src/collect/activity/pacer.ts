import type { GraphClient, GraphRequest } from '../../graph/types.ts';

/**
 * Keeps the Management Activity API requests of one tenant under a per-minute budget (the
 * API allows 2,000 a minute and answers AF429 above it; the client still honours a 429's
 * Retry-After if someone else spends the budget). A sliding window of request times.
 */
export class MinutePacer {
  private readonly times: number[] = [];

  constructor(
    readonly perMinute: number,
    private readonly clock: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!Number.isInteger(perMinute) || perMinute < 1)
      throw new Error(`requests per minute must be a positive integer, got ${perMinute}`);
  }

  /** Waits until one more request fits into the last minute, then counts it. */
  async take(): Promise<void> {
    for (;;) {
      const now = this.clock();
      while (this.times.length > 0 && this.times[0] <= now - 60_000) this.times.shift();
      if (this.times.length < this.perMinute) {
        this.times.push(now);
        return;
      }
      await this.sleep(this.times[0] + 60_000 - now + 1);
    }
  }
}

const pacers = new Map<string, MinutePacer>();

/** One pacer per tenant and budget in this process (rounds of one tenant share its budget). */
export function pacerFor(tenantId: string, perMinute: number): MinutePacer {
  const key = `${tenantId.toLowerCase()}|${perMinute}`;
  let pacer = pacers.get(key);
  if (!pacer) {
    pacer = new MinutePacer(perMinute);
    pacers.set(key, pacer);
  }
  return pacer;
}

/** The client with every request and every page paced (each page is one request). */
export function pacedClient(client: GraphClient, pacer: MinutePacer): GraphClient {
  return {
    ...client,
    async request<T>(req: GraphRequest) {
      await pacer.take();
      return client.request<T>(req);
    },
    async *pages<T>(req: GraphRequest) {
      const pages = client.pages<T>(req);
      for (;;) {
        await pacer.take();
        const next = await pages.next();
        if (next.done) return;
        yield next.value;
      }
    },
  };
}

import { z } from 'zod';

/** The overview's exposure shapes; the counts and the trend come from store/exposure-daily.ts. */

const filesBytes = z.object({ files: z.number(), bytes: z.number() });
export const exposureSchema = z.object({
  public: filesBytes,
  external: filesBytes,
  internal: filesBytes,
  private: filesBytes,
});
const dayCount = z.number().nullable();
export const exposureTrendSchema = z
  .array(z.object({ day: z.string(), public: dayCount, external: dayCount, internal: dayCount }))
  .describe(
    'Per UTC day (oldest first): exposed files at the last count of that day (the service counts hourly); today is live; null where nothing was counted',
  );

import { z } from 'zod';

/** Schemas shared by several route files. */

/** An inventory resource's address: `/…/:integrationId/:id`. */
export const resourceParams = z.object({
  integrationId: z.string().min(1).max(200),
  id: z.string().min(1).max(400),
});

export const severitySchema = z.enum(['critical', 'high', 'medium', 'low', 'info']);

/** `?integrationId=` on lists: one integration, or all when absent. */
export const integrationFilter = z.string().min(1).max(200).optional().describe('Only this integration');

/** Comma-separated list in a query string (`?severity=high,critical`). */
export function csv<const V extends readonly [string, ...string[]]>(values: V) {
  return z
    .string()
    .max(2000)
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values)));
}

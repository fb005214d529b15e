import { appendFileSync } from 'node:fs';

const log = process.env.DW_IMPORT_LOG;

/** Resolves as the next hook does, then appends the URL to the log. */
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (log) appendFileSync(log, `${resolved.url}\n`);
  return resolved;
}

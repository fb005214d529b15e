import pino, { type DestinationStream, type Logger } from 'pino';
import { redactDeep, scrubString } from './redact.ts';

export type { Logger };

/**
 * One pino logger for the process. Secrets never reach it: every logged object is redacted
 * deeply (secret-looking keys at any depth and casing, tokens in URLs, bearer credentials:
 * util/redact.ts) and so is the message, as a second line of defence (the first is never
 * passing them to a log call). `destination`: tests read what would be written.
 */
export function createLogger(
  level: string = process.env.DW_LOG_LEVEL ?? 'info',
  fd: 1 | 2 = 1,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level,
      formatters: {
        log: (object) => redactDeep(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubString(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination({ fd, sync: fd === 2 }),
  );
}

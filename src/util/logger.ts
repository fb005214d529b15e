import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One pino logger for the process. Secrets never reach it: known secret-bearing keys are
 * redacted as a second line of defence (the first is never passing them to a log call).
 */
export function createLogger(level: string = process.env.DW_LOG_LEVEL ?? 'info', fd: 1 | 2 = 1): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'clientSecret',
          '*.clientSecret',
          'client_secret',
          'secret',
          '*.secret',
          'password',
          '*.password',
          'accessToken',
          '*.accessToken',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'privateKey',
          '*.privateKey',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd, sync: fd === 2 }),
  );
}

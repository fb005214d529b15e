import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './logger.ts';

test('logs carry no secret: nested keys in any casing, tokens in URLs, bearer credentials, error messages', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('info', 1, sink);
  const err = new Error(
    'GET https://graph.microsoft.com/v1.0/drives/d1/root/delta?$deltatoken=DELTA-SECRET-1 failed',
  );
  logger.info(
    {
      request: { headers: { Authorization: 'Bearer eyJ-ACCESS-SECRET-2', 'X-Api-Key': 'KEY-SECRET-3' } },
      subscription: { clientState: 'STATE-SECRET-4', resource: 'drives/d1/root' },
      channel: {
        config: {
          webhook_url: 'https://hooks.slack.com/services/T/B/SLACK-SECRET-5',
          smtpPassword: 'SMTP-SECRET-6',
        },
      },
      next: 'https://graph.microsoft.com/v1.0/users/delta?$skiptoken=SKIP-SECRET-7&$top=10',
      err,
    },
    'token call with client_secret=FORM-SECRET-8 and Bearer abcdefghijSECRET9',
  );
  const out = lines.join('');
  for (const secret of [
    'DELTA-SECRET-1',
    'ACCESS-SECRET-2',
    'KEY-SECRET-3',
    'STATE-SECRET-4',
    'SLACK-SECRET-5',
    'SMTP-SECRET-6',
    'SKIP-SECRET-7',
    'FORM-SECRET-8',
    'SECRET9',
  ])
    assert.doesNotMatch(out, new RegExp(secret), `${secret} reached the log: ${out}`);
  // What is not secret stays readable.
  const entry = JSON.parse(out);
  assert.equal(entry.subscription.resource, 'drives/d1/root');
  assert.match(entry.next, /users\/delta\?\$skiptoken=\[redacted\]&\$top=10$/);
  assert.match(
    entry.err.message,
    /^GET https:\/\/graph\.microsoft\.com\/v1\.0\/drives\/d1\/root\/delta\?\$deltatoken=\[redacted\] failed$/,
  );
});

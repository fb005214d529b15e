import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

test('defaults apply when nothing is set', () => {
  const config = loadConfig({ HOME: '/home/x' });
  assert.equal(config.logLevel, 'info');
  assert.equal(config.server.port, 8080);
  assert.equal(config.sync.pollIntervalSeconds, 900);
  assert.match(config.dataDir, /\.drivewarden$/);
  assert.equal(config.databaseUrl, undefined);
});

test('env values are coerced and override the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ server: { port: 9000 }, sync: { concurrency: 2 } }));
  const config = loadConfig({ DW_CONFIG: file, DW_PORT: '9100', DW_DATA_DIR: dir });
  assert.equal(config.server.port, 9100);
  assert.equal(config.sync.concurrency, 2);
  assert.equal(config.dataDir, dir);
});

test('every invalid value is reported at once, by its env name', () => {
  try {
    loadConfig({
      DW_PORT: 'eighty',
      DW_LOG_LEVEL: 'loud',
      DW_DATABASE_URL: 'mysql://x',
      DW_SECRET_KEY: 'short',
      DW_SYNC_CONCURRENCY: '0',
    });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const names = err.problems.map((p) => p.split(':')[0]).sort();
    assert.deepEqual(names, [
      'DW_DATABASE_URL',
      'DW_LOG_LEVEL',
      'DW_PORT',
      'DW_SECRET_KEY',
      'DW_SYNC_CONCURRENCY',
    ]);
  }
});

test('a config file that is not JSON names the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
  const file = join(dir, 'bad.json');
  writeFileSync(file, '{nope');
  assert.throws(
    () => loadConfig({ DW_CONFIG: file }),
    (err: Error) => err.message.includes(file),
  );
});

test('query limits come from DW_QUERY_* and are checked', () => {
  const config = loadConfig({
    DW_QUERY_MAX_ROWS: '50',
    DW_QUERY_TIMEOUT_MS: '2000',
    DW_QUERY_PG_ROLE: 'dw_query',
  });
  assert.deepEqual(config.query, {
    maxRows: 50,
    maxBytes: 64 * 1024 * 1024,
    timeoutMs: 2000,
    maxMemoryMb: 512,
    pgRole: 'dw_query',
  });
  assert.throws(
    () => loadConfig({ DW_QUERY_MAX_MEMORY_MB: '10', DW_QUERY_PG_ROLE: 'x; drop' }),
    (err: ConfigError) =>
      err.problems.some((p) => p.startsWith('DW_QUERY_MAX_MEMORY_MB:')) &&
      err.problems.some((p) =>
        p.startsWith('DW_QUERY_PG_ROLE: must be a plain lower-case PostgreSQL role name'),
      ),
  );
});

test('rules: folders from DW_RULES_FOLDERS (comma-separated) or the file, resolved; defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
  assert.deepEqual(loadConfig({ DW_DATA_DIR: dir }).rules, {
    folders: [],
    fullIntervalSeconds: 3600,
    debounceMs: 200,
    workers: 2,
  });
  const fromEnv = loadConfig({ DW_DATA_DIR: dir, DW_RULES_FOLDERS: '/a/rules, /b/rules ,' });
  assert.deepEqual(fromEnv.rules.folders, ['/a/rules', '/b/rules']);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ rules: { folders: ['/c'], fullIntervalSeconds: 60 } }));
  const fromFile = loadConfig({ DW_CONFIG: file, DW_DATA_DIR: dir });
  assert.deepEqual(fromFile.rules.folders, ['/c']);
  assert.equal(fromFile.rules.fullIntervalSeconds, 60);
  assert.throws(
    () => loadConfig({ DW_DATA_DIR: dir, DW_RULES_FULL_INTERVAL_SECONDS: '0' }),
    /DW_RULES_FULL_INTERVAL_SECONDS/,
  );
});

test('alerts.allowPrivateTargets: off by default, a boolean or a list of addresses and ranges', () => {
  assert.equal(loadConfig({ HOME: '/home/x' }).alerts.allowPrivateTargets, false);
  assert.equal(
    loadConfig({ HOME: '/home/x', DW_ALERTS_ALLOW_PRIVATE_TARGETS: 'true' }).alerts.allowPrivateTargets,
    true,
  );
  assert.deepEqual(
    loadConfig({ HOME: '/home/x', DW_ALERTS_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32, 10.1.2.3' }).alerts
      .allowPrivateTargets,
    ['127.0.0.1/32', '10.1.2.3'],
  );
  assert.throws(
    () => loadConfig({ HOME: '/home/x', DW_ALERTS_ALLOW_PRIVATE_TARGETS: 'intranet.local,10.0.0.0/33' }),
    (err: ConfigError) =>
      err.problems.length === 2 &&
      err.problems.every((p) => p.startsWith('DW_ALERTS_ALLOW_PRIVATE_TARGETS') && /CIDR/.test(p)),
  );
});

test('auth.sso: off by default; the client secret from the environment or a file, never the JSON file', () => {
  const off = loadConfig({ HOME: '/home/x' });
  assert.equal(off.auth.sso.enabled, false);
  assert.deepEqual(off.auth.sso.adminRoles, ['drivewarden.admin']);
  const dir = mkdtempSync(join(tmpdir(), 'dw-config-'));
  const secretFile = join(dir, 'sso-secret');
  writeFileSync(secretFile, 'from-a-file\n');
  const tenant = '11111111-2222-3333-4444-555555555555';
  const base = { HOME: '/home/x', DW_SSO_ENABLED: 'true', DW_SSO_TENANT: tenant, DW_SSO_CLIENT_ID: 'app' };
  const fromFile = loadConfig({
    ...base,
    DW_SSO_CLIENT_SECRET_FILE: secretFile,
    DW_SSO_ADMIN_GROUPS: `${tenant}`,
  });
  assert.equal(fromFile.auth.sso.clientSecret, 'from-a-file');
  assert.deepEqual(fromFile.auth.sso.adminGroups, [tenant]);
  assert.throws(
    () => loadConfig(base),
    (err: ConfigError) => err.problems.some((p) => /DW_SSO_CLIENT_SECRET_FILE/.test(p)),
  );
  assert.throws(
    () => loadConfig({ ...base, DW_SSO_TENANT: 'organizations', DW_SSO_CLIENT_SECRET: 's' }),
    (err: ConfigError) => err.problems.some((p) => /allowedTenants.*organizations/.test(p)),
  );
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ auth: { sso: { clientSecret: 'in-the-file' } } }));
  assert.throws(
    () => loadConfig({ ...base, DW_CONFIG: file, DW_SSO_CLIENT_SECRET: 's' }),
    (err: ConfigError) =>
      err.problems.some((p) => /auth\.sso\.clientSecret.*secrets do not belong in the config file/.test(p)) &&
      !err.message.includes('in-the-file'),
  );
});

test('DW_TRUST_PROXY takes a flag, a hop count or proxy addresses; anything else is named', () => {
  assert.equal(loadConfig({ DW_TRUST_PROXY: 'true' }).server.trustProxy, true);
  assert.equal(loadConfig({ DW_TRUST_PROXY: '2' }).server.trustProxy, 2);
  assert.deepEqual(loadConfig({ DW_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).server.trustProxy, [
    '10.0.0.0/8',
    '127.0.0.1',
  ]);
  assert.equal(loadConfig({}).server.trustProxy, false);
  assert.throws(
    () => loadConfig({ DW_TRUST_PROXY: 'the balancer' }),
    (err: ConfigError) => err.problems.some((p) => p.startsWith('DW_TRUST_PROXY')),
  );
});

test('DW_REVIEW_LINKS_KEY must be 32 bytes, base64', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  assert.equal(loadConfig({ DW_REVIEW_LINKS_KEY: key }).reviewLinksKey, key);
  assert.throws(
    () => loadConfig({ DW_REVIEW_LINKS_KEY: 'short' }),
    (err: ConfigError) => err.problems.some((p) => p.startsWith('DW_REVIEW_LINKS_KEY')),
  );
});

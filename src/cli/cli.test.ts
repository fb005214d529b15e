import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../version.ts';

const bin = fileURLToPath(new URL('../../bin/drivewarden.js', import.meta.url));

test('--version prints the package version', () => {
  const out = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout.trim(), VERSION);
});

test('--help lists the command and its description', () => {
  const out = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /Usage: drivewarden/);
  assert.match(out.stdout, /OneDrive inventory/);
});

test('--client-secret on the command line works but warns that ps and shell history show it', () => {
  const out = spawnSync(
    process.execPath,
    [bin, 'integrations', 'add', '--name', 'acme', '--client-id', 'c', '--client-secret', 'hunter2-secret'],
    { encoding: 'utf8', env: { ...process.env, DW_DATA_DIR: '/nonexistent/dw-cli-test' } },
  );
  assert.notEqual(out.status, 0, 'no tenant id: refused');
  assert.match(out.stderr, /warning: --client-secret puts the secret in the process list/);
  assert.match(out.stderr, /--tenant-id is required/);
  assert.doesNotMatch(out.stdout + out.stderr, /hunter2-secret/, 'the secret itself is never echoed');
});

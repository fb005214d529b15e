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

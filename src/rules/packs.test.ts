import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadBuiltinRules } from './loader.ts';
import { frameworksOf, loadBuiltinPacks, loadPacks, PackValidationError, parsePack } from './packs.ts';

const KNOWN = new Set(['permission_demo_link_absent', 'tenant_demo_setting_enabled']);
const PACK = `id: demo-pack
title: Demo
version: "1.0"
source: https://example.org/demo
controls:
  - id: D.1
    title: first
    rules: [permission_demo_link_absent, tenant_demo_setting_enabled]
  - id: D.2
    title: uncovered
    rules: []
`;

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PackValidationError, String(err));
    return err.message;
  }
  assert.fail('expected a PackValidationError');
}

describe('the pack loader', () => {
  const root = mkdtempSync(join(tmpdir(), 'dw-packs-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('reads a pack and tells which controls a rule decides', () => {
    const pack = parsePack(PACK, 'demo-pack.yaml', KNOWN);
    assert.equal(pack.controls.length, 2);
    assert.deepEqual(frameworksOf('tenant_demo_setting_enabled', [pack]), [
      { packId: 'demo-pack', packTitle: 'Demo', controlId: 'D.1', controlTitle: 'first' },
    ]);
    assert.deepEqual(frameworksOf('permission_other_absent', [pack]), []);
  });

  it('names the file and the field at fault', () => {
    const at = (text: string) => problemsOf(() => parsePack(text, 'x/demo-pack.yaml', KNOWN));
    assert.match(
      at(PACK.replace('tenant_demo_setting_enabled', 'tenant_nonexistent_rule')),
      /^x\/demo-pack\.yaml: controls\.0\.rules\.1: unknown rule id tenant_nonexistent_rule$/,
    );
    assert.match(at(PACK.replace('version: "1.0"', 'version: 1.0')), /version: .*string/);
    assert.match(at(PACK.replace('https://example.org/demo', 'not a url')), /source:/);
    assert.match(at(PACK.replace('id: D.2', 'id: D.1')), /controls\.1\.id: D\.1 appears twice/);
    assert.match(at(PACK.replace('    title: first\n', '')), /controls\.0\.title/);
    assert.match(at(`${PACK}colour: red\n`), /colour/);
    assert.match(at(PACK.replace('id: demo-pack', 'id: Demo Pack')), /id: must be lower-case words/);
    assert.match(at('controls: ['), /not valid YAML/);
  });

  it("loads a directory's packs; a pack's id must be its file's name", () => {
    writeFileSync(join(root, 'demo-pack.yaml'), PACK);
    writeFileSync(join(root, 'README.txt'), 'not a pack');
    assert.deepEqual(
      loadPacks(root, KNOWN).map((p) => p.id),
      ['demo-pack'],
    );
    writeFileSync(join(root, 'other.yaml'), PACK);
    assert.match(
      problemsOf(() => loadPacks(root, KNOWN)),
      /other\.yaml: id: demo-pack must match the file's name other\.yaml/,
    );
  });

  it('the built-in packs name only built-in rules, and follow the framework ids', () => {
    const packs = loadBuiltinPacks();
    const ruleIds = new Set(loadBuiltinRules().map((r) => r.id));
    assert.deepEqual(
      packs.map((p) => p.id),
      ['cis-m365', 'scuba-sharepoint'],
    );
    for (const pack of packs) {
      for (const c of pack.controls)
        for (const r of c.rules) assert.ok(ruleIds.has(r), `${pack.id} ${c.id} ${r}`);
    }
    const scuba = packs.find((p) => p.id === 'scuba-sharepoint');
    for (const c of scuba?.controls ?? []) assert.match(c.id, /^MS\.SHAREPOINT\.\d+\.\d+v\d+$/);
    const cis = packs.find((p) => p.id === 'cis-m365');
    for (const c of cis?.controls ?? []) assert.match(c.id, /^\d+(\.\d+)+$/);
    assert.ok(
      frameworksOf('permission_anonymous_link_expires', packs).some(
        (f) => f.controlId === 'MS.SHAREPOINT.3.1v1',
      ),
    );
  });
});

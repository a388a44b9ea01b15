// The MCP Inspector's CLI (@modelcontextprotocol/inspector-cli, pinned in
// tests/package.json) against bin/ebpf-mcp over stdio: it lists tools,
// resources, resource templates and prompts, reads resources and gets a
// prompt. Each run is one process: the Inspector spawns the server, sends
// initialize (2025-11-25, through the v1 SDK it bundles), makes one request,
// prints the result as JSON and exits.
//
// Version 1.0.3 has no completion/complete (it answers "Unsupported method"),
// which is checked too, so a release that adds it shows up here.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, ensureMounts } from '../lib/mcp.mjs';
import { OBJ_DIR, TEMPLATES, STATIC, PROMPTS, TRACEFS } from '../lib/surface.mjs';

// The package's launcher (node_modules/.bin). It is run from its build
// directory: the CLI finds its own package.json relative to the working
// directory (from anywhere else it fails with "Cannot find module
// .../@modelcontextprotocol/package.json").
const PKG = path.join(ROOT, 'tests/node_modules/@modelcontextprotocol/inspector-cli');
const LAUNCHER = path.join(ROOT, 'tests/node_modules/.bin/mcp-inspector-cli');
const SERVER = [BIN, '--validate-output', '--profile', 'full', '--object-dir', OBJ_DIR];

function inspector(method, extra = [], { status = 0 } = {}) {
  const r = spawnSync(LAUNCHER, ['--cli', ...SERVER, '--method', method, ...extra],
    { cwd: path.join(PKG, 'build'), encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, status, `inspector ${method}: status ${r.status}: ${r.stderr}`);
  return status === 0 ? JSON.parse(r.stdout) : r;
}

before(() => ensureMounts());

test('the Inspector CLI is the pinned version', () => {
  const pkg = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8'));
  const want = JSON.parse(readFileSync(path.join(ROOT, 'tests/package.json'), 'utf8')).dependencies['@modelcontextprotocol/inspector-cli'];
  assert.equal(pkg.version, want);
});

test('Inspector CLI: tools/list and tools/call', () => {
  const { tools } = inspector('tools/list');
  const names = tools.map((t) => t.name);
  assert.ok(names.includes('load_program') && names.includes('inspect_state'), `the full profile: ${names}`);
  for (const t of tools) assert.equal(t.outputSchema?.type, 'object', t.name);
  const info = inspector('tools/call', ['--tool-name', 'info']);
  assert.equal(info.isError, false);
  assert.equal(info.structuredContent.server.profile, 'full');
  assert.equal(info.structuredContent.server.protocol_version, '2025-11-25');
});

test('Inspector CLI: resources/list, resources/templates/list and resources/read', () => {
  const { resources } = inspector('resources/list');
  const uris = resources.map((r) => r.uri);
  for (const u of STATIC) assert.ok(uris.includes(u), `${u} in ${uris}`);
  for (const u of uris) assert.match(u, /^(ebpf-mcp:\/\/(limits|policy)|bpf:\/\/(prog|map|link)\/\d+|bpf:\/\/pin\/.+)$/);
  const { resourceTemplates } = inspector('resources/templates/list');
  assert.deepEqual(resourceTemplates.map((t) => [t.uriTemplate, t.mimeType]), TEMPLATES);
  const policy = inspector('resources/read', ['--uri', 'ebpf-mcp://policy']);
  assert.equal(policy.contents[0].mimeType, 'application/json');
  assert.equal(JSON.parse(policy.contents[0].text).profile, 'full');
  const fmt = inspector('resources/read', ['--uri', 'tracefs://events/sched/sched_switch/format']);
  assert.equal(fmt.contents[0].text, readFileSync(`${TRACEFS}/events/sched/sched_switch/format`, 'utf8'));
  // a missing resource: the server's -32602 becomes the CLI's failure
  const r = inspector('resources/read', ['--uri', 'bpf://prog/0'], { status: 1 });
  assert.match(r.stderr, /no resource at bpf:\/\/prog\/0/);
});

test('Inspector CLI: prompts/list and prompts/get', () => {
  const { prompts } = inspector('prompts/list');
  assert.deepEqual(prompts.map((p) => p.name), Object.keys(PROMPTS));
  const p = inspector('prompts/get', ['--prompt-name', 'tcp_trouble', '--prompt-args', 'comm=curl', 'duration_ms=2000']);
  assert.equal(p.messages[0].role, 'user');
  assert.match(p.messages[0].content.text, /comm="curl" and duration_ms=2000/);
});

test('Inspector CLI 1.0.3 cannot send completion/complete', () => {
  const r = inspector('completion/complete', [], { status: 1 });
  assert.match(r.stderr, /Unsupported method: completion\/complete/);
});

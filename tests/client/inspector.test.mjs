// The MCP Inspector's CLI (@modelcontextprotocol/inspector-cli, pinned in
// tests/package.json) against ebpf-mcp: it lists tools, resources, resource
// templates and prompts, reads resources and gets a prompt. Each run is one
// process: the Inspector connects, sends initialize (2025-11-25, through the
// v1 SDK it bundles), makes one request, prints the result as JSON and exits.
// Every check runs over both ways the CLI reaches a server:
//   stdio  it spawns bin/ebpf-mcp;
//   http   `--transport http` to `ebpf-mcp serve --http` (one daemon for the
//          file; each run is a session of its own).
//
// Version 1.0.3 has no completion/complete (it answers "Unsupported method"),
// which is checked too, so a release that adds it shows up here.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, ensureMounts } from '../lib/mcp.mjs';
import { HttpDaemon } from '../lib/http.mjs';
import { OBJ_DIR, TEMPLATES, STATIC, APPS, APP_MIME, PROMPTS, TRACEFS } from '../lib/surface.mjs';

// The package's launcher (node_modules/.bin). It is run from its build
// directory: the CLI finds its own package.json relative to the working
// directory (from anywhere else it fails with "Cannot find module
// .../@modelcontextprotocol/package.json").
const PKG = path.join(ROOT, 'tests/node_modules/@modelcontextprotocol/inspector-cli');
const LAUNCHER = path.join(ROOT, 'tests/node_modules/.bin/mcp-inspector-cli');
const SERVER_ARGS = ['--profile', 'full', '--object-dir', OBJ_DIR];

let httpd;

// What the CLI is given to reach the server, and what the info tool then
// says about the way in.
const VIAS = {
  stdio: { target: () => [BIN, '--validate-output', ...SERVER_ARGS], mode: 'stdio' },
  http: { target: () => [httpd.url, '--transport', 'http'], mode: 'daemon' },
};

function inspector(via, method, extra = [], { status = 0 } = {}) {
  const r = spawnSync(LAUNCHER, ['--cli', ...VIAS[via].target(), '--method', method, ...extra],
    { cwd: path.join(PKG, 'build'), encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, status, `inspector ${method} over ${via}: status ${r.status}: ${r.stderr}`);
  return status === 0 ? JSON.parse(r.stdout) : r;
}

before(async () => {
  ensureMounts();
  httpd = await HttpDaemon.start(SERVER_ARGS);
});

after(async () => {
  if (httpd) assert.deepEqual(await httpd.stop(), { code: 0, sig: null }, httpd.stderr);
});

test('the Inspector CLI is the pinned version', () => {
  const pkg = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8'));
  const want = JSON.parse(readFileSync(path.join(ROOT, 'tests/package.json'), 'utf8')).dependencies['@modelcontextprotocol/inspector-cli'];
  assert.equal(pkg.version, want);
});

for (const via of Object.keys(VIAS)) {
  describe(`Inspector CLI over ${via}`, () => {
    test('tools/list and tools/call', () => {
      const { tools } = inspector(via, 'tools/list');
      const names = tools.map((t) => t.name);
      assert.ok(names.includes('load_program') && names.includes('inspect_state'), `the full profile: ${names}`);
      for (const t of tools) assert.equal(t.outputSchema?.type, 'object', t.name);
      const info = inspector(via, 'tools/call', ['--tool-name', 'info']);
      assert.equal(info.isError, false);
      assert.equal(info.structuredContent.server.profile, 'full');
      assert.equal(info.structuredContent.server.protocol_version, '2025-11-25');
      assert.equal(info.structuredContent.server.mode, VIAS[via].mode);
    });

    test('resources/list, resources/templates/list and resources/read', () => {
      const { resources } = inspector(via, 'resources/list');
      const uris = resources.map((r) => r.uri);
      for (const u of [...STATIC, ...APPS]) assert.ok(uris.includes(u), `${u} in ${uris}`);
      for (const u of uris) assert.match(u, /^(ebpf-mcp:\/\/(limits|policy)|bpf:\/\/(prog|map|link)\/\d+|bpf:\/\/pin\/.+|ui:\/\/ebpf-mcp\/[a-z]+)$/);
      const app = inspector(via, 'resources/read', ['--uri', APPS[0]]);
      assert.equal(app.contents[0].mimeType, APP_MIME);
      const { resourceTemplates } = inspector(via, 'resources/templates/list');
      assert.deepEqual(resourceTemplates.map((t) => [t.uriTemplate, t.mimeType]), TEMPLATES);
      const policy = inspector(via, 'resources/read', ['--uri', 'ebpf-mcp://policy']);
      assert.equal(policy.contents[0].mimeType, 'application/json');
      assert.equal(JSON.parse(policy.contents[0].text).profile, 'full');
      const fmt = inspector(via, 'resources/read', ['--uri', 'tracefs://events/sched/sched_switch/format']);
      assert.equal(fmt.contents[0].text, readFileSync(`${TRACEFS}/events/sched/sched_switch/format`, 'utf8'));
      // a missing resource: the server's -32602 becomes the CLI's failure
      const r = inspector(via, 'resources/read', ['--uri', 'bpf://prog/0'], { status: 1 });
      assert.match(r.stderr, /no resource at bpf:\/\/prog\/0/);
    });

    test('prompts/list and prompts/get', () => {
      const { prompts } = inspector(via, 'prompts/list');
      assert.deepEqual(prompts.map((p) => p.name), Object.keys(PROMPTS));
      const p = inspector(via, 'prompts/get', ['--prompt-name', 'tcp_trouble', '--prompt-args', 'comm=curl', 'duration_ms=2000']);
      assert.equal(p.messages[0].role, 'user');
      assert.match(p.messages[0].content.text, /comm="curl" and duration_ms=2000/);
    });

    test('version 1.0.3 cannot send completion/complete', () => {
      const r = inspector(via, 'completion/complete', [], { status: 1 });
      assert.match(r.stderr, /Unsupported method: completion\/complete/);
    });
  });
}

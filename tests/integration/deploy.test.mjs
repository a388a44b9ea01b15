// The MCP client recipes in docs/deploy/clients/: each config file, read the
// way its client reads it, starts a server that passes the smoke suite.
//
// - Every file is parsed as JSON; its mcpServers["ebpf-mcp"] entry gives the
//   command, args and env. The documented install path is swapped for the
//   built binary, and the process is spawned as the SDK-based clients spawn
//   stdio servers: no shell, the SDK's default environment plus the entry's
//   env. The smoke suite runs over its stdin/stdout, with the pid the kernel
//   gave the child as the witness.
// - The MCP Inspector CLI (pinned in tests/package.json) is a second, separate
//   client: it reads the same file with --config/--server, starts the server
//   itself and calls it; the server must report the profile the file's args
//   ask for, and list exactly that profile's tools.
// - Claude Code, when installed (CLAUDE_BIN or `claude` on PATH), reads the
//   project .mcp.json: `claude mcp get` must show the command and args, and
//   `claude mcp list` must connect to the server. It is not a test
//   dependency (a ~380 MB binary under a commercial licence), so without it
//   that test is skipped and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, ROOT, ensureMounts } from '../lib/mcp.mjs';
import { smoke, SMOKE_CHECKS } from '../lib/smoke.mjs';
import { readJson, spawnServer, INSTALLED_BIN } from '../lib/deploy.mjs';

const CONFIGS = [
  ['Claude Desktop', 'clients/claude-desktop/claude_desktop_config.json'],
  ['Claude Code', 'clients/claude-code/.mcp.json'],
  ['Cursor', 'clients/cursor/.cursor/mcp.json'],
];

// The entry as the documented format has it: a stdio server is command +
// args (+ env); "type", when present, says stdio.
function entryOf(rel) {
  const cfg = readJson(rel);
  assert.deepEqual(Object.keys(cfg), ['mcpServers'], `${rel}: one top-level key, mcpServers`);
  const e = cfg.mcpServers['ebpf-mcp'];
  assert.ok(e, `${rel}: mcpServers has an "ebpf-mcp" entry`);
  for (const k of Object.keys(e)) assert.ok(['type', 'command', 'args', 'env'].includes(k), `${rel}: key ${k}`);
  if (e.type !== undefined) assert.equal(e.type, 'stdio');
  assert.equal(e.command, INSTALLED_BIN, `${rel}: the documented install path`);
  assert.ok(Array.isArray(e.args) && e.args.every((a) => typeof a === 'string'), `${rel}: args are strings`);
  for (const v of Object.values(e.env ?? {})) assert.equal(typeof v, 'string');
  return e;
}

// The file with the built binary in place of the install path.
function withBuiltBinary(rel, dir) {
  const cfg = readJson(rel);
  cfg.mcpServers['ebpf-mcp'].command = BIN;
  const out = path.join(dir, path.basename(rel));
  writeFileSync(out, JSON.stringify(cfg, null, 2));
  return out;
}

const PROFILE_OF = (args) => args[args.indexOf('--profile') + 1];

for (const [client, rel] of CONFIGS) {
  test(`${client}: ${rel} starts a server that passes the smoke suite`, async () => {
    ensureMounts();
    const e = entryOf(rel);
    const { proc, server, exited } = spawnServer(BIN, e.args, {
      env: { ...getDefaultEnvironment(), ...(e.env ?? {}) },
    });
    try {
      await server.init();
      const done = await smoke(server, { release: os.release(), pid: proc.pid });
      assert.deepEqual(done, SMOKE_CHECKS);
      const info = await server.ok('info');
      assert.equal(info.server.profile, PROFILE_OF(e.args), 'the profile the config asks for');
    } finally {
      await server.close();
    }
    assert.deepEqual(await exited, { code: 0, sig: null }, 'the server exits 0 when the client closes stdin');
  });
}

// The Inspector's own launcher; run from its build directory because it finds
// its package.json relative to the working directory.
const INSPECTOR = path.join(ROOT, 'tests/node_modules/@modelcontextprotocol/inspector-cli/build/cli.js');

function inspector(config, method, extra = []) {
  const r = spawnSync(process.execPath, [INSPECTOR, '--cli', '--config', config, '--server', 'ebpf-mcp',
    '--method', method, ...extra], { cwd: path.dirname(INSPECTOR), encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `inspector ${method}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('MCP Inspector CLI reads each config file and reaches the server it describes', () => {
  ensureMounts();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-deploy-'));
  try {
    for (const [client, rel] of CONFIGS) {
      const e = entryOf(rel);
      const config = withBuiltBinary(rel, dir);
      const info = inspector(config, 'tools/call', ['--tool-name', 'info']);
      assert.ok(!info.isError, `${client}: info: ${JSON.stringify(info)}`);
      assert.equal(info.structuredContent.server.profile, PROFILE_OF(e.args), `${client}: profile`);
      assert.equal(info.structuredContent.kernel.release, os.release(), `${client}: kernel`);
      const names = inspector(config, 'tools/list').tools.map((t) => t.name);
      // observe: the tracers, not the loaders (the profile table in the spec)
      assert.ok(names.includes('trace_open') && names.includes('inspect_state'), `${client}: ${names}`);
      assert.ok(!names.includes('load_program') && !names.includes('map_update'), `${client}: ${names}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function findClaude() {
  if (process.env.CLAUDE_BIN) return process.env.CLAUDE_BIN;
  const r = spawnSync('sh', ['-c', 'command -v claude'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
const CLAUDE = findClaude();

test('Claude Code reads the project .mcp.json and connects to the server', {
  skip: CLAUDE ? false : 'Claude Code is not installed (set CLAUDE_BIN to its `claude` binary to run this)',
}, () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-claude-home-'));
  const proj = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-claude-proj-'));
  const fresh = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-claude-add-'));
  // A private HOME: no login, no network traffic it can avoid, no updates.
  const env = { PATH: process.env.PATH, HOME: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1' };
  const claude = (cwd, ...args) => execFileSync(CLAUDE, args, { cwd, env, encoding: 'utf8', timeout: 60000,
    stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    // The documented command writes the committed file, byte for byte.
    claude(fresh, 'mcp', 'add', '--scope', 'project', 'ebpf-mcp', '--', INSTALLED_BIN, '--profile', 'observe');
    assert.equal(readFileSync(path.join(fresh, '.mcp.json'), 'utf8').trim(),
      readFileSync(path.join(ROOT, 'docs/deploy/clients/claude-code/.mcp.json'), 'utf8').trim());

    withBuiltBinary('clients/claude-code/.mcp.json', proj);
    const get = claude(proj, 'mcp', 'get', 'ebpf-mcp');
    assert.match(get, /Scope: Project config/);
    assert.match(get, new RegExp(`Command: ${BIN}\\n`));
    assert.match(get, /Args: --profile observe\n/);
    // A project server runs once the user trusts the folder and approves it
    // (what the first interactive `claude` asks); recorded in ~/.claude.json.
    const state = path.join(home, '.claude.json');
    const j = existsSync(state) ? JSON.parse(readFileSync(state, 'utf8')) : {};
    j.projects = { [proj]: { hasTrustDialogAccepted: true, enabledMcpjsonServers: ['ebpf-mcp'] } };
    writeFileSync(state, JSON.stringify(j));
    assert.match(claude(proj, 'mcp', 'list'), new RegExp(`ebpf-mcp: ${BIN} --profile observe - . Connected`));
  } finally {
    for (const d of [home, proj, fresh]) rmSync(d, { recursive: true, force: true });
  }
});

// serve --http on the kernel: both MCP eras over Streamable HTTP, what a
// session's end (DELETE, idle) and a client's leaving (mid-call, mid-stream)
// free, tokens and their profiles in the audit log, /healthz against bpftool
// and /metrics through promtool.
//
// Witnesses: bpftool (prog show id N: exists or not), the daemon's own
// descriptors (/proc/PID/fdinfo: the BPF programs it holds open), promtool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureMounts } from '../lib/mcp.mjs';
import { OBJ_DIR, progExists } from '../lib/kern.mjs';
import { until } from '../lib/daemon.mjs';
import { HttpDaemon, modern, tokenFile, rawExchange, LEGACY, ACCEPT, parseSse } from '../lib/http.mjs';

ensureMounts();

// The BPF programs a process holds open, from its descriptors' fdinfo.
function progsHeldBy(pid) {
  const ids = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let info;
    try { info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'); } catch { continue; }
    const m = info.match(/^prog_id:\s*(\d+)$/m);
    if (m) ids.push(Number(m[1]));
  }
  return ids.sort((a, b) => a - b);
}

// A legacy-era (2025-11-25) client over HTTP: initialize makes the session.
class Legacy {
  constructor(d, token) { this.d = d; this.token = token; this.next = 1; }
  headers(extra = {}) {
    return { 'mcp-session-id': this.sid, 'mcp-protocol-version': LEGACY, ...extra };
  }
  async init() {
    const r = await this.d.post({ jsonrpc: '2.0', id: 0, method: 'initialize',
      params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'http-test', version: '1' } } }, {}, { token: this.token });
    assert.equal(r.status, 200, r.text);
    this.sid = r.headers['mcp-session-id'];
    assert.match(this.sid, /^[0-9a-f]{32}$/);
    const n = await this.d.post({ jsonrpc: '2.0', method: 'notifications/initialized' }, this.headers(), { token: this.token });
    assert.equal(n.status, 202);
    return r.json.result;
  }
  async rpc(method, params = {}, extra = {}) {
    const r = await this.d.post({ jsonrpc: '2.0', id: this.next++, method, params }, this.headers(extra), { token: this.token });
    return r;
  }
  async ok(tool, args = {}) {
    const r = await this.rpc('tools/call', { name: tool, arguments: args });
    assert.equal(r.status, 200, r.text);
    const msg = r.json ?? r.events.at(-1);
    assert.ok(msg.result, JSON.stringify(msg));
    assert.ok(!msg.result.isError, JSON.stringify(msg.result.structuredContent));
    return msg.result.structuredContent;
  }
}

// A request whose response is a stream: resolves with the response once
// its head is in; the caller reads events from it or aborts it.
async function openStream(d, msg, headers = {}) {
  const ac = new AbortController();
  const h = { 'content-type': 'application/json', accept: ACCEPT, ...headers };
  const res = await fetch(d.url, { method: 'POST', headers: h, body: JSON.stringify(msg), signal: ac.signal });
  const reader = res.body.getReader();
  let buf = '';
  const events = [];
  const more = async () => {
    const { value, done } = await reader.read();
    if (done) return false;
    buf += Buffer.from(value).toString('utf8');
    let k;
    while ((k = buf.indexOf('\n\n')) >= 0) {
      events.push(...parseSse(buf.slice(0, k + 2)));
      buf = buf.slice(k + 2);
    }
    return true;
  };
  return { res, events, more, abort: () => ac.abort(), reader };
}

async function withDaemon(args, fn, opts) {
  const d = await HttpDaemon.start(args, opts);
  try {
    return await fn(d);
  } finally {
    await d.kill();
  }
}

test('legacy era: initialize names a session, its calls run in it, DELETE ends it and frees its programs', async () => {
  await withDaemon(['--profile', 'full', '--object-dir', OBJ_DIR], async (d) => {
    const c = new Legacy(d);
    const init = await c.init();
    assert.equal(init.protocolVersion, LEGACY);
    const info = await c.ok('info');
    assert.equal(info.server.mode, 'daemon');
    assert.equal(info.server.protocol_version, LEGACY);
    assert.deepEqual(info.server.caller, { auth: 'none', uid: null, gid: null, pid: null, user: 'anonymous',
      profile: 'full', allow_foreign: false });
    const loaded = await c.ok('load_program', { path: path.join(OBJ_DIR, 'load_basic.bpf.o') });
    const ids = loaded.programs.map((p) => p.id);
    assert.ok(ids.length > 0);
    for (const id of ids) assert.ok(progExists(id), `bpftool lists program ${id}`);
    // the same session on a fresh connection (fetch may pool; the session does not care)
    const state = await c.ok('inspect_state', {});
    assert.ok(state.programs.items.some((p) => ids.includes(p.id) && p.owned), 'the session owns what it loaded');
    // a request without the session id, and with another one
    const anon = await d.post({ jsonrpc: '2.0', id: 9, method: 'tools/list' });
    assert.equal(anon.status, 400);
    assert.match(anon.json.error.message, /Mcp-Session-Id header is required/);
    const other = await d.post({ jsonrpc: '2.0', id: 9, method: 'tools/list' }, { 'mcp-session-id': '0'.repeat(32) });
    assert.equal(other.status, 404);
    assert.equal(other.json.error.code, -32001);

    const del = await fetch(d.url, { method: 'DELETE', headers: { 'mcp-session-id': c.sid } });
    assert.equal(del.status, 200);
    await until('DELETE to free the session\'s programs', () => ids.every((id) => !progExists(id)));
    const after = await c.rpc('tools/list');
    assert.equal(after.status, 404, 'a deleted session is gone');
  });
});

test('legacy era: a session deleted mid-call answers its waiting request 404 and frees the tracer', async () => {
  await withDaemon([], async (d) => {
    const c = new Legacy(d);
    await c.init();
    const before = progsHeldBy(d.pid);
    const call = c.rpc('tools/call', { name: 'trace_exec', arguments: { duration_ms: 20000 } });
    const held = await until('the tracer to load', () => {
      const now = progsHeldBy(d.pid).filter((id) => !before.includes(id));
      return now.length ? now : null;
    });
    for (const id of held) assert.ok(progExists(id));
    const del = await fetch(d.url, { method: 'DELETE', headers: { 'mcp-session-id': c.sid } });
    assert.equal(del.status, 200);
    const r = await call;
    // the job had already turned the exchange into a stream: it ends without a reply
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/event-stream');
    assert.ok(!r.events.some((e) => 'result' in e || 'error' in e), 'a cancelled call sends no reply');
    await until('the tracer\'s programs to go', () => held.every((id) => !progExists(id)));
    assert.deepEqual(progsHeldBy(d.pid), before);
  });
});

test('legacy era: a client that vanishes mid-stream cancels its call (freed) and the session lives on', async () => {
  await withDaemon([], async (d) => {
    const c = new Legacy(d);
    await c.init();
    const before = progsHeldBy(d.pid);
    const st = await openStream(d, { jsonrpc: '2.0', id: 'long', method: 'tools/call',
      params: { name: 'trace_exec', arguments: { duration_ms: 20000 }, _meta: { progressToken: 'p' } } }, c.headers());
    assert.equal(st.res.headers.get('content-type'), 'text/event-stream');
    while (!st.events.length) assert.ok(await st.more(), 'progress arrives');
    assert.equal(st.events[0].method, 'notifications/progress');
    const held = progsHeldBy(d.pid).filter((id) => !before.includes(id));
    assert.ok(held.length > 0);
    st.abort();
    await until('the vanished client\'s tracer to go', () => held.every((id) => !progExists(id)));
    assert.equal((await c.ok('info')).server.protocol_version, LEGACY, 'the session still answers');
  });
});

test('modern era: stateless calls; a client gone mid-stream frees its tracer; headers are checked', async () => {
  await withDaemon([], async (d) => {
    const disc = await d.post(modern(1, 'server/discover'));
    assert.equal(disc.status, 200);
    assert.ok(disc.json.result.supportedVersions.includes('2026-07-28'));
    assert.equal(disc.headers['mcp-session-id'], undefined, 'no session is minted');
    const info = await d.post(modern(2, 'tools/call', { name: 'info', arguments: {} }));
    assert.equal(info.json.result.structuredContent.server.protocol_version, '2026-07-28');
    assert.equal(info.json.result.resultType, 'complete');

    const before = progsHeldBy(d.pid);
    const msg = modern(3, 'tools/call', { name: 'trace_exec', arguments: { duration_ms: 20000 }, _meta: { progressToken: 1 } });
    const st = await openStream(d, msg, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'trace_exec' });
    assert.equal(st.res.status, 200);
    assert.equal(st.res.headers.get('x-accel-buffering'), 'no');
    while (!st.events.length) assert.ok(await st.more());
    const held = progsHeldBy(d.pid).filter((id) => !before.includes(id));
    assert.ok(held.length > 0);
    st.abort();
    await until('the modern stream\'s tracer to go', () => held.every((id) => !progExists(id)));

    // header checks: 400 HeaderMismatch, with the id
    const bad = await d.post(modern(4, 'tools/call', { name: 'info', arguments: {} }), { 'mcp-name': 'inspect_state' });
    assert.equal(bad.status, 400);
    assert.deepEqual([bad.json.id, bad.json.error.code], [4, -32020]);
    const b64 = Buffer.from('info').toString('base64');
    const enc = await d.post(modern(5, 'tools/call', { name: 'info', arguments: {} }), { 'mcp-name': `=?base64?${b64}?=` });
    assert.equal(enc.status, 200, 'a base64 sentinel Mcp-Name is decoded');
    // "aW5mbx==" is "info" to a lax decoder (the 'x' carries a stray low bit):
    // only canonical base64 names the tool
    const lax = await d.post(modern(9, 'tools/call', { name: 'info', arguments: {} }), { 'mcp-name': '=?base64?aW5mbx==?=' });
    assert.equal(lax.status, 400, 'non-canonical base64 is refused');
    assert.deepEqual([lax.json.id, lax.json.error.code], [9, -32020]);
    const noVersion = await d.post(modern(6, 'tools/list'), { 'mcp-protocol-version': undefined });
    assert.equal(noVersion.status, 400);
    assert.equal(noVersion.json.error.code, -32020);
    const unknown = await d.post(modern(7, 'no/such'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, -32601);
    const future = await d.post({ ...modern(8, 'tools/list'), params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } });
    assert.equal(future.status, 400);
    assert.equal(future.json.error.code, -32022);
    assert.ok(future.json.error.data.supported.includes('2026-07-28'));
    const get = await fetch(d.url, { headers: { accept: 'text/event-stream', 'mcp-protocol-version': '2026-07-28' } });
    assert.equal(get.status, 405);
  });
});

test('legacy era: resources/subscribe notifications arrive on the GET stream', async () => {
  await withDaemon(['--profile', 'full', '--object-dir', OBJ_DIR], async (d) => {
    const c = new Legacy(d);
    await c.init();
    const loaded = await c.ok('load_program', { path: path.join(OBJ_DIR, 'maps.bpf.o') });
    const map = loaded.maps.find((m) => m.type === 'hash') ?? loaded.maps[0];
    const uri = `bpf://map/${map.id}`;
    const ac = new AbortController();
    const stream = await fetch(d.url, { headers: { accept: 'text/event-stream', ...c.headers() }, signal: ac.signal });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('content-type'), 'text/event-stream');
    const second = await fetch(d.url, { headers: { accept: 'text/event-stream', ...c.headers() } });
    assert.equal(second.status, 409, 'one GET stream per session');
    const sub = await c.rpc('resources/subscribe', { uri });
    assert.equal(sub.status, 200, sub.text);
    // change the map from outside (bpftool) until a poll has seen it change
    // (the first poll after subscribing only takes its reading)
    const reader = stream.body.getReader();
    let text = '', got = false, pending = null;
    for (let i = 1; i <= 20 && !got; i++) {
      const key = Array.from({ length: map.key_size }, () => '0');
      const val = Array.from({ length: map.value_size }, (_, k) => String(k === 0 ? i : 0));
      const u = spawnSync('bpftool', ['map', 'update', 'id', String(map.id), 'key', ...key, 'value', ...val], { encoding: 'utf8' });
      assert.equal(u.status, 0, u.stderr);
      pending ??= reader.read();
      const r = await Promise.race([pending, new Promise((res) => setTimeout(() => res(null), 1500))]);
      if (!r) continue;
      pending = null;
      text += Buffer.from(r.value ?? []).toString('utf8');
      got = parseSse(text).some((e) => e.method === 'notifications/resources/updated' && e.params.uri === uri);
    }
    assert.ok(got, `resources/updated for ${uri} on the GET stream (got ${text})`);
    ac.abort();
  });
});

test('tokens: each maps to its profile, the audit log names the token and never its value', async () => {
  const tokens = [
    { name: 'ops', token: 'a'.repeat(20) + '1f3e', profile: 'full' },
    { name: 'viewer', token: 'b'.repeat(20) + '9c2d', profile: 'readonly' },
  ];
  const tf = tokenFile(tokens);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-audit-'));
  const audit = path.join(dir, 'audit.log');
  try {
    await withDaemon(['--token-file', tf.file, '--audit-log', audit], async (d) => {
      const none = await d.post(modern(1, 'tools/list'));
      assert.equal(none.status, 401);
      assert.match(none.headers['www-authenticate'], /^Bearer realm="ebpf-mcp"/);
      const list = async (t) => (await d.post(modern(2, 'tools/list'), {}, { token: t.token })).json.result.tools.map((x) => x.name);
      assert.ok((await list(tokens[0])).includes('load_program'));
      assert.ok(!(await list(tokens[1])).includes('load_program'));
      const info = await d.post(modern(3, 'tools/call', { name: 'info', arguments: {} }), {}, { token: tokens[1].token });
      assert.deepEqual(info.json.result.structuredContent.server.caller, { auth: 'token', uid: null, gid: null, pid: null,
        user: 'viewer', profile: 'readonly', allow_foreign: false });
      const wrong = await d.post(modern(4, 'tools/list'), {}, { token: tokens[0].token.slice(0, -1) + '0' });
      assert.equal(wrong.status, 401);
      const h = await d.get('/healthz');
      assert.equal(h.status, 200, '/healthz needs no token');
      assert.equal((await d.get('/metrics')).status, 401, '/metrics does');
    });
    const log = readFileSync(audit, 'utf8');
    for (const t of tokens) assert.ok(!log.includes(t.token), 'no token value in the audit log');
    const lines = log.trim().split('\n').map((l) => JSON.parse(l));
    const call = lines.find((l) => l.event === 'tool_call' && l.tool === 'info');
    assert.deepEqual(call.peer, { token: 'viewer' });
    assert.equal(lines.filter((l) => l.event === 'refused').length, 3, 'no token, a wrong one, /metrics without one');
  } finally {
    tf.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/healthz counts what bpftool sees held; /metrics passes promtool and counts what was done', async () => {
  await withDaemon(['--profile', 'full', '--object-dir', OBJ_DIR], async (d) => {
    const c = new Legacy(d);
    await c.init();
    const loaded = await c.ok('load_program', { path: path.join(OBJ_DIR, 'load_basic.bpf.o') });
    const h = await d.get('/healthz');
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'ok');
    assert.equal(h.json.held.programs, loaded.programs.length);
    assert.equal(h.json.held.programs, progsHeldBy(d.pid).length, 'the daemon holds exactly those');
    for (let i = 0; i < 3; i++) await c.ok('info');
    const failed = await c.rpc('tools/call', { name: 'no_such_tool', arguments: {} });
    assert.equal(failed.json.error.code, -32602);
    const m = await d.get('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: m.text, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
    const value = (series) => {
      const line = m.text.split('\n').find((l) => l.startsWith(series + ' '));
      assert.ok(line, `series ${series}`);
      return Number(line.slice(series.length + 1));
    };
    assert.equal(value('ebpf_mcp_tool_calls_total{tool="info",outcome="ok"}'), 3);
    assert.equal(value('ebpf_mcp_tool_calls_total{tool="load_program",outcome="ok"}'), 1);
    assert.equal(value('ebpf_mcp_requests_total{method="tools/call",outcome="ok"}'), 4);
    assert.equal(value('ebpf_mcp_requests_total{method="tools/call",outcome="error"}'), 1);
    assert.equal(value('ebpf_mcp_requests_total{method="initialize",outcome="ok"}'), 1);
    assert.equal(value('ebpf_mcp_tool_duration_seconds_count{tool="info"}'), 3);
    assert.equal(value('ebpf_mcp_kernel_objects{kind="program"}'), loaded.programs.length);
    assert.equal(value('ebpf_mcp_sessions'), 1);
    assert.ok(value('ebpf_mcp_http_responses_total{code="200"}') >= 6);
    assert.equal(value('ebpf_mcp_http_responses_total{code="202"}'), 1);
  });
});

test('--http beside --socket: both serve, each session counted once', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-both-'));
  const sock = path.join(dir, 's.sock');
  try {
    await withDaemon(['--socket', sock], async (d) => {
      await until('the socket', () => spawnSync('test', ['-S', sock]).status === 0);
      const c = new Legacy(d);
      await c.init();
      const s = net.createConnection(sock);
      await new Promise((res) => s.once('connect', res));
      let got = '';
      s.setEncoding('utf8').on('data', (x) => { got += x; });
      s.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 't', version: '1' } } }) + '\n');
      s.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'info', arguments: {} } }) + '\n');
      await until('the socket session\'s info', () => got.split('\n').filter(Boolean).length >= 2);
      const info = JSON.parse(got.split('\n')[1]).result.structuredContent.server;
      assert.equal(info.sessions, 2, 'one socket session and one HTTP session');
      s.end();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an idle legacy session ends after http_session_idle_ms and frees its programs', async () => {
  await withDaemon(['--profile', 'full', '--object-dir', OBJ_DIR, '--limit', 'http_session_idle_ms=1500'], async (d) => {
    const c = new Legacy(d);
    await c.init();
    const loaded = await c.ok('load_program', { path: path.join(OBJ_DIR, 'load_basic.bpf.o') });
    const ids = loaded.programs.map((p) => p.id);
    await until('the idle session to end', () => ids.every((id) => !progExists(id)), 15000, 100);
    assert.equal((await c.rpc('tools/list')).status, 404);
  });
});

test('SIGTERM: an open subscriptions/listen stream gets its closing result; the daemon exits 0', async () => {
  const d = await HttpDaemon.start([]);
  try {
    const st = await openStream(d, modern(1, 'subscriptions/listen', { notifications: { resourceSubscriptions: ['ebpf-mcp://limits'] } }),
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' });
    while (!st.events.length) assert.ok(await st.more());
    assert.equal(st.events[0].method, 'notifications/subscriptions/acknowledged');
    d.proc.kill('SIGTERM');
    while (await st.more());
    const last = st.events.at(-1);
    assert.equal(last.id, 1);
    assert.equal(last.result.resultType, 'complete');
    assert.deepEqual(await d.exited, { code: 0, sig: null });
  } finally {
    await d.kill();
  }
});

test('a wildcard bind takes any Host until --allow-host names them; an https Origin of an allowed name is taken', async () => {
  const tf = tokenFile([{ name: 'ops', token: 'c'.repeat(24), profile: 'observe' }]);
  const head = (port, host, extra = '') =>
    `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`;
  const status = async (port, host, extra) => {
    const r = await rawExchange(port, head(port, host, extra), { idleMs: 3000 });
    return Number(r.data.slice(9, 12));
  };
  try {
    await withDaemon(['--token-file', tf.file], async (d) => {
      assert.equal(await status(d.port, `anything.example:${d.port}`), 200, 'no --allow-host: any name');
    }, { addr: '0.0.0.0:0' });
    await withDaemon(['--token-file', tf.file, '--allow-host', 'mcp.example.com'], async (d) => {
      assert.equal(await status(d.port, `anything.example:${d.port}`), 403, 'only the names given');
      assert.equal(await status(d.port, 'mcp.example.com'), 200);
      assert.equal(await status(d.port, 'mcp.example.com', 'Origin: https://mcp.example.com\r\n'), 200, 'behind a TLS proxy');
      assert.equal(await status(d.port, 'mcp.example.com', 'Origin: https://evil.example\r\n'), 403);
    }, { addr: '0.0.0.0:0' });
  } finally {
    tf.cleanup();
  }
});

// The official v2 MCP client (@modelcontextprotocol/client) as a real client
// of ebpf-mcp in the modern era (MCP 2026-07-28: stateless, server/discover,
// the protocol version and client info in every request's _meta).
//
// Each connection is made with versionNegotiation 'auto' (the client probes
// with server/discover first) and pinned to 2026-07-28, over four ways in:
//   stdio    StdioClientTransport running bin/ebpf-mcp itself;
//   connect  StdioClientTransport running `ebpf-mcp connect SOCKET` against a
//            daemon (`ebpf-mcp serve`);
//   socket   a transport of this file on a node net socket to that daemon;
//   http     the client's StreamableHTTPClientTransport against
//            `ebpf-mcp serve --http` (stateless POSTs; a tap on its fetch sees
//            the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers).
// On each: the era is checked to be modern (the info tool's
// server.protocol_version, the -32601 a modern ping gets, and the _meta on
// every request the client sent); every tool is listed and called, with {}
// and with arguments that must succeed, and every structuredContent is
// checked by the client itself (against the outputSchema it cached), by ajv
// and against its text block; every resource template is read with real ids
// (a program, map and link loaded and attached for it), every static
// resource, every prompt got, every template and prompt argument completed;
// subscriptions/listen is acknowledged and carries a change made with
// bpftool; and what the client hides (resultType) or keeps (ttlMs,
// cacheScope, serverInfo) is checked on the raw JSON a tap on the transport
// saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, SdkError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { BIN, ensureMounts } from '../lib/mcp.mjs';
import { Daemon } from '../lib/daemon.mjs';
import { HttpDaemon, modern, tapFetch } from '../lib/http.mjs';
import {
  OBJ_DIR, loadFixtures, checkTemplateList, checkResourceList, checkReads, checkPrompts, checkCompletion,
  pool, bpftoolUpdate, updatedAfter,
} from '../lib/surface.mjs';

const Ajv = AjvModule.default ?? AjvModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;
const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
addFormats(ajv);

const MODERN = '2026-07-28';
const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_SERVER = 'io.modelcontextprotocol/serverInfo';
const META_SUB = 'io.modelcontextprotocol/subscriptionId';
const RAW_META = {
  [META_VERSION]: MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'ebpf-mcp-modern-test', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const PIN_DIR = `/sys/fs/bpf/ebpf-mcp-modern-${process.pid}`;
const SERVER_ARGS = ['--profile', 'full', '--object-dir', OBJ_DIR, '--pin-dir', PIN_DIR];
const MODES = { auto: 'auto', pin: { pin: MODERN } };
// results that must carry ttlMs and cacheScope in this revision
const CACHEABLE = ['tools/list', 'resources/list', 'resources/templates/list', 'resources/read'];
// the kernel's kprobe interfaces (this host has none; fentry is refused too)
const KPROBES = existsSync('/sys/bus/event_source/devices/kprobe') || existsSync('/sys/kernel/tracing/kprobe_events');
const TRACERS = ['block_io_latency', 'offcpu_profile', 'oom_kills', 'profile_cpu', 'runq_latency', 'skb_drops', 'syscall_stats',
  'tcp_retransmits', 'trace_errors', 'trace_exec', 'trace_open', 'trace_tcp'];

// A client transport on a unix socket: newline-delimited JSON-RPC, as the
// daemon speaks it. (No stderr/pid: the client treats it as a remote
// transport and probes on the connection itself.)
class SocketTransport {
  constructor(socketPath) { this.socketPath = socketPath; }

  async start() {
    this.sock = net.createConnection(this.socketPath);
    this.closed = new Promise((res) => this.sock.once('close', res));
    await new Promise((res, rej) => { this.sock.once('connect', res); this.sock.once('error', rej); });
    let buf = '';
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg;
        try { msg = JSON.parse(line); } catch (e) { this.onerror?.(e); continue; }
        this.onmessage?.(msg);
      }
    });
    this.sock.on('error', (e) => this.onerror?.(e));
    this.sock.on('close', () => this.onclose?.());
  }

  async send(message) {
    await new Promise((res, rej) => this.sock.write(JSON.stringify(message) + '\n', (e) => (e ? rej(e) : res())));
  }

  async close() {
    if (!this.sock) return;
    this.sock.end();
    await this.closed;
  }
}

let daemon;
let httpd;

before(async () => {
  ensureMounts();
  mkdirSync(PIN_DIR, { recursive: true });
  daemon = await Daemon.start(SERVER_ARGS);
  httpd = await HttpDaemon.start(SERVER_ARGS);
});

after(async () => {
  for (const d of [daemon, httpd]) {
    if (!d) continue;
    await d.stop();
    await d.kill();
  }
  if (existsSync(PIN_DIR)) rmSync(PIN_DIR, { recursive: true, force: true });
});

// A v2 client on `via` with versionNegotiation `mode`, and a tap on its
// transport: every message both ways as JSON (`inbound`, `outbound`), and
// `raw(method, params, meta)` for requests the client would not send (a
// modern ping): their replies are taken off the tap (the client reports them
// as unknown ids on onerror, which is expected for those ids only). Over
// HTTP, `c.http` is the fetch tap's log and `c.status(id)` the HTTP status a
// request was answered with.
async function open(via, mode) {
  let transport;
  const tap = tapFetch();
  if (via === 'http') {
    transport = new StreamableHTTPClientTransport(new URL(httpd.url), { fetch: tap.fetch });
  } else if (via === 'stdio') {
    transport = new StdioClientTransport({ command: BIN, args: ['--validate-output', ...SERVER_ARGS], stderr: 'pipe' });
  } else if (via === 'connect') {
    transport = new StdioClientTransport({ command: daemon.pub.bin, args: ['connect', daemon.socket], stderr: 'pipe' });
  } else {
    transport = new SocketTransport(daemon.socket);
  }
  const c = { via, mode, transport, inbound: [], outbound: [], errors: [], waiters: new Map(), stderr: '', n: 0,
    unsupported: new Set() };
  if (via === 'http') {
    c.http = tap.log;
    c.status = (id) => tap.log.find((e) => e.body?.id === id)?.status;
  }
  transport.stderr?.on('data', (d) => { c.stderr += d; });
  // inbound: a handler set before connect() is chained by the client
  transport.onmessage = (m) => {
    c.inbound.push(m);
    if (m.id !== undefined && c.waiters.has(m.id)) {
      c.waiters.get(m.id)(m);
      c.waiters.delete(m.id);
    }
  };
  const send = transport.send.bind(transport);
  transport.send = (m, o) => { c.outbound.push(m); return send(m, o); };
  c.client = new Client({ name: 'ebpf-mcp-modern-test', version: '1.0.0' }, { versionNegotiation: { mode: MODES[mode] } });
  c.client.onerror = (e) => { c.errors.push(e); };
  await c.client.connect(transport);
  c.raw = (method, params = {}, meta = RAW_META) => new Promise((resolve, reject) => {
    const id = `raw-${++c.n}`;
    const t = setTimeout(() => reject(new Error(`timeout: raw ${method}`)), 30000);
    const done = (m) => { clearTimeout(t); c.waiters.delete(id); resolve(m); };
    c.waiters.set(id, done);
    // over HTTP, a reply with an error status the transport does not pass on
    // (all but a modern request's 400) is in the error it throws
    Promise.resolve(transport.send({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } })).catch((e) => {
      const m = replyIn(e, id);
      if (m) return done(m);
      clearTimeout(t);
      reject(e);
    });
  });
  c.tools = (await c.client.listTools()).tools;
  return c;
}

// The JSON-RPC reply to request `id` an HTTP transport's error carries.
function replyIn(e, id) {
  try {
    const m = JSON.parse(e?.data?.text);
    return m?.id === id ? m : null;
  } catch {
    return null;
  }
}

// The errors the client reported that are not the raw requests' replies
// (an unknown id; over HTTP also the error status some of them come with).
const unexpectedErrors = (c) => c.errors.filter((e) =>
  !/(unknown message ID|Error POSTing to endpoint).*"raw-\d+"/.test(String(e?.message)));

async function close(c) {
  await c.client.close();
  assert.deepEqual(unexpectedErrors(c).map(String), [], `${c.via}: client errors`);
}

// The checks every tools/call result gets: ajv against the tool's
// outputSchema, one text block holding the same JSON, an error's shape.
function checkResult(tool, r) {
  assert.equal(typeof r.isError, 'boolean', `${tool.name}: isError`);
  assert.equal(typeof r.structuredContent, 'object', `${tool.name}: structuredContent`);
  const validate = ajv.compile(tool.outputSchema);
  assert.ok(validate(r.structuredContent), `${tool.name}: ajv against outputSchema: ${ajv.errorsText(validate.errors)}`);
  assert.equal(r.content.length, 1, `${tool.name}: one content block`);
  assert.equal(r.content[0].type, 'text');
  assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent, `${tool.name}: the text block is structuredContent`);
  assert.equal(r._meta?.[META_SERVER]?.name, 'ebpf-mcp', `${tool.name}: serverInfo in _meta`);
  if (r.isError) {
    const e = r.structuredContent.error;
    assert.ok(['validation', 'permission', 'resource', 'kernel', 'internal'].includes(e.category));
    assert.match(e.code, /^[A-Z][A-Z0-9_]*$/);
    assert.ok(e.message.length > 10);
  }
}

async function call(c, name, args, succeeded) {
  const tool = c.tools.find((t) => t.name === name);
  assert.ok(tool, `${name} is listed`);
  const r = await c.client.callTool({ name, arguments: args });   // the client validates against outputSchema
  checkResult(tool, r);
  if (!r.isError) succeeded?.add(name);
  return r;
}

async function ok(c, name, args, succeeded) {
  const r = await call(c, name, args, succeeded);
  assert.equal(r.isError, false, `${name} ${JSON.stringify(args)}: ${JSON.stringify(r.structuredContent.error)}`);
  return r.structuredContent;
}

async function checkEra(c) {
  const { client } = c;
  assert.equal(client.getProtocolEra(), 'modern');
  assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
  assert.equal(client.getServerVersion()?.name, 'ebpf-mcp');
  const caps = client.getServerCapabilities();
  assert.ok(caps.tools && caps.prompts && caps.completions, JSON.stringify(caps));
  assert.equal(caps.resources?.subscribe, true);
  assert.ok(client.getInstructions().length > 20);
  // the server says which revision this request was served in
  const info = await ok(c, 'info', {});
  assert.equal(info.server.protocol_version, MODERN);
  // ping is gone in this revision: the client will not send it, and the
  // server answers one sent anyway with -32601
  await assert.rejects(client.ping(), (e) => e instanceof SdkError);
  for (const [method, params] of [['ping', {}], ['logging/setLevel', { level: 'debug' }], ['resources/subscribe', { uri: 'ebpf-mcp://limits' }],
    ['initialize', { protocolVersion: MODERN, capabilities: {}, clientInfo: { name: 'x', version: '1' } }]]) {
    const r = await c.raw(method, params);
    assert.equal(r.error?.code, -32601, `${method}: ${JSON.stringify(r)}`);
    assert.ok(r.error.message.includes(MODERN), r.error.message);
    if (c.http) assert.equal(c.status(r.id), 404, `${method}: HTTP status`);
  }
  // the same ping without the modern _meta is a legacy request: answered in
  // the connection's session; over HTTP the client's transport sends the
  // revision it negotiated in MCP-Protocol-Version on every POST, and a
  // request of that revision must carry it in _meta: invalid params
  const lp = await c.raw('ping', {}, {});
  if (c.http) {
    assert.equal(lp.error?.code, -32602, JSON.stringify(lp));
    assert.match(lp.error.message, /MCP-Protocol-Version/);
    assert.equal(c.status(lp.id), 400);
  } else {
    assert.deepEqual(lp.result, {});
  }
  // a revision the server does not know: -32022 with what it supports
  const u = await c.raw('tools/list', {}, { ...RAW_META, [META_VERSION]: '2099-01-01' });
  assert.equal(u.error?.code, -32022);
  if (c.http) assert.equal(c.status(u.id), 400);
  assert.equal(u.error.data.requested, '2099-01-01');
  assert.ok(u.error.data.supported.includes(MODERN) && u.error.data.supported.includes('2025-11-25'));
  // server/discover, as the client sends it
  const d = await client.discover();
  assert.ok(d.supportedVersions.includes(MODERN));
  const dr = c.inbound.findLast((m) => m.result?.supportedVersions);
  assert.equal(dr.result.resultType, 'complete');
  assert.equal(dr.result._meta[META_SERVER].name, 'ebpf-mcp');
  assert.equal(typeof dr.result.ttlMs, 'number');
  assert.ok(['public', 'private'].includes(dr.result.cacheScope));
  // the log level named in one request's _meta: that request's log lines
  const before = c.inbound.length;
  const bad = await call(c, 'info', { no_such_argument: 1 });
  assert.equal(bad.structuredContent.error.code, 'SCHEMA');
  assert.ok(!c.inbound.slice(before).some((m) => m.method === 'notifications/message'), 'no log lines by default');
  const r = await c.client.callTool({ name: 'info', arguments: { no_such_argument: 1 }, _meta: { 'io.modelcontextprotocol/logLevel': 'info' } });
  assert.equal(r.isError, true);
  const logs = c.inbound.slice(before).filter((m) => m.method === 'notifications/message');
  assert.ok(logs.some((m) => m.params.level === 'info' && /SCHEMA/.test(m.params.data)), JSON.stringify(logs));
}

async function checkToolsEmpty(c, succeeded, notes) {
  assert.ok(c.tools.length >= 20, `${c.tools.length} tools`);
  for (const t of c.tools) {
    assert.equal(t.inputSchema.type, 'object', `${t.name}.inputSchema`);
    assert.equal(t.outputSchema?.type, 'object', `${t.name}.outputSchema`);
    assert.doesNotThrow(() => ajv.compile(t.inputSchema), `${t.name}.inputSchema compiles`);
  }
  const called = c.tools.filter((t) => !t.annotations.destructiveHint);
  for (const t of c.tools) if (t.annotations.destructiveHint) notes.add(`not called with {}: ${t.name} (destructiveHint)`);
  await pool(called, 4, async (t) => {
    const r = await call(c, t.name, {}, succeeded);
    notes.add(`${t.name} {} -> ${r.isError ? r.structuredContent.error.code : 'ok'}`);
  });
}

async function checkToolsRich(c, succeeded) {
  const s = succeeded;
  for (const [name, args] of [
    ['get_btf_types', { name: 'task_struct' }],
    ['list_tracepoints', { category: 'syscalls', limit: 5, include_format: true }],
    ['list_kernel_functions', { pattern: 'vfs_*', limit: 5 }],
    ['list_bpf_program_types', { limit: 5 }],
    ['list_bpf_map_types', { limit: 5 }],
    ['inspect_state', { limit: 5 }],
  ]) await ok(c, name, args, s);
  const o = await ok(c, 'load_program', { path: path.join(OBJ_DIR, 'attach_trace.bpf.o') }, s);
  const prog = o.programs.find((p) => p.name === 'count_raw');
  const link = await ok(c, 'attach_program', { program_id: prog.id, type: 'raw_tracepoint', target: 'sys_enter' }, s);
  assert.equal(link.kernel_link, true);
  const dump = await ok(c, 'prog_dump', { program_id: prog.id, limit: 4 }, s);
  assert.equal(dump.returned, Math.min(4, dump.total));
  const stats = await ok(c, 'prog_stats', { duration_ms: 200, program_ids: [prog.id] }, s);
  assert.equal(stats.programs[0].id, prog.id);
  const m = await ok(c, 'load_program', { path: path.join(OBJ_DIR, 'maps.bpf.o') }, s);
  const hash = m.maps.find((x) => x.name === 'mt_hash');
  // what a modern call loaded belongs to the caller's identity, under a lease
  const st = await ok(c, 'inspect_state', { kinds: ['program'], id: prog.id }, s);
  assert.equal(st.programs.items[0].owned, true);
  const h = st.owned.handles.find((x) => x.handle === o.handle);
  assert.equal(h.owner, 'identity', JSON.stringify(h));
  assert.equal(h.lease_ms, 300000);
  assert.equal(typeof h.owner_id, 'number');
  assert.ok(h.programs.includes(prog.id));
  await ok(c, 'map_update', { map_id: hash.id, entries: [{ key: 7, value: 42 }] }, s);
  assert.deepEqual((await ok(c, 'map_lookup', { map_id: hash.id, keys: [7] }, s)).results, [{ key: 7, found: true, value: 42 }]);
  assert.deepEqual((await ok(c, 'map_dump', { map_id: hash.id }, s)).entries, [{ key: 7, value: 42 }]);
  const pinPath = path.join(PIN_DIR, `${c.via}-${c.mode}`);
  await ok(c, 'pin_object', { kind: 'map', id: hash.id, path: pinPath }, s);
  assert.ok(existsSync(pinPath));
  assert.equal((await ok(c, 'map_lookup', { pin_path: pinPath, keys: [7] }, s)).found, 1);
  await ok(c, 'unpin_object', { path: pinPath }, s);
  assert.ok(!existsSync(pinPath));
  assert.equal((await ok(c, 'map_delete', { map_id: hash.id, keys: [7] }, s)).deleted, 1);
  const sm = await ok(c, 'load_program', { path: path.join(OBJ_DIR, 'stream.bpf.o') }, s);
  const ev = await ok(c, 'stream_events', { handle: sm.handle, map: 'events', struct: 'event', duration_ms: 200, max_events: 10 }, s);
  assert.equal(ev.stopped_by, 'duration');
  await pool(TRACERS, 4, async (name) => {
    const r = await ok(c, name, { duration_ms: 300 }, s);
    // a busy machine can fill an event tracer's list before 300 ms
    assert.ok(['duration', 'max_events'].includes(r.stopped_by), `${name}: ${r.stopped_by}`);
  });
  // a tracer in the background: the caller's identity holds its handle
  const bg = await ok(c, 'trace_start', { tracer: 'syscall_stats', arguments: { duration_ms: 60000 } }, s);
  assert.equal(bg.owner, 'identity');
  assert.equal((await ok(c, 'trace_read', { handle: bg.handle }, s)).running, true);
  assert.equal((await ok(c, 'trace_stop', { handle: bg.handle }, s)).stopped_by, 'trace_stop');
  // trace_function needs fentry or kprobes (tests/guest proves it traces):
  // a kernel with neither gets the error saying so
  const tf = await call(c, 'trace_function', { function: 'do_sys_openat2', duration_ms: 300, max_events: 5 }, s);
  if (tf.isError && !KPROBES) {
    const e = tf.structuredContent.error;
    assert.equal(e.code, 'NO_FUNCTION_TRACING', JSON.stringify(e));
    assert.match(e.context.fentry, /^loading fentry\/fexit for do_sys_openat2 failed: E/);
    c.unsupported.add('trace_function');
  } else {
    assert.equal(tf.isError, false, JSON.stringify(tf.structuredContent));
  }
  assert.equal((await ok(c, 'detach_link', { link_id: link.link_id }, s)).owned, true);
  for (const handle of [o.handle, m.handle, sm.handle]) {
    assert.equal((await ok(c, 'unload_program', { handle }, s)).handle, handle);
  }
}

// Mcp-Name's value: plain, or =?base64?...?= for what a header cannot carry.
const headerName = (v) => (/^=\?base64\?.*\?=$/.test(v ?? '') ? Buffer.from(v.slice(9, -2), 'base64').toString('utf8') : v);
const NAME_OF = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

// Over HTTP, what went over the wire (the fetch tap): every request a POST
// whose headers repeat its body (MCP-Protocol-Version, Mcp-Method, Mcp-Name),
// no session id either way, no GET stream; a reply is JSON unless the call
// streamed (a tracer runs as a job; listen is a stream, and carried the news).
// Then what the headers are for: a POST whose headers disagree with its body
// is refused with 400 and -32020, and the same body with the right ones runs.
async function checkHttp(c) {
  const streamed = new Set();
  for (const e of c.http) {
    const m = e.body;
    const what = `${m.method} ${m.id}`;
    assert.equal(e.method, 'POST', `${what}: the modern era has no GET stream and no DELETE`);
    assert.equal(e.headers['mcp-session-id'], undefined, what);
    assert.equal(e.sessionId, null, `${what}: no session is named`);
    // the body's revision, else the one the client negotiated
    const v = m.params?._meta?.[META_VERSION];
    assert.equal(e.headers['mcp-protocol-version'], v ?? MODERN, what);
    if (m.id === undefined) {
      // a notification (the client's cancellation of listen): accepted, and
      // what headers it has agree with it
      if (e.headers['mcp-method'] !== undefined) assert.equal(e.headers['mcp-method'], m.method, what);
      assert.equal(e.status, 202, what);
      continue;
    }
    assert.equal(e.headers['mcp-method'], v ? m.method : undefined, what);
    assert.equal(headerName(e.headers['mcp-name']), v && NAME_OF[m.method] ? m.params[NAME_OF[m.method]] : undefined, what);
    if (String(m.id).startsWith('raw-')) continue;
    assert.equal(e.status, 200, what);
    if (e.contentType.startsWith('text/event-stream')) streamed.add(m.method === 'tools/call' ? m.params.name : m.method);
    else assert.match(e.contentType, /^application\/json/, what);
  }
  for (const name of [...TRACERS, 'subscriptions/listen']) assert.ok(streamed.has(name), `${name} answered as an event stream`);
  assert.ok(!streamed.has('tools/list'), 'tools/list answered as JSON');
  const listen = c.http.find((e) => e.body.method === 'subscriptions/listen');
  assert.match(listen.sse, /notifications\/resources\/updated/, 'the listen stream carried the news');
  const body = modern('wrong-header', 'tools/call', { name: 'info', arguments: {}, _meta: RAW_META });
  for (const [headers, says] of [[{ 'mcp-name': 'inspect_state' }, /Mcp-Name/], [{ 'mcp-method': 'tools/list' }, /Mcp-Method/],
    [{ 'mcp-protocol-version': undefined }, /MCP-Protocol-Version/]]) {
    const r = await httpd.post(body, headers);
    assert.equal(r.status, 400, `${JSON.stringify(headers)}: ${r.text}`);
    assert.equal(r.json.error.code, -32020, r.text);
    assert.match(r.json.error.message, says);
  }
  const r = await httpd.post(body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.result.structuredContent.server.protocol_version, MODERN);
  // a notification's headers must agree too, but may be left out: the v2
  // client cancels subscriptions/listen with a notifications/cancelled that
  // has none but MCP-Protocol-Version (its SDK requires them of requests only)
  const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'listen:0', _meta: RAW_META } };
  assert.equal((await httpd.post(cancel, { 'mcp-method': undefined })).status, 202);
  assert.equal((await httpd.post(cancel, { 'mcp-method': undefined, 'mcp-protocol-version': undefined })).status, 202);
  const wrong = await httpd.post(cancel, { 'mcp-method': 'notifications/progress' });
  assert.equal(wrong.status, 400, wrong.text);
  assert.equal(wrong.json.error.code, -32020);
}

// The raw replies to the client's own requests: resultType and serverInfo
// on every one, ttlMs and cacheScope where this revision asks for them.
function checkRaw(c) {
  const methodOf = new Map(c.outbound.filter((m) => m.method && m.id !== undefined).map((m) => [m.id, m.method]));
  let n = 0;
  const seen = new Set();
  for (const m of c.inbound) {
    if (m.id === undefined || String(m.id).startsWith('raw-')) continue;
    const method = methodOf.get(m.id);
    if (!method || method === 'subscriptions/listen' || m.error) continue;   // errors: the tests that asked for them
    assert.equal(m.result.resultType, 'complete', `${method}: resultType`);
    assert.equal(m.result._meta?.[META_SERVER]?.name, 'ebpf-mcp', `${method}: serverInfo`);
    if (CACHEABLE.includes(method)) {
      assert.ok(Number.isInteger(m.result.ttlMs) && m.result.ttlMs >= 0, `${method}: ttlMs`);
      assert.ok(['public', 'private'].includes(m.result.cacheScope), `${method}: cacheScope`);
    }
    seen.add(method);
    n++;
  }
  for (const method of ['tools/list', 'tools/call', 'resources/list', 'resources/templates/list', 'resources/read',
    'prompts/list', 'prompts/get', 'completion/complete']) assert.ok(seen.has(method), `a reply to ${method} was seen`);
  // every request the client sent named the revision and the client
  for (const m of c.outbound.filter((x) => x.method && !String(x.id).startsWith('raw-'))) {
    assert.equal(m.params?._meta?.[META_VERSION], MODERN, `${m.method}: _meta protocolVersion`);
    if (m.id !== undefined) assert.equal(m.params._meta['io.modelcontextprotocol/clientInfo']?.name, 'ebpf-mcp-modern-test', m.method);
  }
  return n;
}

const MATRIX = [['stdio', 'auto'], ['stdio', 'pin'], ['connect', 'auto'], ['connect', 'pin'], ['socket', 'auto'], ['socket', 'pin'],
  ['http', 'auto'], ['http', 'pin']];

for (const [via, mode] of MATRIX) {
  test(`v2 client over ${via}, versionNegotiation ${mode}: modern era, tools, resources, prompts, completion`, async (t) => {
    const c = await open(via, mode);
    const succeeded = new Set();
    const notes = new Set();
    try {
      await t.test('the era is modern', () => checkEra(c));
      await t.test('every tool listed and called with {}', () => checkToolsEmpty(c, succeeded, notes));
      await t.test('richer calls that must succeed, for every tool', async () => {
        await checkToolsRich(c, succeeded);
        assert.deepEqual(c.tools.map((x) => x.name).filter((n) => !succeeded.has(n) && !c.unsupported.has(n)), [],
          'every tool succeeded once, but what this kernel cannot run');
      });
      const fx = await loadFixtures((name, args) => ok(c, name, args));
      await t.test('resources: templates, the list, every template read with real ids, static ones', async () => {
        await checkTemplateList(c.client);
        await checkResourceList(c.client, fx);
        // no serving from the client's cache: each read goes to the server
        await checkReads(c.client, fx, { cacheMode: 'bypass' });
      });
      await t.test('prompts: every prompt got with valid arguments', () => checkPrompts(c.client));
      await t.test('completion: every template and prompt argument', () => checkCompletion(c.client, fx));
      await t.test('subscriptions/listen: acknowledged, then a change to a watched map is notified', async () => {
        const uri = `bpf://map/${fx.map.id}`;
        const from = c.inbound.length;
        const sub = await c.client.listen({ resourceSubscriptions: [uri] });
        assert.deepEqual(sub.honoredFilter, { resourceSubscriptions: [uri] });
        const ack = c.inbound.slice(from).find((m) => m.method === 'notifications/subscriptions/acknowledged');
        const listenId = c.outbound.findLast((m) => m.method === 'subscriptions/listen').id;
        assert.equal(ack.params._meta[META_SUB], listenId);
        await new Promise((r) => setTimeout(r, 1500));   // the first reading (polls are 1 s apart)
        bpftoolUpdate(fx.map.id, 1, 1);
        const n = await updatedAfter(c.inbound, from, uri);
        assert.ok(n, `no notifications/resources/updated for ${uri}`);
        assert.equal(n.params._meta[META_SUB], listenId);
        await sub.close();
        assert.equal(await sub.closed, 'local');
      });
      await t.test('the raw replies: resultType, serverInfo, ttlMs and cacheScope', () => { checkRaw(c); });
      if (via === 'http') await t.test('HTTP: headers repeat each body, no session, a wrong Mcp-Name is refused', () => checkHttp(c));
      for (const handle of fx.handles) await ok(c, 'unload_program', { handle });
    } finally {
      await close(c);
      t.diagnostic(`${via} ${mode}: ${c.tools.length} tools, ${c.inbound.length} messages in, ${c.outbound.length} out`);
      if (via === 'stdio' && mode === 'auto') for (const n of notes) t.diagnostic(n);
    }
  });
}

// The server's answers, not the way in, are what these check: stdio, and HTTP
// (where listen is one long event stream).
for (const via of ['stdio', 'http']) {
  // Every change of a watched map is news, not only the first: the server
  // reads watched resources every second and tells when the reading differs.
  test(`subscriptions/listen over ${via}: each of three changes to a watched map is notified`, async () => {
    const c = await open(via, 'pin');
    try {
      const m = await ok(c, 'load_program', { path: path.join(OBJ_DIR, 'maps.bpf.o') });
      const id = m.maps.find((x) => x.name === 'mt_hash').id;
      const uri = `bpf://map/${id}`;
      const sub = await c.client.listen({ resourceSubscriptions: [uri] });
      await new Promise((r) => setTimeout(r, 1500));
      for (const key of [1, 2, 3]) {
        const from = c.inbound.length;
        bpftoolUpdate(id, key, 10 * key);
        const n = await updatedAfter(c.inbound, from, uri, 4000);
        assert.ok(n, `change ${key} (key ${key} added) of ${uri} was not notified`);
      }
      await sub.close();
      await ok(c, 'unload_program', { handle: m.handle });
    } finally {
      await close(c);
    }
  });

  // What completion offers must be accepted where it is offered for.
  test(`completion over ${via}: every comm offered fits the prompts' comm argument (at most 15 bytes)`, async () => {
    const c = await open(via, 'pin');
    try {
      // kernel workers: /proc/PID/comm shows them with their workqueue
      // ("kworker/0:1-events"), longer than the 15-byte comm the tracers see
      const { completion: { values } } = await c.client.complete({ ref: { type: 'ref/prompt', name: 'tcp_trouble' }, argument: { name: 'comm', value: 'kworker/' } });
      assert.ok(values.length > 0, 'this kernel runs kworker threads');
      const refused = [];
      for (const comm of values) {
        const e = await c.client.getPrompt({ name: 'tcp_trouble', arguments: { comm } }).then(() => null, (err) => err);
        if (e) refused.push(`${comm} (${Buffer.byteLength(comm)} bytes): ${e.code} ${e.message}`);
      }
      assert.equal(refused.length, 0, `${refused.length} of ${values.length} completed values refused, e.g. ${refused.slice(0, 2).join('; ')}`);
    } finally {
      await close(c);
    }
  });

  test(`completion over ${via}: every BTF type name offered names a readable btf://vmlinux resource`, async () => {
    const c = await open(via, 'pin');
    try {
      const unreadable = [];
      for (const prefix of ['.', 'task_s']) {
        const { completion: { values } } = await c.client.complete({ ref: { type: 'ref/resource', uri: 'btf://vmlinux/{type}' }, argument: { name: 'type', value: prefix } });
        // '.' starts only section names (.data..percpu): none is a readable type
        assert.equal(values.length > 0, prefix !== '.', `${prefix}: ${values.slice(0, 3)}`);
        for (const v of values) {
          const e = await c.client.readResource({ uri: `btf://vmlinux/${v}` }, { cacheMode: 'bypass' }).then(() => null, (err) => err);
          if (e) unreadable.push(`${v}: ${e.code} ${e.message}`);
        }
      }
      assert.equal(unreadable.length, 0, `completed type names whose resource cannot be read: ${unreadable.slice(0, 3).join('; ')}`);
    } finally {
      await close(c);
    }
  });
}

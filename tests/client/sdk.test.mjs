// The official MCP TypeScript SDK (v1, @modelcontextprotocol/sdk) as a real
// client of bin/ebpf-mcp in the legacy era (2025-11-25), over two ways in:
//   stdio  StdioClientTransport running bin/ebpf-mcp itself;
//   http   StreamableHTTPClientTransport against `ebpf-mcp serve --http`
//          (one daemon per server argument list, shared by the tests; each
//          connection is a session named by Mcp-Session-Id, ended with DELETE).
// Every test below runs over both.
//
// The client lists every tool (following nextCursor), and calls every tool:
// with {} and, for a few tools when they are listed, with richer arguments.
// Each structuredContent is checked three ways: by the SDK itself (it
// validates against the outputSchema it cached from tools/list), by ajv
// compiled here from the same outputSchema, and against the text block (which
// must parse to the same JSON). Nothing here knows the tool set: it covers
// tools as they land.
//
// Resources, prompts and completion, on a full-profile server with real
// objects loaded (tests/lib/surface.mjs has the checks, shared with the v2
// client's modern-era suite): the templates and the list, every template read
// with real ids, the static resources, every prompt, every template and prompt
// argument completed, and resources/subscribe: a map changed with bpftool is
// announced by notifications/resources/updated (over HTTP, on the session's
// GET stream, which a tap on the transport's fetch reads too).
//
// What only one way in has: stdio's exit on EOF; HTTP's session id on every
// request, DELETE (terminateSession) freeing what the session loaded with
// bpftool as the witness, and bearer tokens mapping to profiles (401 without).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema, McpError, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { BIN, ensureMounts } from '../lib/mcp.mjs';
import { until } from '../lib/daemon.mjs';
import { HttpDaemon, LEGACY, parseSse, tapFetch, tokenFile } from '../lib/http.mjs';
import { linkExists, progExists } from '../lib/kern.mjs';
import {
  OBJ_DIR, loadFixtures, checkTemplateList, checkResourceList, checkReads, checkPrompts, checkCompletion,
  pool, bpftoolUpdate, updatedAfter,
} from '../lib/surface.mjs';

const Ajv = AjvModule.default ?? AjvModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;
// strict: unknown keywords are errors; the output roots' anyOf of `required`
// lists (result fields, or only `error`) is valid JSON Schema that
// strictRequired would flag, so that one check is off.
const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
addFormats(ajv);

const VIAS = ['stdio', 'http'];
// Who the info tool says it serves, by way in: stdio's own process (the
// kernel's credentials), or the anonymous caller of a tokenless loopback bind.
const CALLER = {
  stdio: { mode: 'stdio', auth: 'peer', uid: process.getuid(), user: userInfo().username },
  http: { mode: 'daemon', auth: 'none', uid: null, user: 'anonymous' },
};
const FULL = ['--profile', 'full', '--object-dir', OBJ_DIR];

// Richer calls, made when the tool is listed. Arguments its inputSchema does
// not declare are dropped (and reported), so a renamed argument cannot turn
// this into a false failure; what is left must succeed.
const RICH = [
  ['get_btf_types', { name: 'task_struct' }],
  ['list_tracepoints', { category: 'syscalls', limit: 5, include_format: true }],
  ['list_kernel_functions', { pattern: 'vfs_*', limit: 5 }],
  ['list_bpf_program_types', { limit: 5 }],
  ['list_bpf_map_types', { limit: 5 }],
  ['inspect_state', { limit: 5 }],
];

// http: one daemon per server argument list, started on first use.
const daemons = new Map();
function daemonFor(args) {
  const key = JSON.stringify(args);
  if (!daemons.has(key)) daemons.set(key, HttpDaemon.start(args));
  return daemons.get(key);
}

// A v1 client on a server run with `args`, over `via`. Over HTTP, `headers`
// go on every request (requestInit) and `tap` records what went over the wire.
async function connect(via, args, { headers } = {}) {
  const c = { via, stderr: '' };
  if (via === 'stdio') {
    c.transport = new StdioClientTransport({ command: BIN, args: ['--validate-output', ...args], stderr: 'pipe' });
    c.transport.stderr?.on('data', (d) => { c.stderr += d; });
  } else {
    c.daemon = await daemonFor(args);
    c.tap = tapFetch();
    c.transport = new StreamableHTTPClientTransport(new URL(c.daemon.url),
      { fetch: c.tap.fetch, ...(headers ? { requestInit: { headers } } : {}) });
  }
  c.client = new Client({ name: 'ebpf-mcp-sdk-test', version: '1.0.0' }, { capabilities: {} });
  c.errors = [];
  c.client.onerror = (e) => { c.errors.push(e); };
  await c.client.connect(c.transport);
  return c;
}

// Over HTTP the session is deleted first: closing the transport only drops
// its streams, and the session would wait for http_session_idle_ms. The
// client reported no error but, over HTTP, the abort of its GET stream when
// it closes (the server ends that stream too, racing the close).
async function close(c) {
  if (c.via === 'http' && c.transport.sessionId) await c.transport.terminateSession();
  await c.client.close();
  const unexpected = c.errors.filter((e) => !(c.via === 'http' && /SSE stream disconnected: AbortError/.test(String(e))));
  assert.deepEqual(unexpected.map(String), [], `${c.via}: client errors`);
}

async function listAll(client) {
  const tools = [];
  let cursor;
  let pages = 0;
  do {
    const r = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...r.tools);
    cursor = r.nextCursor;
    assert.ok(++pages <= 1000, 'cursor walk terminates');
  } while (cursor !== undefined);
  return { tools, pages };
}

// The three checks every tools/call result gets.
function checkResult(tool, result) {
  assert.equal(typeof result.isError, 'boolean', `${tool.name}: isError`);
  assert.equal(typeof result.structuredContent, 'object', `${tool.name}: structuredContent`);
  const validate = ajv.compile(tool.outputSchema);
  assert.ok(validate(result.structuredContent),
    `${tool.name}: ajv against outputSchema: ${ajv.errorsText(validate.errors)}`);
  assert.equal(result.content.length, 1, `${tool.name}: one content block`);
  assert.equal(result.content[0].type, 'text');
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent,
    `${tool.name}: the text block is structuredContent`);
  if (result.isError) {
    const e = result.structuredContent.error;
    assert.ok(['validation', 'permission', 'resource', 'kernel', 'internal'].includes(e.category));
    assert.match(e.code, /^[A-Z][A-Z0-9_]*$/);
    assert.ok(e.message.length > 10, `${tool.name}: the error says what to do`);
  }
}

// A full-profile server with an --object-dir, the fixtures loaded on it.
async function connectFull(via) {
  const c = await connect(via, FULL);
  const call = async (name, args) => {
    const r = await c.client.callTool({ name, arguments: args });
    assert.equal(r.isError, false, `${name}: ${JSON.stringify(r.structuredContent?.error)}`);
    return r.structuredContent;
  };
  c.fx = await loadFixtures(call);
  c.call = call;
  // every notification the server sent, whatever its method
  c.notes = [];
  c.client.fallbackNotificationHandler = async (n) => { c.notes.push(n); };
  c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { c.notes.push(n); });
  return c;
}

// The messages an HTTP session's GET stream carried (whole events only).
const getStreamMessages = (c) => c.tap.log.filter((e) => e.method === 'GET' && e.sse)
  .flatMap((e) => parseSse(e.sse.slice(0, e.sse.lastIndexOf('\n\n') + 1)));

// resources/subscribe on a map, then three changes made with bpftool, each of
// which must be announced (over HTTP: on the GET stream, since no request is
// waiting when bpftool writes).
async function checkSubscribe(c, changes) {
  const uri = `bpf://map/${c.fx.map.id}`;
  assert.deepEqual(await c.client.subscribeResource({ uri }), {});
  await new Promise((r) => setTimeout(r, 1500));   // the first reading (polls are 1 s apart)
  for (const key of changes) {
    const from = c.notes.length;
    bpftoolUpdate(c.fx.map.id, key, 10 * key);
    const n = await updatedAfter(c.notes, from, uri, 4000);
    assert.ok(n, `change ${key} (key ${key} added) of ${uri} was not announced: ${JSON.stringify(c.notes)}`);
    assert.deepEqual(n.params, { uri });
  }
  if (c.via === 'http') {
    const news = getStreamMessages(c).filter((m) => m.method === 'notifications/resources/updated' && m.params.uri === uri);
    assert.ok(news.length >= changes.length, `the GET stream carried ${news.length} of ${changes.length} announcements`);
  }
  return uri;
}

before(() => ensureMounts());

after(async () => {
  for (const p of daemons.values()) {
    const d = await p.catch(() => null);
    if (!d) continue;
    const exit = await d.stop();
    assert.deepEqual(exit, { code: 0, sig: null }, `the HTTP daemon exits 0 on SIGTERM: ${d.stderr}`);
  }
});

for (const via of VIAS) {
  describe(`v1 SDK over ${via}`, () => {
    let conn;     // default profile: the tools a client is offered by default
    let offered;  // its tools
    const notes = [];

    before(async () => {
      conn = await connect(via, []);
      offered = (await listAll(conn.client)).tools;
    });

    after(async () => {
      if (conn) await close(conn);
      for (const n of notes) console.log(`${via}: ${n}`);
    });

    test('initialize through the SDK: server info, capabilities, instructions', () => {
      const info = conn.client.getServerVersion();
      assert.equal(info.name, 'ebpf-mcp');
      assert.equal(typeof info.version, 'string');
      const caps = conn.client.getServerCapabilities();
      assert.ok(caps.tools, 'tools capability');
      assert.ok(caps.logging, 'logging capability');
      assert.ok(conn.client.getInstructions().length > 20);
    });

    test('ping and setLoggingLevel through the SDK', async () => {
      assert.deepEqual(await conn.client.ping(), {});
      for (const level of ['debug', 'info', 'warning', 'emergency']) {
        assert.deepEqual(await conn.client.setLoggingLevel(level), {});
      }
      await assert.rejects(conn.client.setLoggingLevel('verbose'),
        (e) => e instanceof McpError && e.code === -32602);
    });

    test('log messages reach the SDK as notifications/message at the level set', async () => {
      const got = [];
      conn.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { got.push(n.params); });
      await conn.client.setLoggingLevel('info');
      const name = offered[0].name;
      const r = await conn.client.callTool({ name, arguments: { no_such_argument: 1 } });
      assert.equal(r.isError, true);
      assert.equal(r.structuredContent.error.code, 'SCHEMA');
      assert.equal(r.structuredContent.error.context.pointer, '/no_such_argument');
      await conn.client.ping();   // the notification was sent before the reply
      assert.ok(got.some((m) => m.level === 'info' && /SCHEMA/.test(m.data)), JSON.stringify(got));
      // above the level set: nothing more
      await conn.client.setLoggingLevel('error');
      const before2 = got.length;
      await conn.client.callTool({ name, arguments: { no_such_argument: 1 } });
      await conn.client.ping();
      assert.equal(got.length, before2);
    });

    test('tools/list: the SDK follows nextCursor to the same list', async () => {
      const full = await connect(via, ['--profile', 'full']);
      const paged = await connect(via, ['--profile', 'full', '--limit', 'tools_page=1']);
      try {
        const a = await listAll(full.client);
        const b = await listAll(paged.client);
        assert.equal(a.pages, 1);
        assert.equal(b.pages, a.tools.length, 'one page per tool');
        assert.deepEqual(b.tools, a.tools);
        for (const t of a.tools) {
          assert.equal(typeof t.title, 'string', `${t.name}.title`);
          assert.ok(t.title.length > 0);
          assert.ok(t.description.length > 40, `${t.name}.description`);
          for (const h of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']) {
            assert.equal(typeof t.annotations?.[h], 'boolean', `${t.name}.annotations.${h}`);
          }
          assert.equal(t.inputSchema.type, 'object', `${t.name}.inputSchema`);
          assert.equal(t.outputSchema?.type, 'object', `${t.name}.outputSchema`);
          // both schemas compile under ajv's strict mode (no unknown keywords)
          assert.doesNotThrow(() => ajv.compile(t.inputSchema), `${t.name}.inputSchema compiles`);
          assert.doesNotThrow(() => ajv.compile(t.outputSchema), `${t.name}.outputSchema compiles`);
        }
        // the default profile offers a subset of full
        for (const t of offered) assert.ok(a.tools.some((x) => x.name === t.name), t.name);
      } finally {
        await close(full);
        await close(paged);
      }
    });

    test('every offered tool called with {}: SDK, ajv and text checks', async () => {
      assert.ok(offered.length >= 1);
      for (const tool of offered) {
        if (tool.annotations.destructiveHint) notes.push(`not called with {}: ${tool.name} (destructiveHint)`);
      }
      // four at a time: the tracers run 5 s by default, as jobs
      await pool(offered.filter((t) => !t.annotations.destructiveHint), 4, async (tool) => {
        // the SDK throws if structuredContent fails the cached outputSchema
        const r = await conn.client.callTool({ name: tool.name, arguments: {} });
        checkResult(tool, r);
        notes.push(`called ${tool.name} {} -> ${r.isError ? `isError ${r.structuredContent.error.code}` : 'ok'}`);
      });
    });

    test('richer calls for the tools that are listed', async () => {
      let made = 0;
      for (const [name, wanted] of RICH) {
        const tool = offered.find((t) => t.name === name);
        if (!tool) {
          notes.push(`rich call skipped: ${name} is not listed`);
          continue;
        }
        const props = tool.inputSchema.properties ?? {};
        const args = Object.fromEntries(Object.entries(wanted).filter(([k]) => k in props));
        const dropped = Object.keys(wanted).filter((k) => !(k in props));
        if (dropped.length) notes.push(`rich call ${name}: inputSchema has no ${dropped.join(', ')}`);
        const r = await conn.client.callTool({ name, arguments: args });
        checkResult(tool, r);
        assert.equal(r.isError, false, `${name} ${JSON.stringify(args)}: ${JSON.stringify(r.structuredContent.error)}`);
        notes.push(`rich call ${name} ${JSON.stringify(args)} -> ok`);
        made++;
      }
      // info is always there: call it and check facts against /proc
      const info = await conn.client.callTool({ name: 'info', arguments: {} });
      checkResult(offered.find((t) => t.name === 'info'), info);
      const { server } = info.structuredContent;
      assert.equal(server.protocol_version, LEGACY, 'the SDK negotiated the latest');
      const { mode, ...caller } = CALLER[via];
      assert.equal(server.mode, mode);
      for (const [k, v] of Object.entries(caller)) assert.equal(server.caller[k], v, `caller.${k}: ${JSON.stringify(server.caller)}`);
      notes.push(`rich calls made: ${made}`);
    });

    test('unknown tool: the SDK surfaces -32602', async () => {
      await assert.rejects(conn.client.callTool({ name: 'no_such_tool', arguments: {} }),
        (e) => e instanceof McpError && e.code === -32602 && /unknown tool/.test(e.message));
    });

    if (via === 'stdio') {
      test('the server exits with status 0 on stdin EOF when the SDK client closes', async () => {
        const c = await connect(via, []);
        // the SDK ends stdin, waits 2 s, then sends SIGTERM: exit status 0 with no
        // signal, well inside those 2 s, shows the server left on EOF by itself
        const proc = c.transport._process;
        assert.ok(proc?.pid > 0, 'the transport exposes its child');
        const exited = new Promise((res) => proc.once('exit', (code, sig) => res({ code, sig })));
        const t0 = Date.now();
        await c.client.close();
        const { code, sig } = await exited;
        assert.equal(sig, null);
        assert.equal(code, 0);
        assert.ok(Date.now() - t0 < 1500, `closed in ${Date.now() - t0} ms`);
      });
    }

    if (via === 'http') {
      test('the session: an Mcp-Session-Id on every request, a GET stream, and DELETE frees what it loaded', async () => {
        const c = await connectFull(via);
        try {
          const sid = c.transport.sessionId;
          assert.match(sid ?? '', /^[0-9a-f]{32}$/, 'initialize named a session');
          const [init, ...posts] = c.tap.log.filter((e) => e.method === 'POST');
          assert.equal(init.body.method, 'initialize');
          assert.equal(init.headers['mcp-session-id'], undefined);
          assert.equal(init.sessionId, sid);
          for (const e of posts) {
            assert.equal(e.headers['mcp-session-id'], sid, e.body.method);
            assert.equal(e.headers['mcp-protocol-version'], LEGACY, e.body.method);
          }
          const get = await until('the SDK to open its GET stream', () => c.tap.log.find((e) => e.method === 'GET' && e.status));
          assert.equal(get.status, 200);
          assert.equal(get.headers['mcp-session-id'], sid);
          assert.match(get.contentType, /^text\/event-stream/);
          // the witness: bpftool sees what the session loaded, then sees it go
          for (const id of c.fx.progIds) assert.ok(progExists(id), `bpftool: prog ${id}`);
          assert.ok(linkExists(c.fx.linkId), `bpftool: link ${c.fx.linkId}`);
          await c.transport.terminateSession();
          assert.equal(c.transport.sessionId, undefined);
          await until('the server to end the GET stream', () => get.ended);
          await until('bpftool to lose the session\'s programs and link',
            () => c.fx.progIds.every((id) => !progExists(id)) && !linkExists(c.fx.linkId));
          // the session is gone: its id is refused
          const r = await c.daemon.post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': sid });
          assert.equal(r.status, 404);
          assert.equal(r.json.error.code, -32001);
        } finally {
          await c.client.close();
        }
      });
    }

    test('resources, prompts and completion through the SDK (legacy era)', async (t) => {
      const c = await connectFull(via);
      try {
        const caps = c.client.getServerCapabilities();
        assert.equal(caps.resources?.subscribe, true, JSON.stringify(caps));
        assert.ok(caps.prompts && caps.completions, JSON.stringify(caps));
        await t.test('resources/templates/list', () => checkTemplateList(c.client));
        await t.test('resources/list names what is loaded', () => checkResourceList(c.client, c.fx));
        await t.test('resources/read: every template with real ids, the static resources, -32602 for missing ones',
          () => checkReads(c.client, c.fx));
        await t.test('prompts/list and prompts/get with valid arguments', () => checkPrompts(c.client));
        await t.test('completion/complete: every template and prompt argument', () => checkCompletion(c.client, c.fx));
        await t.test('legacy results carry nothing of the modern revision', async () => {
          for (const r of [await c.client.listResources(), await c.client.listResourceTemplates(), await c.client.listPrompts(),
            await c.client.readResource({ uri: 'ebpf-mcp://limits' }), await c.client.listTools()]) {
            for (const k of ['resultType', 'ttlMs', 'cacheScope']) assert.equal(r[k], undefined, k);
            assert.equal(r._meta?.['io.modelcontextprotocol/serverInfo'], undefined);
          }
        });
        await t.test('what a legacy session loads is the session\'s', async () => {
          const st = await c.call('inspect_state', { kinds: ['program'], id: c.fx.prog.id });
          for (const handle of c.fx.handles) {
            const h = st.owned.handles.find((x) => x.handle === handle);
            assert.equal(h?.owner, 'session', JSON.stringify(st.owned));
          }
        });
        await t.test('resources/subscribe: a map changed with bpftool is announced', async () => {
          const uri = await checkSubscribe(c, [1]);
          assert.deepEqual(await c.client.unsubscribeResource({ uri }), {});
          // unsubscribed: a later change is not announced
          await new Promise((r) => setTimeout(r, 1200));
          const from2 = c.notes.length;
          bpftoolUpdate(c.fx.map.id, 2, 2);
          assert.equal(await updatedAfter(c.notes, from2, uri, 2500), null, 'no news after unsubscribe');
        });
      } finally {
        await close(c);
      }
    });

    // Every change of a watched map is news, not only the first.
    test('resources/subscribe: each of three changes to a watched map is announced', async () => {
      const c = await connectFull(via);
      try {
        await checkSubscribe(c, [1, 2, 3]);
      } finally {
        await close(c);
      }
    });
  });
}

// Bearer tokens (--token-file): each names a profile, and the session it
// opens is that token's.
describe('v1 SDK over HTTP with bearer tokens', () => {
  const full = randomBytes(24).toString('hex');
  const readonly = randomBytes(24).toString('hex');
  const tokens = tokenFile([{ name: 'sdk-full', token: full, profile: 'full' },
    { name: 'sdk-readonly', token: readonly, profile: 'readonly' }]);
  const args = ['--token-file', tokens.file];
  const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });

  after(() => tokens.cleanup());

  test('each token gets its profile\'s tools; a session id is no use with another token', async () => {
    const a = await connect('http', args, bearer(full));
    const b = await connect('http', args, bearer(readonly));
    try {
      const fullTools = (await listAll(a.client)).tools.map((t) => t.name);
      const roTools = (await listAll(b.client)).tools.map((t) => t.name);
      assert.ok(fullTools.includes('load_program') && fullTools.includes('info'), `full: ${fullTools}`);
      assert.ok(roTools.includes('info') && !roTools.includes('load_program'), `readonly: ${roTools}`);
      assert.ok(roTools.length < fullTools.length && roTools.every((n) => fullTools.includes(n)), 'readonly is a subset of full');
      for (const [c, profile] of [[a, 'full'], [b, 'readonly']]) {
        const r = await c.client.callTool({ name: 'info', arguments: {} });
        assert.equal(r.structuredContent.server.profile, profile);
        const { caller } = r.structuredContent.server;
        assert.deepEqual([caller.auth, caller.user, caller.profile], ['token', `sdk-${profile}`, profile]);
        // the token went on every request the transport made
        const want = c === a ? full : readonly;
        for (const e of c.tap.log) assert.equal(e.headers.authorization, `Bearer ${want}`, `${e.method} ${e.body?.method ?? ''}`);
      }
      // the readonly token may not use the full token's session
      const r = await a.daemon.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' },
        { 'mcp-session-id': a.transport.sessionId, 'mcp-protocol-version': LEGACY }, { token: readonly });
      assert.equal(r.status, 404, r.text);
    } finally {
      await close(a);
      await close(b);
    }
  });

  test('no token, or one the server does not know: the SDK\'s connect fails with 401 saying why', async () => {
    for (const [opts, why] of [[{}, /a bearer token is required/], [bearer(randomBytes(24).toString('hex')), /not one of this server's/]]) {
      await assert.rejects(connect('http', args, opts),
        (e) => e instanceof StreamableHTTPError && e.code === 401 && why.test(e.message), String(why));
    }
  });
});

// Resources, prompts and completion as an MCP client sees them, shared by the
// client suites (tests/client/sdk.test.mjs with the v1 SDK in the legacy era,
// tests/client/modern.test.mjs with the v2 client in the modern era). Both
// SDKs' Client classes have the same methods for these (listResources,
// listResourceTemplates, readResource, listPrompts, getPrompt, complete) and
// both throw an error carrying the JSON-RPC `code`, so one set of checks
// serves both; what only one era has (resultType, ttlMs, cacheScope) is
// checked by the suite of that era.
//
// The fixtures are real kernel objects: attach_trace.bpf.o loaded and its
// raw_tracepoint program attached (a program, maps and a link), and
// maps.bpf.o (a plain hash map a test can change with bpftool).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUILD } from './mcp.mjs';

export const OBJ_DIR = path.join(BUILD, 'bpf');
export const TRACEFS = '/sys/kernel/tracing';

export const TEMPLATES = [
  ['bpf://prog/{id}', 'application/json'],
  ['bpf://map/{id}', 'application/json'],
  ['bpf://link/{id}', 'application/json'],
  ['btf://vmlinux/{type}', 'text/x-c'],
  ['bpf://pin/{+path}', 'application/json'],
  ['tracefs://events/{category}/{name}/format', 'text/plain'],
];
export const STATIC = ['ebpf-mcp://limits', 'ebpf-mcp://policy'];
// The MCP Apps (extension io.modelcontextprotocol/ui) the tools name in their _meta.
export const APPS = ['ui://ebpf-mcp/flamegraph', 'ui://ebpf-mcp/histogram', 'ui://ebpf-mcp/programs'];
export const APP_MIME = 'text/html;profile=mcp-app';

// Valid arguments for every prompt, and what its text must then say.
export const PROMPTS = {
  process_failing: [{ comm: 'node', duration_ms: '2000' }, ['node', '2000']],
  cpu_hot_spots: [{ pid: String(process.pid), duration_ms: '1000' }, [String(process.pid), '1000']],
  disk_latency: [{ duration_ms: '3000' }, ['3000']],
  tcp_trouble: [{ comm: 'curl', duration_ms: '2000' }, ['curl', '2000']],
  bpf_inventory: [{ name: 'count_*' }, ['count_*']],
};

// The JSON-RPC error code of a rejected call (v1 McpError, v2 ProtocolError).
export async function rpcError(promise) {
  try {
    await promise;
  } catch (e) {
    assert.equal(typeof e.code, 'number', `a JSON-RPC error, not ${e}`);
    return e;
  }
  throw new Error('the call succeeded');
}

// Loads the fixtures through `call(name, args)` (a tools/call that returns
// structuredContent and throws on isError).
export async function loadFixtures(call) {
  const t = await call('load_program', { path: path.join(OBJ_DIR, 'attach_trace.bpf.o') });
  const raw = t.programs.find((p) => p.name === 'count_raw');
  const link = await call('attach_program', { program_id: raw.id, type: 'raw_tracepoint', target: 'sys_enter' });
  const m = await call('load_program', { path: path.join(OBJ_DIR, 'maps.bpf.o') });
  const hash = m.maps.find((x) => x.name === 'mt_hash');
  return {
    handles: [t.handle, m.handle],
    prog: raw, progIds: [...t.programs, ...m.programs].map((p) => p.id),
    map: hash, mapIds: [...t.maps, ...m.maps].map((x) => x.id),
    linkId: link.link_id,
  };
}

// Every page of a list method, by cursor (the v1 SDK returns one page).
export async function listAll(client, method, key) {
  const out = [];
  let cursor;
  let pages = 0;
  do {
    const r = await client[method](cursor === undefined ? {} : { cursor });
    out.push(...r[key]);
    cursor = r.nextCursor;
    assert.ok(++pages <= 100, `${method}: the cursor walk ends`);
  } while (cursor !== undefined);
  return out;
}

export async function checkTemplateList(client) {
  const tl = await listAll(client, 'listResourceTemplates', 'resourceTemplates');
  assert.deepEqual(tl.map((t) => [t.uriTemplate, t.mimeType]), TEMPLATES);
  for (const t of tl) {
    assert.match(t.name, /^[a-z-]+$/, t.uriTemplate);
    assert.ok(t.title.length > 5 && t.description.length > 40, t.uriTemplate);
  }
  return tl;
}

export async function checkResourceList(client, fx) {
  const rl = await listAll(client, 'listResources', 'resources');
  const uris = rl.map((r) => r.uri);
  for (const u of [...STATIC, ...APPS]) assert.ok(uris.includes(u), `${u} listed`);
  for (const id of fx.progIds) assert.ok(uris.includes(`bpf://prog/${id}`), `bpf://prog/${id} listed`);
  for (const id of fx.mapIds) assert.ok(uris.includes(`bpf://map/${id}`), `bpf://map/${id} listed`);
  assert.ok(uris.includes(`bpf://link/${fx.linkId}`), `bpf://link/${fx.linkId} listed`);
  assert.equal(new Set(uris).size, uris.length, 'no URI twice');
  for (const r of rl) {
    assert.equal(typeof r.name, 'string', r.uri);
    assert.equal(r.mimeType, APPS.includes(r.uri) ? APP_MIME : 'application/json', r.uri);
    assert.match(r.uri, /^(ebpf-mcp:\/\/(limits|policy)|bpf:\/\/(prog|map|link)\/\d+|bpf:\/\/pin\/.+|ui:\/\/ebpf-mcp\/[a-z]+)$/);
  }
  const prog = rl.find((r) => r.uri === `bpf://prog/${fx.prog.id}`);
  assert.ok(prog.title.includes(fx.prog.name), prog.title);
  return rl;
}

// Reads one resource and checks its single content block; returns its text.
export async function read(client, uri, mimeType, opts) {
  const r = await client.readResource({ uri }, opts);
  assert.equal(r.contents.length, 1, `${uri}: one content`);
  const c = r.contents[0];
  assert.equal(c.uri, uri);
  assert.equal(c.mimeType, mimeType, uri);
  assert.equal(typeof c.text, 'string', uri);
  assert.equal(c.blob, undefined, uri);
  return c.text;
}

// Every template read with a real value, every static resource, and the
// -32602 of a missing one.
export async function checkReads(client, fx, opts) {
  const prog = JSON.parse(await read(client, `bpf://prog/${fx.prog.id}`, 'application/json', opts));
  assert.deepEqual(prog.programs.items.map((p) => [p.id, p.name]), [[fx.prog.id, fx.prog.name]]);
  assert.equal(prog.programs.items[0].owned, true);
  const map = JSON.parse(await read(client, `bpf://map/${fx.map.id}`, 'application/json', opts));
  assert.equal(map.map.id, fx.map.id);
  assert.equal(map.map.name, 'mt_hash');
  assert.ok(Array.isArray(map.entries));
  const link = JSON.parse(await read(client, `bpf://link/${fx.linkId}`, 'application/json', opts));
  assert.deepEqual(link.links.items.map((l) => [l.id, l.prog_id, l.tp_name]), [[fx.linkId, fx.prog.id, 'sys_enter']]);
  const btf = await read(client, 'btf://vmlinux/task_struct', 'text/x-c', opts);
  assert.match(btf, /^struct task_struct \{\n\t[^]*\n\};$/);
  const fmt = await read(client, 'tracefs://events/sched/sched_switch/format', 'text/plain', opts);
  assert.equal(fmt, readFileSync(`${TRACEFS}/events/sched/sched_switch/format`, 'utf8'));
  const limits = JSON.parse(await read(client, 'ebpf-mcp://limits', 'application/json', opts));
  assert.ok(limits.limits.some((l) => l.name === 'lease_ms' && l.value >= 1000));
  const policy = JSON.parse(await read(client, 'ebpf-mcp://policy', 'application/json', opts));
  assert.equal(policy.profile, 'full');
  for (const uri of APPS) assert.match(await read(client, uri, APP_MIME, opts), /^<!DOCTYPE html>/);
  assert.ok(policy.tools.includes('load_program'));
  for (const uri of ['bpf://prog/0', 'bpf://map/0', 'bpf://link/0', 'btf://vmlinux/no_such_type_xyz',
    'tracefs://events/sched/no_such_event/format', 'ebpf-mcp://nothing']) {
    const e = await rpcError(client.readResource({ uri }, opts));
    assert.equal(e.code, -32602, `${uri}: ${e.message}`);
  }
}

export async function checkPrompts(client) {
  const pl = await listAll(client, 'listPrompts', 'prompts');
  assert.deepEqual(pl.map((p) => p.name), Object.keys(PROMPTS));
  for (const p of pl) {
    const [args, says] = PROMPTS[p.name];
    for (const a of p.arguments ?? []) assert.equal(typeof a.required, 'boolean', `${p.name}.${a.name}`);
    // every argument given is declared
    for (const k of Object.keys(args)) assert.ok(p.arguments.some((a) => a.name === k), `${p.name} takes ${k}`);
    const r = await client.getPrompt({ name: p.name, arguments: args });
    assert.equal(r.description, p.description, p.name);
    assert.ok(r.messages.length >= 1, p.name);
    for (const m of r.messages) {
      assert.equal(m.role, 'user');
      assert.equal(m.content.type, 'text');
    }
    const text = r.messages.map((m) => m.content.text).join('\n');
    for (const s of says) assert.ok(text.includes(s), `${p.name}: the text names ${s}`);
    // a required argument left out: -32602
    for (const a of p.arguments.filter((x) => x.required)) {
      const { [a.name]: _, ...rest } = args;
      const e = await rpcError(client.getPrompt({ name: p.name, arguments: rest }));
      assert.equal(e.code, -32602, `${p.name} without ${a.name}`);
    }
  }
  const e = await rpcError(client.getPrompt({ name: 'no_such_prompt', arguments: {} }));
  assert.equal(e.code, -32602);
  return pl;
}

// One completion/complete; checks the shape (at most 100 values, total and
// hasMore agree) and that every value starts with the prefix.
export async function complete(client, ref, name, value, context) {
  const r = await client.complete({ ref, argument: { name, value }, ...(context ? { context } : {}) });
  const c = r.completion;
  const what = `${JSON.stringify(ref)} ${name}=${JSON.stringify(value)}`;
  assert.ok(Array.isArray(c.values) && c.values.length <= 100, what);
  assert.equal(typeof c.total, 'number', what);
  assert.equal(typeof c.hasMore, 'boolean', what);
  assert.ok(c.total >= c.values.length, what);
  assert.equal(c.hasMore, c.total > c.values.length, `${what}: hasMore`);
  for (const v of c.values) assert.ok(v.startsWith(value), `${what}: ${v}`);
  assert.equal(new Set(c.values).size, c.values.length, `${what}: no value twice`);
  return c;
}

const dirs = (p) => readdirSync(p).filter((n) => statSync(path.join(p, n)).isDirectory());

// Completes every argument of every template and of every prompt.
export async function checkCompletion(client, fx) {
  const res = (uri) => ({ type: 'ref/resource', uri });
  const prm = (name) => ({ type: 'ref/prompt', name });
  // ids: the fixtures' own, by their full id as prefix
  for (const [uri, id] of [['bpf://prog/{id}', fx.prog.id], ['bpf://map/{id}', fx.map.id], ['bpf://link/{id}', fx.linkId]]) {
    const c = await complete(client, res(uri), 'id', String(id));
    assert.ok(c.values.includes(String(id)), `${uri}: ${id} in ${c.values}`);
    for (const v of c.values) assert.match(v, /^\d+$/);
  }
  const all = await complete(client, res('bpf://prog/{id}'), 'id', '');
  assert.ok(all.total >= fx.progIds.length);
  // BTF type names by prefix
  const t = await complete(client, res('btf://vmlinux/{type}'), 'type', 'task_struc');
  assert.ok(t.values.includes('task_struct'), `${t.values}`);
  const many = await complete(client, res('btf://vmlinux/{type}'), 'type', '');
  assert.equal(many.values.length, 100);
  assert.equal(many.hasMore, true);
  assert.ok(many.total > 10000, `vmlinux has ${many.total} named types`);
  // tracepoint categories, then names (which need the category)
  const tp = res('tracefs://events/{category}/{name}/format');
  // (read before and after: a kprobe or uprobe event made meanwhile adds a category)
  const cats = dirs(`${TRACEFS}/events`);
  const cc = await complete(client, tp, 'category', '');
  const cats2 = dirs(`${TRACEFS}/events`);
  assert.ok([cats.length, cats2.length].includes(cc.total), `every category of tracefs: ${cc.total} vs ${cats.length}`);
  assert.ok(cc.values.every((v) => cats.includes(v) || cats2.includes(v)));
  const sc = await complete(client, tp, 'category', 'sch');
  assert.deepEqual(sc.values, cats.filter((c) => c.startsWith('sch')).sort());
  const names = dirs(`${TRACEFS}/events/sched`).filter((n) => n.startsWith('sched_sw'));
  const nc = await complete(client, tp, 'name', 'sched_sw', { arguments: { category: 'sched' } });
  assert.deepEqual([...nc.values].sort(), names.sort());
  assert.ok(nc.values.includes('sched_switch'));
  // prompt arguments
  const comm = readFileSync('/proc/self/comm', 'utf8').trim();
  const pc = await complete(client, prm('process_failing'), 'comm', comm.slice(0, 3));
  assert.ok(pc.values.includes(comm), `${comm} in ${pc.values}`);
  await complete(client, prm('tcp_trouble'), 'comm', comm.slice(0, 3));
  const pp = await complete(client, prm('cpu_hot_spots'), 'pid', String(process.pid));
  assert.ok(pp.values.includes(String(process.pid)), `${process.pid} in ${pp.values}`);
  for (const [p, args] of Object.entries(PROMPTS)) {
    if (!('duration_ms' in args)) continue;
    const d = await complete(client, prm(p), 'duration_ms', '');
    assert.ok(d.values.length > 0 && d.values.every((v) => /^[1-9]\d*$/.test(v)), `${p}: ${d.values}`);
  }
  // an argument the template or prompt does not have
  for (const [ref, name] of [[res('bpf://prog/{id}'), 'nope'], [prm('disk_latency'), 'comm']]) {
    const e = await rpcError(client.complete({ ref, argument: { name, value: '' } }));
    assert.equal(e.code, -32602, `${JSON.stringify(ref)} ${name}`);
  }
}

// ---- helpers the client suites share ---------------------------------------------------

// Runs fn over items, n at a time (tracers run as jobs, 4 at once at most).
export async function pool(items, n, fn) {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    while (queue.length) await fn(queue.shift());
  }));
}

// Sets key (4 bytes) to value (8 bytes) in map `id` with bpftool: a change
// made outside the server, for subscriptions to notice.
const le = (v, n) => Array.from({ length: n }, (_, i) => String((v >> (8 * i)) & 0xff));
export const bpftoolUpdate = (id, key, value) => execFileSync('bpftool', ['map', 'update', 'id', String(id),
  'key', ...le(key, 4), 'value', ...le(value, 8)]);

// Waits for a notifications/resources/updated of uri among messages[from..]
// (a list the client's handlers fill); null after timeoutMs.
export async function updatedAfter(messages, from, uri, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = messages.slice(from).find((m) => m.method === 'notifications/resources/updated' && m.params.uri === uri);
    if (n) return n;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 50));
  }
}

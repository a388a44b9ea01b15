// What modern-era (MCP 2026-07-28, stateless) calls create belongs to the
// caller's identity, its uid, not to the connection: every connection of that
// uid sees and may release it, and it is released when no modern call has
// come from that uid for --limit lease_ms. Pins stay (bpffs holds them), and
// what a legacy session made is the session's, whatever the lease.
//
// A daemon with lease_ms=2000; clients are `ebpf-mcp connect` run as uids
// without a passwd entry (tests/lib/daemon.mjs). bpftool is the witness of
// what exists in the kernel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureMounts, BUILD } from '../lib/mcp.mjs';
import { Daemon, publicDir, sleep, until } from '../lib/daemon.mjs';
import { bpftool, linkExists, progExists } from '../lib/kern.mjs';

const LEASE_MS = 2000;
const A = 41021;   // the identity whose objects are leased (two connections)
const B = 41022;   // another uid
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'lease-test', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const PIN_DIR = `/sys/fs/bpf/ebpf-mcp-lease-${process.pid}`;

const mapExists = (id) => { try { bpftool(`map show id ${id}`); return true; } catch { return false; } };

let d;
let pub;
let objDir;
const sessions = [];

// A connection of uid, through `ebpf-mcp connect`.
function as(uid) {
  const s = d.as({ uid });
  sessions.push(s);
  return s;
}

// tools/call in the modern era (no handshake; the revision in _meta).
async function modern(s, name, args = {}) {
  const r = await s.request('tools/call', { name, arguments: args, _meta: META });
  assert.ok(r.result, `${name}: ${JSON.stringify(r.error)}\n${d.stderr}`);
  assert.equal(r.result.resultType, 'complete');
  return r.result.structuredContent;
}
async function modernOk(s, name, args) {
  const sc = await modern(s, name, args);
  assert.equal(sc.error, undefined, `${name}: ${JSON.stringify(sc.error)}`);
  return sc;
}

before(async () => {
  ensureMounts();
  // what the clients name must be readable by them: a 0755 directory
  pub = publicDir('lease');
  objDir = path.join(pub.dir, 'obj');
  mkdirSync(objDir, { mode: 0o755 });
  for (const o of ['attach_trace.bpf.o', 'maps.bpf.o']) {
    copyFileSync(path.join(BUILD, 'bpf', o), path.join(objDir, o));
    chmodSync(path.join(objDir, o), 0o644);
  }
  rmSync(PIN_DIR, { recursive: true, force: true });
  mkdirSync(PIN_DIR);
  d = await Daemon.start(['--socket-mode', '0666', '--object-dir', objDir, '--pin-dir', PIN_DIR,
    '--limit', `lease_ms=${LEASE_MS}`, '--log-level', 'notice',
    '--access', `uid:${A}=full`, '--access', `uid:${B}=full`], { pub });
});

after(async () => {
  for (const s of sessions) await s.close().catch(() => {});
  await d?.stop();
  await d?.kill();
  rmSync(PIN_DIR, { recursive: true, force: true });
  pub?.cleanup();
});

test('a modern load and attach belong to the uid: its other connection sees the handle (owner identity) and releases it; another uid cannot', async () => {
  const a1 = as(A), a2 = as(A), b = as(B);
  const o = await modernOk(a1, 'load_program', { path: path.join(objDir, 'attach_trace.bpf.o') });
  const raw = o.programs.find((p) => p.name === 'count_raw');
  const l = await modernOk(a1, 'attach_program', { program_id: raw.id, type: 'raw_tracepoint', target: 'sys_enter' });
  assert.equal(bpftool(`prog show id ${raw.id}`).name, 'count_raw');
  assert.equal(bpftool(`link show id ${l.link_id}`).prog_id, raw.id);

  // the same uid on another connection: the same handle, the identity's
  const seen = [];
  for (const s of [a1, a2]) {
    const st = await modernOk(s, 'inspect_state', { kinds: ['program'], id: raw.id });
    const h = st.owned.handles.find((x) => x.handle === o.handle);
    assert.ok(h, JSON.stringify(st.owned));
    assert.equal(h.owner, 'identity');
    assert.equal(h.lease_ms, LEASE_MS);
    assert.deepEqual([...h.programs].sort(), o.programs.map((p) => p.id).sort());
    assert.equal(st.owned.links, 1);
    seen.push(h.owner_id);
  }
  assert.equal(seen[0], seen[1], 'one owner for both connections');

  // another uid: not its handle, not its link
  const sb = await modernOk(b, 'inspect_state', { kinds: ['program'], id: raw.id });
  assert.deepEqual(sb.owned.handles, []);
  assert.equal((await modern(b, 'unload_program', { handle: o.handle })).error.code, 'NO_SUCH_HANDLE');
  assert.equal((await modern(b, 'detach_link', { link_id: l.link_id })).error.code, 'NOT_OWNED');
  assert.ok(progExists(raw.id) && linkExists(l.link_id), 'untouched');

  // the second connection releases what the first made
  assert.equal((await modernOk(a2, 'detach_link', { link_id: l.link_id })).link_id, l.link_id);
  assert.equal(linkExists(l.link_id), false);
  const u = await modernOk(a2, 'unload_program', { handle: o.handle });
  assert.deepEqual(u.released.filter((r) => r.kind === 'program').map((r) => r.id).sort(), o.programs.map((p) => p.id).sort());
  // (a raw_tracepoint link puts its program after an RCU grace period)
  for (const p of o.programs) await until(`program ${p.id} gone`, () => !progExists(p.id), 2000, 50);
  for (const m of o.maps) await until(`map ${m.id} gone`, () => !mapExists(m.id), 2000, 50);
});

test('no modern call from the uid for lease_ms: its objects are released, a pin stays, its legacy session keeps its own', async () => {
  const a1 = as(A), legacy = as(A), b = as(B);
  await legacy.init();
  const mine = await legacy.ok('load_program', { path: path.join(objDir, 'attach_trace.bpf.o') });

  const o = await modernOk(a1, 'load_program', { path: path.join(objDir, 'maps.bpf.o') });
  const pinned = o.maps.find((m) => m.name === 'mt_hash');
  const pin = path.join(PIN_DIR, 'leased_map');
  await modernOk(a1, 'pin_object', { kind: 'map', id: pinned.id, path: pin });
  const last = Date.now();   // the uid's last modern call
  assert.equal(bpftool(`map show pinned ${pin}`).id, pinned.id);

  // legacy calls from the same uid and modern calls from another uid do not
  // keep the lease: only the uid's own modern calls do
  let stop = false;
  const traffic = (async () => {
    while (!stop) {
      await legacy.ok('inspect_state', { limit: 1 });
      await modernOk(b, 'info');
      await sleep(200);
    }
  })();
  try {
    await sleep(LEASE_MS / 2);
    assert.ok(progExists(o.programs[0].id), 'half-way through the lease the objects are there');
    const prog = o.programs[0].id;
    await until(`program ${prog} released by the lease`, () => !progExists(prog), LEASE_MS * 5, 50);
    const after = Date.now() - last;
    assert.ok(after >= LEASE_MS - 100, `released ${after} ms after the last modern call (lease ${LEASE_MS})`);
  } finally {
    stop = true;
    await traffic;
  }
  for (const m of o.maps.filter((x) => x.id !== pinned.id)) {
    await until(`map ${m.id} released`, () => !mapExists(m.id), 20000);
  }
  // the pin holds its map
  assert.ok(existsSync(pin));
  assert.equal(bpftool(`map show pinned ${pin}`).id, pinned.id);
  assert.ok(mapExists(pinned.id));
  // the legacy session's object, made by the same uid, is untouched
  for (const p of mine.programs) assert.ok(progExists(p.id), `legacy program ${p.id}`);
  const st = await legacy.ok('inspect_state', { kinds: ['program'], id: mine.programs[0].id });
  assert.deepEqual(st.owned.handles.map((h) => [h.handle, h.owner]), [[mine.handle, 'session']]);
  // and the uid's modern view is empty now
  const now = await modernOk(a1, 'inspect_state', { limit: 1 });
  assert.deepEqual(now.owned.handles, []);
  assert.match(d.stderr, new RegExp(`uid ${A}'s modern-era objects released \\(lease expired\\)`));
  await legacy.ok('unload_program', { handle: mine.handle });
  rmSync(pin);
});

test('a modern call from any connection of the uid renews the lease', async () => {
  const a1 = as(A), a2 = as(A);
  const o = await modernOk(a1, 'load_program', { path: path.join(objDir, 'maps.bpf.o') });
  const prog = o.programs[0].id;
  // a2 calls well inside every lease period, for twice the lease
  const t0 = Date.now();
  while (Date.now() - t0 < 2 * LEASE_MS) {
    await sleep(LEASE_MS / 4);
    await modernOk(a2, 'info');
    assert.ok(progExists(prog), `held ${Date.now() - t0} ms after the load`);
  }
  const last = Date.now();
  await until(`program ${prog} released once the calls stop`, () => !progExists(prog), LEASE_MS * 5, 50);
  assert.ok(Date.now() - last >= LEASE_MS - 100);
});

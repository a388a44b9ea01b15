// The daemon under load: many sessions at once, a loop that never waits on
// the kernel, and clean ends for clients that die mid-call and for the
// daemon itself. The witness for what is left in the kernel is bpftool;
// latencies are bounded with a margin (a ping is answered in about a
// millisecond; the bounds are 50 ms, where a blocked loop takes 100s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BUILD, sh, ensureMounts } from '../lib/mcp.mjs';
import { bpftool, sleep } from '../lib/kern.mjs';
import { Daemon, until } from '../lib/daemon.mjs';

ensureMounts();
const OBJ_DIR = path.join(BUILD, 'bpf');
const obj = (n) => path.join(OBJ_DIR, `${n}.bpf.o`);
const TEST = { timeout: 120000 };
// A ping answered while another session's kernel call runs: a loop that
// waited on the verifier would take its whole time (load_slow: ~600 ms
// here), so a wide bound still tells the two apart on a loaded machine
// (one run with the machine's two cores saturated saw 61 ms).
const PING_BOUND_MS = 200;
const EVENT_TRACERS = ['trace_errors', 'trace_exec', 'trace_open', 'trace_tcp', 'skb_drops', 'tcp_retransmits', 'oom_kills'];
// After a cancel the bound is tighter: a loop that destroyed trace_tcp's
// skeleton itself held pings ~85 ms.
const CANCEL_PING_MS = 50;
const TRACERS = ['trace_errors', 'trace_exec', 'trace_open', 'trace_tcp', 'syscall_stats', 'profile_cpu',
  'runq_latency', 'block_io_latency', 'offcpu_profile', 'tcp_retransmits', 'prog_stats'];

// ---- a daemon (root, full profile) and its sessions --------------------------------

const startDaemon = (args = []) => Daemon.start(['--profile', 'full', '--object-dir', OBJ_DIR, ...args]);

// A session over the daemon's socket from this process.
async function open(d) {
  const s = d.raw();
  await s.connected;
  await s.init();
  return s;
}

// A session through `ebpf-mcp connect` (a client process that can be killed).
async function openConnect(d) {
  const s = d.as({ uid: 0 });
  await s.init();
  return s;
}

const stopDaemon = (d, sig = 'SIGTERM') => d.stop(sig);

// Milliseconds from sending a ping to its reply.
async function pingMs(s) {
  const t0 = process.hrtime.bigint();
  const r = await s.request('ping', {}, { timeoutMs: 10000 });
  assert.deepEqual(r.result, {});
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// Waits for the first progress notification of token: the call's job runs.
async function running(s, token) {
  const deadline = Date.now() + 20000;
  while (!s.notifications.some((n) => n.method === 'notifications/progress' && n.params.progressToken === token)) {
    if (Date.now() > deadline) throw new Error(`${token} never reported progress: ${s.stderr}`);
    await sleep(5);
  }
}

// ---- tests ---------------------------------------------------------------------------

test('cancel -> ping under 50 ms for every tracer and stream_events, in the same session and in another', TEST, async () => {
  const d = await startDaemon();
  const a = await open(d), b = await open(d);
  const before = new Set(bpftool('prog show').map((p) => p.id));
  try {
    const o = await a.ok('load_program', { path: obj('stream') });
    const ours = new Set(o.programs.map((p) => p.id));
    const mapId = o.maps.find((m) => m.name === 'events').id;
    // (event tracers watch a comm no process has: events elsewhere on the
    // machine cannot fill their lists and end them before the cancel)
    const quiet = (t) => (EVENT_TRACERS.includes(t) ? { comm: 'no-such-comm-0' } : {});
    const calls = [...TRACERS.map((t) => [t, { duration_ms: 20000, ...quiet(t) }]), ['stream_events', { map_id: mapId, duration_ms: 20000 }]];
    const report = [];
    for (const [i, [tool, args]] of calls.entries()) {
      const token = `t${i}`;
      const id = `call-${i}`;
      let answered = null;
      a.pending.set(JSON.stringify(id), (m) => { answered = m; });
      a.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args, _meta: { progressToken: token } } });
      await running(a, token);
      // the cancel and the ping in one write: the ping is read right after it
      a.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } });
      const [same, other] = await Promise.all([pingMs(a), pingMs(b)]);
      report.push(`${tool} ${same.toFixed(1)}/${other.toFixed(1)} ms`);
      assert.ok(same < CANCEL_PING_MS, `${tool}: ping in the same session ${same} ms after the cancel`);
      assert.ok(other < CANCEL_PING_MS, `${tool}: ping in another session ${other} ms after the cancel`);
      assert.equal(answered, null, `${tool} answered after its cancel`);
    }
    console.log(`cancel -> ping (same/other session): ${report.join(', ')}`);
    // the cancelled tracers' programs are released (on a worker) and gone
    await until('every cancelled tracer\'s programs released', () =>
      bpftool('prog show').every((p) => before.has(p.id) || ours.has(p.id)));
    await pingMs(a);   /* a reply to a cancelled call would have come before this one */
    assert.ok(calls.every((_, i) => a.pending.has(JSON.stringify(`call-${i}`))), 'no cancelled call was answered');
  } finally {
    await a.close(); await b.close();
    await stopDaemon(d);
  }
});

test('a ping in another session is answered at once while the verifier works through a slow object', TEST, async () => {
  const d = await startDaemon();
  const a = await open(d), b = await open(d);
  try {
    const t0 = Date.now();
    const load = a.ok('load_program', { path: obj('load_slow') }).then((r) => ({ r, ms: Date.now() - t0 }));
    await sleep(50);
    const pings = [];
    let done = false;
    load.then(() => { done = true; });
    while (!done) pings.push(await pingMs(b));
    const { r, ms } = await load;
    assert.ok(r.programs[0].verified_insns > 500000, `verified ${r.programs[0].verified_insns} instructions`);
    assert.ok(pings.length >= 3, `${pings.length} pings during a ${ms} ms load`);
    const worst = Math.max(...pings);
    console.log(`load_slow: ${ms} ms in the verifier; ${pings.length} pings in another session, worst ${worst.toFixed(1)} ms`);
    assert.ok(worst < PING_BOUND_MS, `worst ping ${worst} ms during the load`);
  } finally {
    await a.close(); await b.close();
    await stopDaemon(d);
  }
});

// One session's mixed work, checked against what only it can know.
async function mixed(s, k) {
  // pipelined: replies come back in request order
  const pipelined = [
    ['tools/call', { name: 'info', arguments: {} }],
    ['ping', {}],
    ['tools/call', { name: 'list_tracepoints', arguments: { category: 'syscalls', limit: 3 } }],
    ['tools/call', { name: 'load_program', arguments: { path: obj('maps') } }],
    ['tools/call', { name: 'inspect_state', arguments: { kinds: ['map'], limit: 1000 } }],
    ['tools/call', { name: 'get_btf_types', arguments: { name: 'task_struct', limit: 1 } }],
    ['ping', {}],
  ];
  const order = [];
  const replies = await Promise.all(pipelined.map(([m, p], i) => s.request(m, p, { id: `${k}-${i}`, timeoutMs: 60000 })
    .then((r) => { order.push(i); return r; })));
  assert.deepEqual(order, pipelined.map((_, i) => i), `session ${k}: replies in request order`);
  for (const r of replies) assert.ok(r.result && !r.result.isError, `session ${k}: ${JSON.stringify(r).slice(0, 300)}`);
  const info = replies[0].result.structuredContent;
  const loaded = replies[3].result.structuredContent;
  const mine = new Set(loaded.maps.map((m) => m.id));
  const listed = replies[4].result.structuredContent.maps.items.filter((m) => m.owned).map((m) => m.id);
  assert.deepEqual(new Set(listed.filter((id) => mine.has(id))), mine, `session ${k}: its maps are owned`);
  assert.ok(listed.every((id) => mine.has(id)), `session ${k}: only its own maps are owned`);
  // a value only this session writes, read back from its own map
  const hash = loaded.maps.find((m) => m.name === 'mt_hash').id;
  await s.ok('map_update', { map_id: hash, entries: [{ key: 7, value: 1000 + k }] });
  const got = await s.ok('map_lookup', { map_id: hash, keys: [7] });
  assert.deepEqual([got.results[0].found, got.results[0].value], [true, 1000 + k]);
  // a tracer and a ping at once: the ping is not held behind the tracer
  const tracer = s.ok('syscall_stats', { duration_ms: 300 });
  await s.request('ping', {});
  const st = await tracer;
  assert.equal(st.stopped_by, 'duration');
  await s.ok('unload_program', { handle: loaded.handle });
  return { session: info.server.session, maps: [...mine] };
}

test('16 sessions at once doing mixed calls: each reply in its own session, in order, objects its own', TEST, async () => {
  const d = await startDaemon(['--limit', 'sessions=32', '--limit', 'jobs=2']);
  const ss = await Promise.all(Array.from({ length: 16 }, () => open(d)));
  try {
    const out = await Promise.all(ss.map((s, k) => mixed(s, k)));
    assert.equal(new Set(out.map((o) => o.session)).size, 16, 'sixteen sessions');
    const info = await ss[0].ok('info');
    assert.equal(info.server.sessions, 16);
    assert.equal(info.server.mode, 'daemon');
    // every session unloaded: none of their maps remain
    const ids = new Set(out.flatMap((o) => o.maps));
    await until('the sessions\' maps are gone', () => !bpftool('map show').some((m) => ids.has(m.id)));
  } finally {
    await Promise.all(ss.map((s) => s.close()));
    await stopDaemon(d);
  }
});

test('a client killed mid-load_program and one killed mid-tracer leave nothing behind; the others go on', TEST, async () => {
  const d = await startDaemon();
  const keep = await open(d);
  const before = new Set(bpftool('prog show').map((p) => p.id));
  try {
    const kept = await keep.ok('load_program', { path: obj('maps') });
    // mid-load: the client dies while the verifier works
    const c1 = await openConnect(d);
    c1.send({ jsonrpc: '2.0', id: 'load', method: 'tools/call', params: { name: 'load_program', arguments: { path: obj('load_slow') } } });
    await sleep(100);
    c1.child.kill('SIGKILL');
    // mid-tracer: attached, reporting progress, then killed
    const c2 = await openConnect(d);
    // (a comm no process has: opens elsewhere on the machine cannot fill its list and end it early)
    c2.send({ jsonrpc: '2.0', id: 'tr', method: 'tools/call', params: { name: 'trace_open', arguments: { duration_ms: 20000, comm: 'no-such-comm-0' }, _meta: { progressToken: 'p' } } });
    await running(c2, 'p');
    const tracerProgs = bpftool('prog show').filter((p) => !before.has(p.id) && /^trace_open/.test(p.name)).map((p) => p.id);
    assert.ok(tracerProgs.length > 0, 'trace_open is attached');
    c2.child.kill('SIGKILL');
    // the other session is served meanwhile
    assert.ok(await pingMs(keep) < PING_BOUND_MS);
    await until('the killed clients\' programs are gone', () => {
      const now = bpftool('prog show');
      return !now.some((p) => p.name === 'slow_verify' || tracerProgs.includes(p.id));
    }, 20000);
    // ... and only theirs: the kept session's object is still loaded and owned
    const st = await keep.ok('inspect_state', { kinds: ['map'] });
    const keptIds = kept.maps.map((m) => m.id);
    assert.deepEqual(st.maps.items.filter((m) => keptIds.includes(m.id)).map((m) => m.owned), keptIds.map(() => true));
    // (a killed client's session ends once its last job has come back from
    // a worker, which can be after its objects are gone)
    await until('only the kept session left', async () => (await keep.ok('info')).server.sessions === 1, 10000);
  } finally {
    await keep.close();
    await stopDaemon(d);
  }
});

// Loads and attaches one object per session; returns the program ids.
async function holdObjects(d, n) {
  const sessions = [];
  const progs = [];
  for (let k = 0; k < n; k++) {
    const s = await open(d);
    const o = await s.ok('load_program', { path: obj('attach_trace') });
    const p = o.programs.find((x) => x.name === 'count_raw');
    await s.ok('attach_program', { program_id: p.id, type: 'raw_tracepoint', target: 'sys_enter' });
    progs.push(...o.programs.map((x) => x.id));
    sessions.push(s);
  }
  return { sessions, progs };
}

for (const sig of ['SIGTERM', 'SIGKILL']) {
  test(`the daemon ${sig === 'SIGKILL' ? 'killed with -9' : 'stopped with SIGTERM'}: the objects of every session are gone but the pin`, TEST, async () => {
    const pinDir = `/sys/fs/bpf/ebpf_mcp_conc_${process.pid}_${sig}`;
    sh(`mkdir -p ${pinDir}`);
    const d = await startDaemon(['--pin-dir', pinDir]);
    try {
      const { sessions, progs } = await holdObjects(d, 3);
      const maps = await sessions[1].ok('inspect_state', { kinds: ['map'] });
      const pinned = maps.maps.items.find((m) => m.owned);
      await sessions[1].ok('pin_object', { kind: 'map', id: pinned.id, path: `${pinDir}/kept` });
      const links = bpftool('link show').filter((l) => progs.includes(l.prog_id));
      assert.equal(links.length, 3, 'three attachments, one per session');
      const ex = await stopDaemon(d, sig);
      if (sig === 'SIGTERM') assert.deepEqual(ex, { code: 0, sig: null });
      else assert.equal(ex.sig, 'SIGKILL');
      await until('every session\'s programs and links are gone', () =>
        !bpftool('prog show').some((p) => progs.includes(p.id)) && !bpftool('link show').some((l) => progs.includes(l.prog_id)));
      // the pinned map outlives the daemon
      const kept = bpftool(`map show pinned ${pinDir}/kept`);
      assert.equal(kept.id, pinned.id);
      if (sig === 'SIGTERM') assert.ok(!existsSync(d.socket), 'the socket file is removed');
    } finally {
      sh(`rm -rf ${pinDir}`);
    }
  });
}

test('caps hold in total across sessions: programs_total', TEST, async () => {
  const d = await startDaemon(['--limit', 'programs_total=3']);
  const a = await open(d), b = await open(d);
  try {
    const oa = await a.ok('load_program', { path: obj('load_basic') });
    const n = oa.programs.length;
    assert.equal(n, 2, 'load_basic has two programs');
    const r = await b.call('load_program', { path: obj('load_basic') });
    assert.equal(r.isError, true);
    const e = r.structuredContent.error;
    assert.equal(e.code, 'LIMIT_PROGRAMS_TOTAL');
    assert.deepEqual([e.context.limit, e.context.value, e.context.held, e.context.needed], ['programs_total', 3, n, n]);
    await a.ok('unload_program', { handle: oa.handle });
    const ob = await b.ok('load_program', { path: obj('load_basic') });
    assert.equal(ob.programs.length, n);
  } finally {
    await a.close(); await b.close();
    await stopDaemon(d);
  }
});

// Chaos: the world changes under the server while it works, and each time
// it gives a clear error or state, keeps serving, and leaves no kernel
// object unaccounted. Five disturbances:
//   1. the interface under an XDP link, a tcx link and a clsact filter is
//      deleted mid-session (ip link del);
//   2. tracefs is unmounted while a tracer runs, then mounted again (in the
//      server's own mount namespace: the host's tracefs stays);
//   3. a client is killed while the verifier works through its load (a
//      stdio client, the stdio server itself, a `connect` client of a daemon);
//   4. the daemon is killed with SIGKILL and started again on its socket;
//   5. memory pressure: a small --limit heap_bytes.
// The witnesses are the kernel's: bpftool (programs, links, maps by id and
// by a name unique to this run), ip link, /proc/PID/fd and fdinfo (what a
// server process holds), /proc/PID/mounts, /proc/PID/task/*/stack (a thread
// inside the verifier). Every wait is on observable state with a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, copyFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, BUILD, Server, sh, ensureMounts } from '../lib/mcp.mjs';
import { bpftool, fails, vethPair, linkExists, progExists } from '../lib/kern.mjs';
import { held, fdCount } from '../lib/held.mjs';
import { Daemon, until, listening, isSocket, socketInodes } from '../lib/daemon.mjs';

ensureMounts();
const OBJ_DIR = path.join(BUILD, 'bpf');
const obj = (n) => path.join(OBJ_DIR, `${n}.bpf.o`);
const TEST = { timeout: 600000 };
// Deadlines for waits on the kernel: generous, since a machine whose CPUs
// are busy elsewhere can stretch a 0.4 s verifier run many times over.
const SLOW_MS = 120000;
const RUN = process.pid % 100000;            // names unique to this run
const none = { progs: [], links: [], maps: [] };
const alive = (pid) => {
  try { return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
};

// The BPF objects process pid holds, sorted (for equality).
const heldSorted = (pid) => {
  const h = held(pid);
  return { progs: h.progs.sort(), links: h.links.sort(), maps: h.maps.sort() };
};

// ---- 1. the interface under a link is deleted ----------------------------------------

test('the interface under xdp, tcx and clsact attachments is deleted: defunct in inspect_state, clear detach, nothing left', TEST, async () => {
  const s = new Server(['--profile', 'full', '--object-dir', OBJ_DIR]);
  const nets = [vethPair(`chx${RUN % 1000}p`, 231), vethPair(`chx${RUN % 1000}q`, 232)];
  const [p, q] = nets;
  try {
    await s.init();
    const pid = s.proc.pid;
    // p: detached by hand after the deletion; q: left for the session's end
    const b = await s.ok('load_program', { path: obj('attach_net') });
    const prog = (o, n) => o.programs.find((x) => x.name === n).id;
    const attachAll = async (o, net) => ({
      xdp: await s.ok('attach_program', { program_id: prog(o, 'count_xdp'), type: 'xdp', interface: net.a, mode: 'native' }),
      tcx: await s.ok('attach_program', { program_id: prog(o, 'count_tc'), type: 'tc', interface: net.a, direction: 'ingress' }),
      cls: await s.ok('attach_program', { program_id: prog(o, 'count_tc2'), type: 'tc', interface: net.a, direction: 'egress', mode: 'clsact' }),
    });
    const lb = await attachAll(b, q);
    const fdB = fdCount(pid);                   // what b and its attachments take
    const a = await s.ok('load_program', { path: obj('attach_net') });
    const la = await attachAll(a, p);
    assert.equal(JSON.parse(sh(`ip -j link show dev ${p.a}`))[0].xdp.prog.id, prog(a, 'count_xdp'), 'ip: xdp on p');
    assert.equal(bpftool(`link show id ${la.tcx.link_id}`).prog_id, prog(a, 'count_tc'));
    let st = await s.ok('inspect_state', { kinds: ['link'] });
    const mine = (ids) => ids.map((id) => st.links.items.find((l) => l.id === id));
    assert.deepEqual(mine([la.xdp.link_id, la.tcx.link_id]).map((l) => [l.ifindex, l.defunct]), [[p.ifindex, false], [p.ifindex, false]]);

    sh(`ip link del ${p.a}`);
    sh(`ip link del ${q.a}`);
    assert.throws(() => sh(`ip link show dev ${p.a}`), /does not exist/, 'ip: p is gone');
    // the kernel keeps the links (this server's fds hold them), off their hook
    const ids = [la.xdp.link_id, la.tcx.link_id, lb.xdp.link_id, lb.tcx.link_id];
    assert.deepEqual(ids.map(linkExists), [true, true, true, true], 'bpftool: the links stay while held');
    assert.deepEqual(ids.map((id) => bpftool(`link show id ${id}`).ifindex ?? 0), [0, 0, 0, 0], 'bpftool: no interface');

    // the session keeps serving and says what the links are now
    assert.deepEqual((await s.request('ping')).result, {});
    st = await s.ok('inspect_state', { kinds: ['link'] });
    assert.deepEqual(mine(ids).map((l) => [l.id, l.ifindex, l.defunct, l.owned]), ids.map((id) => [id, 0, true, true]));
    const gone = await fails(s, 'attach_program', { program_id: prog(a, 'count_xdp'), type: 'xdp', interface: p.a });
    assert.equal(gone.code, 'NO_SUCH_INTERFACE');
    for (const [name, l] of Object.entries(la)) {
      const d = await s.ok('detach_link', { link_id: l.link_id });
      assert.equal(d.interface_gone, true, name);
      assert.equal(d.still_exists, false, name);
      assert.match(d.note, /interface .*was deleted/, name);
      if (name !== 'cls') assert.equal(linkExists(l.link_id), false, `bpftool: ${name} link closed`);
      assert.equal((await fails(s, 'detach_link', { link_id: l.link_id })).code, 'NO_SUCH_LINK', `${name} twice`);
    }
    await s.ok('unload_program', { handle: a.handle });
    assert.deepEqual(a.programs.map((x) => progExists(x.id)), a.programs.map(() => false), 'bpftool: a\'s programs unloaded');
    const h = heldSorted(pid);
    assert.deepEqual(h.links, [lb.xdp.link_id, lb.tcx.link_id].sort(), 'only q\'s links are held');
    assert.equal(fdCount(pid), fdB, 'fds: back to b\'s, nothing of a left');
    console.log(`deleted interfaces: links ${ids.join(',')} defunct (ifindex 0); fds ${fdB} before a and after it`);

    // the session's end releases what was still held on the deleted interface
    await s.close();
    assert.ok(!linkExists(lb.xdp.link_id) && !linkExists(lb.tcx.link_id), 'bpftool: q\'s links gone');
    await until('b\'s programs gone', () => !b.programs.some((x) => progExists(x.id)));
  } finally {
    await s.close();
    for (const n of nets) n.cleanup();
  }
});

// ---- 2. tracefs unmounted during a call ------------------------------------------------

const TRACEFS_MOUNTS = ['/sys/kernel/debug/tracing', '/sys/kernel/debug', '/sys/kernel/tracing'];
const tracefsIn = (pid) => readFileSync(`/proc/${pid}/mounts`, 'utf8').split('\n').filter((l) => l.split(' ')[2] === 'tracefs');

// A copy of cat whose comm is unique: trace_open filtered on it sees only it.
function commBinary(comm) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaos-comm-'));
  const bin = path.join(dir, comm);
  copyFileSync('/bin/cat', bin);
  chmodSync(bin, 0o755);
  return { bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('tracefs unmounted while a tracer runs: the run ends cleanly, tracefs users say TRACEFS_MISSING, all works after a remount', TEST, async () => {
  // its own mount namespace: unmounting there leaves the host's tracefs alone
  const s = new Server(['--profile', 'full', '--object-dir', OBJ_DIR], { wrap: ['unshare', '-m', '--propagation', 'private'] });
  const comm = `chx${RUN}open`;
  const cat = commBinary(comm);
  try {
    await s.init();
    const pid = s.proc.pid;
    const ns = (cmd) => execFileSync('nsenter', ['-t', String(pid), '-m', 'sh', '-c', cmd], { encoding: 'utf8' });
    assert.ok(tracefsIn(pid).length > 0, 'tracefs mounted at the start');
    const t = await s.ok('load_program', { path: obj('attach_trace') });
    const tp = t.programs.find((x) => x.name === 'count_tp').id;
    const base = heldSorted(pid), fd0 = fdCount(pid);

    // a tracer attached and running: trace_open ends at its first event
    const run = s.request('tools/call', { name: 'trace_open', arguments: { comm, max_events: 1, duration_ms: 120000 }, _meta: { progressToken: 'tr' } }, { timeoutMs: 150000 });
    await until('trace_open to run', () => s.notifications.some((n) => n.method === 'notifications/progress' && n.params.progressToken === 'tr'), SLOW_MS);
    const during = heldSorted(pid);
    assert.ok(during.links.length > base.links.length, 'the tracer holds its links');
    ns(TRACEFS_MOUNTS.map((m) => `umount ${m}`).join('; '));
    assert.deepEqual(tracefsIn(pid), [], 'no tracefs left in the server\'s namespace');
    assert.ok(readFileSync('/proc/self/mounts', 'utf8').includes(' tracefs '), 'the host keeps its tracefs');

    // calls that need tracefs say so, naming the mount; the rest works
    const lt = await fails(s, 'list_tracepoints', {});
    assert.equal(lt.code, 'TRACEFS_NOT_MOUNTED');
    assert.match(lt.message, /mount -t tracefs tracefs \/sys\/kernel\/tracing/);
    const at = await fails(s, 'attach_program', { program_id: tp, type: 'tracepoint', target: 'syscalls/sys_enter_getpid' });
    assert.deepEqual([at.code, at.category, at.recoverable, at.context.missing, at.context.path, at.context.pointer],
      ['TRACEFS_MISSING', 'resource', true, 'tracefs', '/sys/kernel/tracing', '/target']);
    for (const tracer of ['trace_open', 'tcp_retransmits']) {
      const e = await fails(s, tracer, { duration_ms: 100 });
      assert.equal(e.code, 'TRACEFS_MISSING', tracer);
      assert.match(e.message, /mount -t tracefs tracefs \/sys\/kernel\/tracing/, tracer);
    }
    const ex = await s.ok('trace_exec', { duration_ms: 100 });      // tp_btf: no tracefs needed
    assert.equal(ex.stopped_by ?? 'duration', 'duration');
    // (a finished tracer is released on a worker after its reply)
    await until('the refused calls and trace_exec to hold nothing more',
      () => JSON.stringify(heldSorted(pid)) === JSON.stringify(during), SLOW_MS);

    // the running tracer was not disturbed: it sees the open and answers
    execFileSync(cat.bin, ['/etc/hostname'], { stdio: 'ignore' });
    const r = await run;
    assert.notEqual(r.result.isError, true, JSON.stringify(r.result.structuredContent));
    const evs = r.result.structuredContent.events;
    assert.equal(evs[0].comm, comm);
    await until('the tracer\'s objects released', () => JSON.stringify(heldSorted(pid)) === JSON.stringify(base));
    assert.equal(fdCount(pid), fd0, 'fds back to where they were');
    assert.deepEqual(during.progs.filter((x) => !base.progs.includes(x)).filter(progExists), [], 'bpftool: tracer programs gone');

    // mounted again: everything works
    ns('mount -t tracefs tracefs /sys/kernel/tracing');
    const l2 = await s.ok('list_tracepoints', { category: 'syscalls', pattern: 'sys_enter_getpid' });
    assert.deepEqual(l2.tracepoints.map((x) => `${x.category}/${x.name}`), ['syscalls/sys_enter_getpid']);
    const a2 = await s.ok('attach_program', { program_id: tp, type: 'tracepoint', target: 'syscalls/sys_enter_getpid' });
    assert.equal(bpftool(`link show id ${a2.link_id}`).prog_id, tp, 'bpftool: attached');
    await s.ok('trace_open', { duration_ms: 100 });
    console.log(`tracefs: unmounted mid-run; ${evs.length} event from the running tracer; fds ${fd0} before and after`);
    await s.close();
    assert.equal(linkExists(a2.link_id), false, 'released at exit');
  } finally {
    await s.close();
    cat.cleanup();
  }
});

// ---- 3. a client killed while the verifier works ---------------------------------------

// load_slow.bpf.o with its program renamed: a name no other test loads.
function slowObject(dir, name) {
  const out = path.join(dir, `${name}.bpf.o`);
  execFileSync('llvm-objcopy', ['--redefine-sym', `slow_verify=${name}`, obj('load_slow'), out]);
  return out;
}
const progsNamed = (name) => bpftool('prog show').filter((x) => x.name === name);

// Each worker thread's system time in clock ticks (field 15 of its stat).
function stimes(pid) {
  const out = {};
  let tasks;
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const t of tasks) {
    if (t === String(pid)) continue;   // the loop thread: it never verifies
    try { out[t] = Number(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1].split(' ')[12]); } catch { /* gone */ }
  }
  return out;
}

// Whether a worker of pid is inside the verifier: bpf_check on its kernel
// stack (seen only while the thread is off the CPU), or, while it runs,
// 30 ms of system time taken since base (stimes before the load was asked
// for): the verifier is the only long stretch in the kernel a load makes
// (the ELF, BTF and policy work is user time).
function verifying(pid, base = {}) {
  const now = stimes(pid);
  return Object.keys(now).some((t) => {
    if (now[t] - (base[t] ?? 0) >= 3) return true;
    try { return /\bbpf_check\b/.test(readFileSync(`/proc/${pid}/task/${t}/stack`, 'utf8')); } catch { return false; }
  });
}

// A client process (node) that starts a stdio server, asks it to load path
// and prints the server's pid; killing the client is the client dying.
const CLIENT = `
const { spawn } = require('node:child_process');
const [bin, dir, file] = process.argv.slice(1);
const s = spawn(bin, ['--profile', 'full', '--object-dir', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdout.write(s.pid + '\\n');
const send = (m) => s.stdin.write(JSON.stringify(m) + '\\n');
send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } });
send({ jsonrpc: '2.0', method: 'notifications/initialized' });
send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'load_program', arguments: { path: file } } });
s.stdout.on('data', (d) => process.stderr.write(d));
setInterval(() => {}, 1000);
`;

test('a client killed during a verifier load: stdio client, stdio server, connect client of a daemon; no program left', TEST, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chaos-slow-'));
  chmodSync(dir, 0o755);
  const d = await Daemon.start(['--profile', 'full', '--object-dir', dir]);
  try {
    // (a) the client of a stdio server dies: the server sees EOF and ends
    const na = `chs${RUN}a`;
    const fa = slowObject(dir, na);
    const client = spawn(process.execPath, ['-e', CLIENT, BIN, dir, fa], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    client.stdout.setEncoding('utf8').on('data', (x) => { out += x; });
    const spid = Number(await until('the server\'s pid', () => out.includes('\n') && out.trim()));
    await until('the stdio server to be in the verifier', () => verifying(spid), SLOW_MS, 2);
    client.kill('SIGKILL');
    await until('the orphaned stdio server to end', () => !alive(spid), SLOW_MS);
    assert.deepEqual(progsNamed(na), [], `bpftool: no ${na}`);

    // (b) the stdio server itself killed mid-verify
    const nb = `chs${RUN}b`;
    const fb = slowObject(dir, nb);
    const sb = new Server(['--profile', 'full', '--object-dir', dir]);
    await sb.init();
    const sbusy0 = stimes(sb.proc.pid);
    sb.send({ jsonrpc: '2.0', id: 'load', method: 'tools/call', params: { name: 'load_program', arguments: { path: fb } } });
    await until('the stdio server to be in the verifier', () => verifying(sb.proc.pid, sbusy0), SLOW_MS, 2);
    sb.proc.kill('SIGKILL');
    assert.equal((await sb.exited).sig, 'SIGKILL');
    assert.deepEqual(progsNamed(nb), [], `bpftool: no ${nb}`);

    // (c) a connect client of the daemon dies; another session goes on
    const keep = d.raw();
    await keep.connected;
    await keep.init();
    const kept = await keep.ok('load_program', { path: slowObject(dir, `chs${RUN}k`) });
    const base = heldSorted(d.pid), fd0 = fdCount(d.pid);
    const nc = `chs${RUN}c`;
    const fc = slowObject(dir, nc);
    const c = d.as({ uid: 0 });
    await c.init();
    const busy0 = stimes(d.pid);
    c.send({ jsonrpc: '2.0', id: 'load', method: 'tools/call', params: { name: 'load_program', arguments: { path: fc } } });
    await until('the daemon to be in the verifier', () => verifying(d.pid, busy0), SLOW_MS, 2);
    c.child.kill('SIGKILL');
    assert.deepEqual((await keep.request('ping')).result, {}, 'the other session is answered');
    // the killed session ends once its load has come back from the verifier
    await until('only the kept session left', async () => (await keep.ok('info')).server.sessions === 1, SLOW_MS);
    await until(`${nc} gone`, () => progsNamed(nc).length === 0, SLOW_MS);
    assert.deepEqual(heldSorted(d.pid), base, 'the daemon holds what the kept session owns, no more');
    assert.equal(fdCount(d.pid), fd0, 'no fd left behind');
    assert.deepEqual(progsNamed(`chs${RUN}k`).map((x) => x.id), kept.programs.map((x) => x.id), 'the kept program stays');
    const again = await keep.ok('load_program', { path: fc });
    assert.equal(again.programs[0].name, nc, 'and the daemon still loads');
    console.log(`killed mid-verify: ${na}, ${nb}, ${nc} absent from bpftool; daemon fds ${fd0} before and after`);
    await keep.close();
  } finally {
    await d.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- 4. the daemon killed and restarted ------------------------------------------------

test('the daemon killed with SIGKILL and started again on its socket: stale socket replaced, clients reconnect, only the pin stays', TEST, async () => {
  const pinDir = `/sys/fs/bpf/chaos_${RUN}`;
  sh(`rm -rf ${pinDir} && mkdir -p ${pinDir}`);
  const d1 = await Daemon.start(['--profile', 'full', '--object-dir', OBJ_DIR, '--pin-dir', pinDir]);
  let d2;
  try {
    const s = d1.raw();
    await s.connected;
    await s.init();
    const o = await s.ok('load_program', { path: obj('attach_trace') });
    const raw = o.programs.find((x) => x.name === 'count_raw').id;
    const l = await s.ok('attach_program', { program_id: raw, type: 'raw_tracepoint', target: 'sys_enter' });
    const pinnedMap = o.maps.find((m) => m.name === 'raw_counts').id;
    await s.ok('pin_object', { kind: 'map', id: pinnedMap, path: `${pinDir}/kept` });
    const c = d1.as({ uid: 0 });
    await c.init();
    const h = held(d1.pid);
    assert.ok(h.links.includes(l.link_id) && h.progs.length === o.programs.length);
    const inode1 = listening(d1.socket).inode;

    assert.equal((await d1.stop('SIGKILL')).sig, 'SIGKILL');
    // its clients see the end; the kernel closed what only its fds held
    assert.equal(isSocket(d1.socket) && !listening(d1.socket), true, 'a stale socket file is left');
    // (connect's documented contract: it exits 0 when either side closes)
    assert.deepEqual(await c.exited, { code: 0, sig: null }, 'connect ends with the daemon, it does not hang');
    await until('the killed daemon\'s programs and link are gone', () =>
      !o.programs.some((x) => progExists(x.id)) && !linkExists(l.link_id));
    const maps = new Set(bpftool('map show').map((m) => m.id));
    assert.deepEqual(o.maps.map((m) => m.id).filter((m) => maps.has(m)), [pinnedMap], 'bpftool: only the pinned map');

    // the same socket path: the stale file is replaced
    d2 = await Daemon.start(['--profile', 'full', '--object-dir', OBJ_DIR, '--pin-dir', pinDir], { pub: d1.pub, socket: d1.socket });
    const live = listening(d2.socket);
    assert.notEqual(live.inode, inode1, 'a new listening socket');
    assert.ok([...socketInodes(d2.pid).values()].includes(live.inode), 'held by the new daemon');
    const c2 = d2.as({ uid: 0 });
    await c2.init();
    const info = await c2.ok('info');
    assert.equal(info.server.sessions, 1, 'no session carried over');
    const st = await c2.ok('inspect_state', { kinds: ['program', 'link', 'map', 'pin'] });
    assert.deepEqual([st.owned.programs, st.owned.maps, st.owned.links, st.owned.handles.length], [0, 0, 0, 0], 'nothing owned');
    assert.equal(st.programs.items.filter((x) => o.programs.some((p) => p.id === x.id)).length, 0);
    const pin = st.pins.items.find((x) => x.path === `${pinDir}/kept`);
    assert.equal(pin?.id, pinnedMap, 'the pin is reported, with its map');
    assert.equal(st.maps.items.find((m) => m.id === pinnedMap)?.owned, false, 'and is not owned by anyone here');
    assert.deepEqual(held(d2.pid), none, 'the new daemon holds no BPF object');
    const o2 = await c2.ok('load_program', { path: obj('attach_trace') });
    assert.equal(o2.programs.length, o.programs.length, 'and serves');
    console.log(`daemon killed: socket inode ${inode1} -> ${live.inode}; ${o.programs.length} programs, 1 link gone; pin ${pinDir}/kept (map ${pinnedMap}) kept`);
    await c2.close();
    assert.deepEqual((await d2.stop()), { code: 0, sig: null });
  } finally {
    await d2?.kill();
    await d1.kill();
    sh(`rm -rf ${pinDir}`);
  }
});

// ---- 5. memory pressure: a small heap_bytes --------------------------------------------

const isHeapLimit = (e, cap) =>
  e.code === 'LIMIT_HEAP_BYTES' && e.category === 'resource' && e.recoverable === true &&
  e.context.limit === 'heap_bytes' && e.context.value === cap && /heap_bytes/.test(e.message);

test('a small heap_bytes: load, tracers and get_btf_types fail with LIMIT_HEAP_BYTES, nothing is held, smaller calls work', TEST, async () => {
  // a map with BTF made outside the server (bpftool), for map_dump
  const pinDir = `/sys/fs/bpf/chaos_heap_${RUN}`;
  sh(`rm -rf ${pinDir} && mkdir -p ${pinDir}`);
  sh(`bpftool prog loadall ${obj('maps')} ${pinDir}/p pinmaps ${pinDir}`);
  const caps = [4 << 20, 16 << 20];
  try {
    for (const cap of caps) {
      const s = new Server(['--profile', 'full', '--object-dir', OBJ_DIR, '--limit', `heap_bytes=${cap}`]);
      try {
        await s.init();
        const pid = s.proc.pid;
        const fd0 = fdCount(pid);
        const refusals = async () => (await s.ok('info')).memory.heap_refusals;
        const r0 = await refusals();
        const refused = [];
        const tryCall = async (tool, args) => {
          const r = await s.call(tool, args);
          if (!r.isError) return r.structuredContent;
          const e = r.structuredContent.error;
          assert.ok(isHeapLimit(e, cap), `${tool} at ${cap}: ${JSON.stringify(e)}`);
          refused.push(tool);
          assert.deepEqual((await s.request('ping')).result, {}, `serving after ${tool}`);
          return null;
        };
        const loaded = await tryCall('load_program', { path: obj('maps') });
        await tryCall('get_btf_types', { name: 'task_struct' });
        for (const tracer of ['trace_exec', 'syscall_stats', 'profile_cpu']) await tryCall(tracer, { duration_ms: 100 });
        // the same again: a refusal leaves nothing behind that grows
        const mapped = (await s.ok('info')).memory.heap_mapped_bytes;
        for (const tracer of ['trace_exec', 'syscall_stats']) await tryCall(tracer, { duration_ms: 100 });
        assert.ok((await s.ok('info')).memory.heap_mapped_bytes <= mapped, 'no heap growth on repeated refusals');
        assert.ok(await refusals() > r0, 'info counts the heap cap\'s refusals');
        if (cap === 4 << 20) assert.deepEqual(refused.slice(0, 5), ['load_program', 'get_btf_types', 'trace_exec', 'syscall_stats', 'profile_cpu']);
        else assert.ok(refused.includes('trace_exec') && loaded, `at 16 MiB loads work and tracers do not: ${refused}`);
        // nothing of the refused calls is held (only what a load returned)
        const h = heldSorted(pid);
        const want = loaded ? { progs: loaded.programs.map((x) => x.id).sort(), links: [], maps: loaded.maps.map((m) => m.id).sort() } : none;
        assert.deepEqual(h, want, 'held: the load\'s objects only');

        // smaller calls still work: map_dump decodes through BTF within scratch memory
        const dump = await s.ok('map_dump', { pin_path: `${pinDir}/mt_pcpu_array` });
        assert.equal(dump.entries.length, 4);
        assert.ok(Array.isArray(dump.entries[0].value), 'per-CPU values decoded');
        await s.ok('inspect_state', { kinds: ['map'] });
        await s.ok('list_bpf_program_types', {});
        if (loaded) {
          await s.ok('map_dump', { map_id: loaded.maps[0].id });
          await s.ok('unload_program', { handle: loaded.handle });
          assert.deepEqual(loaded.programs.map((x) => progExists(x.id)), loaded.programs.map(() => false));
        }
        assert.deepEqual(heldSorted(pid), none);
        assert.equal(fdCount(pid), fd0, 'no stray fd');
        console.log(`heap_bytes=${cap}: LIMIT_HEAP_BYTES for ${refused.join(', ')}; fds ${fd0} -> ${fdCount(pid)}`);
      } finally {
        await s.close();
      }
    }
  } finally {
    sh(`rm -rf ${pinDir}`);
  }
});

// prog_stats against the kernel's own counters: a uprobe limited to one
// waiting child fires exactly N times inside the interval, and the run count
// prog_stats reports equals N, the test program's own per-pid count (read by
// bpftool) and the run_cnt bpftool shows. The run statistics the call turns
// on are held by an fd of the server (anon_inode:bpf-stats in /proc): it is
// there while the call runs and gone when it ends, is cancelled, or its
// client leaves; kernel.bpf_stats_enabled is never changed.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync, readFileSync } from 'node:fs';
import { Server, withServer, ensureMounts } from '../lib/mcp.mjs';
import { TRIGGER, OBJ_DIR, bpftool, counts, trigger, load, fails, sleep, until } from '../lib/kern.mjs';

const FULL = ['--profile', 'full', '--object-dir', OBJ_DIR];
const N = 37;
const SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';

before(() => ensureMounts());

const sysctl = () => readFileSync(SYSCTL, 'utf8').trim();

// The BPF_ENABLE_STATS fds a process holds.
function statsFds(pid) {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try { if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:bpf-stats') n++; } catch { /* closed meanwhile */ }
  }
  return n;
}

// Whether any process on the host holds run statistics on (other tests may).
function statsOnElsewhere(except) {
  if (sysctl() !== '0') return true;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== except)) {
    try { if (statsFds(p)) return true; } catch { /* gone */ }
  }
  return false;
}

const WAIT_MS = 20000;   // a wide margin: each wait ends as soon as the state is seen

// bpftool's cumulative run count of a program (it prints none before the first counted run).
const runCnt = (id) => bpftool(`prog show id ${id}`).run_cnt ?? 0;

// A prog_stats call started in the background; resolves once its interval began.
async function startStats(s, args, id) {
  const token = `ps-${id}`;
  const reply = s.request('tools/call', { name: 'prog_stats', arguments: args, _meta: { progressToken: token } }, { id });
  let replied = false;
  reply.then(() => { replied = true; }, () => {});
  await until('prog_stats started', () => replied || s.notifications.some((n) => n.params?.progressToken === token), WAIT_MS);
  return { reply, replied: () => replied };
}

// A child that calls attach_trigger_target() N times once told to, probed by
// a uprobe limited to its pid (and a uretprobe on the binary, no pid).
async function probedChild(s, o) {
  const child = spawn(TRIGGER, ['wait-func', String(N)], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise((res) => child.on('exit', res));
  await s.ok('attach_program', { program_id: o.prog.count_uprobe, type: 'uprobe', binary: TRIGGER, symbol: 'attach_trigger_target', pid: child.pid });
  await s.ok('attach_program', { program_id: o.prog.count_uret, type: 'uretprobe', binary: TRIGGER, symbol: 'attach_trigger_target' });
  return { child, go: async () => { child.stdin.end('go\n'); assert.equal(await exited, 0); } };
}

test('prog_stats: a uprobe that ran N times in the interval has run_cnt N, as bpftool and its own count say; stats go off after', async (t) => {
  const before0 = sysctl();
  await withServer(FULL, async (s) => {
    const o = await load(s, 'attach_trace');
    const up = o.prog.count_uprobe, uret = o.prog.count_uret, tp = o.prog.count_tp;
    const { child, go } = await probedChild(s, o);
    const bUp = runCnt(up), bUret = runCnt(uret);
    assert.equal(statsFds(s.proc.pid), 0, 'no stats fd before the call');
    const sel = await startStats(s, { duration_ms: 2500, program_ids: [uret, up, up, tp] }, 'sel');
    const all = await startStats(s, { duration_ms: 2500, limit: 1000 }, 'all');
    assert.equal(statsFds(s.proc.pid), 2, 'each running call holds one BPF_ENABLE_STATS fd');
    assert.equal(sysctl(), before0, 'the sysctl is not written');
    await go();
    const pid = child.pid;
    const [rs, ra] = await Promise.all([sel.reply, all.reply]);
    assert.equal(rs.result.isError, false, JSON.stringify(rs.result.structuredContent));
    const r = rs.result.structuredContent, w = ra.result.structuredContent;
    await until('stats fds closed', () => statsFds(s.proc.pid) === 0, WAIT_MS);
    assert.equal(sysctl(), before0);

    // the child's N calls: the programs' own per-pid counts, bpftool's run_cnt, ours
    assert.equal(counts(o.map.uprobe_counts).get(pid), N);
    assert.equal(counts(o.map.uret_counts).get(pid), N);
    assert.equal(runCnt(up) - bUp, N, 'bpftool: run_cnt grew by N');
    assert.equal(runCnt(uret) - bUret, N);
    const byId = Object.fromEntries(r.programs.map((p) => [p.id, p]));
    assert.deepEqual(r.programs.map((p) => p.id).sort((a, b) => a - b), [tp, up, uret], 'the programs asked for, once each');
    for (const [id, name] of [[up, 'count_uprobe'], [uret, 'count_uret']]) {
      const p = byId[id];
      assert.deepEqual([p.name, p.type, p.status, p.run_cnt], [name, 'kprobe', 'present', N], JSON.stringify(p));
      assert.equal(p.tag, bpftool(`prog show id ${id}`).tag);
      assert.ok(p.run_time_ns > 0 && p.avg_ns === Math.floor(p.run_time_ns / N), JSON.stringify(p));
      assert.ok(Math.abs(p.cpu_percent - 100 * p.run_time_ns / r.interval_ns) < 0.0001, JSON.stringify(p));
      assert.ok(Math.abs(p.cpu_percent_all - p.cpu_percent / r.cpus) < 0.0001);
      // the whole-kernel call saw the same runs
      const q = w.programs.find((x) => x.id === id);
      assert.equal(q?.run_cnt, N, JSON.stringify(q));
    }
    assert.equal(byId[tp].status, 'present');
    assert.deepEqual([r.total, r.returned, r.truncated, r.appeared, r.vanished], [3, 3, false, 0, 0]);
    assert.ok(r.totals.run_cnt >= 2 * N && r.totals.run_time_ns >= byId[up].run_time_ns + byId[uret].run_time_ns);
    assert.ok(r.interval_ns >= 2500e6 && r.duration_ms >= 2500 && r.duration_ms < 4000, `${r.duration_ms} ms`);
    assert.equal(r.cpus, Number(readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')
      .reduce((n, g) => { const [a, b = a] = g.split('-').map(Number); return n + b - a + 1; }, 0)));
    assert.deepEqual([r.stats_were_enabled, r.stopped_by], [before0 !== '0', 'duration']);
    // most run time first
    for (const list of [r.programs, w.programs.filter((p) => p.status !== 'vanished')])
      assert.ok(list.every((p, i) => i === 0 || list[i - 1].run_time_ns >= p.run_time_ns), 'sorted by run time');
    assert.ok(w.total >= 3 && w.total === w.returned && !w.truncated);

    // off again: unless another process on this host holds run statistics on,
    // the kernel no longer counts runs
    const quiet = !statsOnElsewhere(s.proc.pid);
    const c0 = runCnt(uret);
    trigger(['func', '5']);
    if (quiet) assert.equal(runCnt(uret), c0, 'run_cnt frozen: statistics are off');
    else t.diagnostic('another process holds BPF stats on: the frozen run_cnt check is skipped');
  });
});

test('prog_stats: programs loaded and unloaded during the interval are appeared and vanished', async () => {
  await withServer(FULL, async (s) => {
    const gone = await load(s, 'attach_net');
    const stay = await load(s, 'attach_trace');
    const { go } = await probedChild(s, stay);
    const ids = Object.values(gone.prog);
    const run = await startStats(s, { duration_ms: 2000, limit: 1000 }, 'churn');
    await s.ok('unload_program', { handle: gone.handle });
    for (const id of ids) assert.throws(() => bpftool(`prog show id ${id}`), 'bpftool: unloaded');
    const fresh = await load(s, 'load_basic');
    const freshIds = Object.values(fresh.prog);
    await go();
    const r = (await run.reply).result.structuredContent;
    const byId = Object.fromEntries(r.programs.map((p) => [p.id, p]));
    for (const id of ids) {
      assert.equal(byId[id]?.status, 'vanished', `${id}: ${JSON.stringify(byId[id])}`);
      assert.equal(byId[id].run_cnt, undefined, 'no counts for a vanished program');
    }
    for (const id of freshIds) {
      assert.equal(byId[id]?.status, 'appeared', JSON.stringify(byId[id]));
      assert.equal(byId[id].run_cnt, runCnt(id), 'an appeared program: all its runs are in the interval');
    }
    assert.equal(byId[stay.prog.count_uprobe].run_cnt, N);
    assert.ok(r.vanished >= ids.length && r.appeared >= freshIds.length, JSON.stringify([r.vanished, r.appeared]));
    // vanished programs come last
    const firstGone = r.programs.findIndex((p) => p.status === 'vanished');
    assert.ok(r.programs.slice(firstGone).every((p) => p.status === 'vanished'));
  });
});

test('prog_stats: limit cuts the list and says so; an unknown id or a limit over the cap is refused', async () => {
  await withServer(FULL, async (s) => {
    const o = await load(s, 'attach_trace');
    const r = await s.ok('prog_stats', { duration_ms: 50, limit: 1 });
    assert.equal(r.programs.length, 1);
    assert.ok(r.total >= Object.keys(o.prog).length && r.returned === 1 && r.limit === 1 && r.truncated, JSON.stringify(r));
    const e = await fails(s, 'prog_stats', { duration_ms: 50, program_ids: [o.prog.count_tp, 4294967295] });
    assert.deepEqual([e.code, e.category, e.context.pointer, e.context.id], ['NO_SUCH_PROGRAM', 'validation', '/program_ids', 4294967295]);
    assert.match(e.message, /no BPF program with id 4294967295/);
    const l = await fails(s, 'prog_stats', { limit: 1001 });
    assert.deepEqual([l.code, l.context.limit], ['LIMIT_LIST_ITEMS', 'list_items']);
    const d = await fails(s, 'prog_stats', { duration_ms: 0 });
    assert.deepEqual([d.code, d.context.pointer], ['SCHEMA', '/duration_ms']);
    const big = await fails(s, 'prog_stats', { program_ids: Array.from({ length: 1025 }, (_, i) => i + 1) });
    assert.deepEqual([big.code, big.context.pointer], ['SCHEMA', '/program_ids']);
    assert.equal(statsFds(s.proc.pid), 0, 'a refused call holds nothing');
  });
  // call_ms ends it early with what it measured
  await withServer([...FULL, '--limit', 'call_ms=300'], async (s) => {
    const r = await s.ok('prog_stats', { duration_ms: 5000 });
    assert.equal(r.stopped_by, 'deadline');
    assert.ok(r.duration_ms < 2000, `${r.duration_ms} ms`);
  });
});

test('prog_stats: cancel closes the stats fd at once with no reply; stdin EOF ends the server with it', async () => {
  const before0 = sysctl();
  await withServer(FULL, async (s) => {
    const run = await startStats(s, { duration_ms: 20000 }, 'cancel');
    assert.equal(statsFds(s.proc.pid), 1);
    s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'cancel', reason: 'test' } });
    assert.deepEqual((await s.request('ping', {})).result, {}, 'the server answers at once');
    await until('stats fd closed on cancel', () => statsFds(s.proc.pid) === 0, WAIT_MS);
    await sleep(200);
    assert.equal(run.replied(), false, 'a cancelled call gets no reply');
    assert.equal(sysctl(), before0);
  });
  const s = new Server(FULL);
  await s.init();
  await startStats(s, { duration_ms: 20000 }, 'eof');
  assert.equal(statsFds(s.proc.pid), 1);
  const t0 = performance.now();
  assert.deepEqual(await s.close(), { code: 0, sig: null });
  assert.ok(performance.now() - t0 < 2000, 'exits promptly');
  assert.ok(!s.lines.some((l) => l.id === 'eof'), 'no reply after EOF');
  assert.equal(sysctl(), before0, 'kernel.bpf_stats_enabled as it was');
});

// offcpu_profile through MCP against this kernel. The workload fixture
// (build/test/tools/workload, frame pointers) sleeps a known number of
// times for a known time each, and what the tool returns is checked
// against witnesses of its own: the workload's own clock around each
// sleep, the kernel's count of its voluntary switches and its CPU time
// (/proc/<pid>/sched, /proc/<pid>/schedstat), nm for its user frames,
// /proc/kallsyms for the kernel frames, and the server's descriptors and
// bpftool for what it holds in the kernel.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { withServer, sh, ensureMounts } from '../lib/mcp.mjs';
import { sleep, progExists, linkExists } from '../lib/kern.mjs';
import { Lines, exited, track, reap, startWorkload, schedstat, sleeping, WORKLOAD } from '../lib/workload.mjs';
import { nmFuncs, parseFrame, kallsyms, held, foldedOf } from '../lib/stacks.mjs';

const ARGS = ['--profile', 'observe'];
const TEST = { timeout: 120000 };

ensureMounts();
afterEach(reap);

// ---- helpers ----------------------------------------------------------------

// workload -w sleep N MS: on go(), N sleeps of MS ms, and the microseconds
// they took by its own clock ("slept US"); it then blocks reading stdin.
async function sleeper(n, ms) {
  const w = await startWorkload(['sleep', String(n), String(ms)]);
  return {
    ...w,
    async go() {
      const [slept, us] = (await w.go())[0].split(' ');
      assert.equal(slept, 'slept');
      return Number(us);
    },
  };
}

// /proc/<pid>/sched: switches the task made because it blocked.
function voluntarySwitches(pid) {
  const m = /^nr_voluntary_switches\s*:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/sched`, 'utf8'));
  return Number(m[1]);
}

// Starts offcpu_profile; resolves once it is attached (the server handles
// requests in order, so a ping answered after the call means it runs).
async function profile(s, args) {
  const call = s.call('offcpu_profile', args, { timeoutMs: 60000 });
  assert.deepEqual((await s.request('ping', {})).result, {});
  return {
    async done() {
      const r = await call;
      assert.equal(r.isError, false, JSON.stringify(r.structuredContent));
      return r.structuredContent;
    },
  };
}

// Invariants of every result: sorted by blocked time, the rows add up to
// the totals, folded lines are the frames reversed and the microseconds,
// and the scheduler's frames come first (the tracing path left out).
function checkShape(r, { limit = 20 } = {}) {
  assert.equal(r.tracer, 'offcpu_profile');
  assert.ok(r.stacks.length <= limit);
  if (r.rows > limit) assert.equal(r.truncated, true);
  if (!r.truncated) {
    assert.equal(r.stacks.length, r.rows);
    assert.equal(r.stacks.reduce((n, x) => n + x.count, 0), r.blocks);
    const us = r.stacks.reduce((n, x) => n + x.total_us, 0);
    assert.ok(us <= r.total_us && r.total_us - us <= r.rows, `${us} us in rows, ${r.total_us} in all`);
  }
  for (let i = 1; i < r.stacks.length; i++) assert.ok(r.stacks[i - 1].total_us >= r.stacks[i].total_us);
  for (const x of r.stacks) {
    assert.equal(x.folded, foldedOf(x, x.total_us));
    assert.ok(x.count >= 1 && x.max_us <= x.total_us && x.max_us * x.count >= x.total_us, JSON.stringify(x));
    assert.ok(x.states.length >= 1);
    assert.ok(!x.kernel.some((f) => /^(bpf_prog_|bpf_trace_run|__bpf_trace_|__traceiter_)/.test(f)), x.kernel.join(' <- '));
  }
}

// ---- tests --------------------------------------------------------------------

test('a sleeping process: its nanosleep stack, its blocks as the kernel counts them, its time within 10% of its own clock', TEST, async (t) => {
  const N = 20, MS = 50;
  const w = await sleeper(N, MS);
  await sleeping(w.pid);   // in read(0) before the run starts: that block is not the run's
  await withServer(ARGS, async (s) => {
    const p = await profile(s, { pid: w.pid, duration_ms: 3000, limit: 1000 });
    const vol0 = voluntarySwitches(w.pid), run0 = schedstat(w.pid).run, t0 = performance.now();
    const sleptUs = await w.go();
    await sleeping(w.pid);   // back in read(0): its last block, still going on at the end
    const wallUs = (performance.now() - t0) * 1000, runUs = (schedstat(w.pid).run - run0) / 1000;
    const vol1 = voluntarySwitches(w.pid);
    const r = await p.done();
    checkShape(r, { limit: 1000 });
    assert.equal(r.stopped_by, 'duration');
    assert.deepEqual([r.keys_dropped, r.starts_dropped, r.stacks_lost, r.notices_lost], [0, 0, 0, 0]);
    assert.ok(r.stacks.every((x) => x.pid === w.pid && x.comm === 'workload'), 'pid filter');

    // the kernel's own count: every voluntary switch is a block counted, or the one going on at the end.
    // Its N sleeps are N blocks (the nanosleep stack below, exactly); the process may block once more
    // elsewhere (writing its report to the test's pipe, a page fault on a file), and that block is
    // counted and stacked too, never lost
    assert.ok(r.blocks >= N, `${r.blocks} blocks for ${N} sleeps`);
    assert.equal(r.blocked_at_end, 1);
    assert.equal(vol1 - vol0, r.blocks + r.blocked_at_end);
    assert.equal(r.blocked, r.blocks + r.blocks_short + r.blocked_at_end);

    // one stack: workload_sleep <- main in user space, nanosleep in the kernel
    const x = r.stacks.find((y) => parseFrame(y.user[0])?.name === 'workload_sleep');
    assert.ok(x, JSON.stringify(r.stacks.map((y) => y.folded)));
    assert.equal(x.count, N);
    assert.deepEqual(x.states, ['S']);
    const fn = nmFuncs(WORKLOAD), f0 = parseFrame(x.user[0]), f1 = parseFrame(x.user[1]);
    assert.ok(f0.off > 0n && f0.off <= fn.get('workload_sleep').size, `${x.user[0]}: a return address inside workload_sleep`);
    assert.equal(f1?.name, 'main', x.user.join(' <- '));
    const names = x.kernel.map((f) => parseFrame(f)?.name);
    for (const want of ['do_nanosleep', 'hrtimer_nanosleep']) assert.ok(names.includes(want), `${want} in ${names.join(' <- ')}`);
    assert.match(names[0], /^(__schedule|schedule)$/);
    assert.match(names.at(-1), /^entry_SYSCALL_64/);
    const ks = kallsyms();
    for (const f of x.kernel) {
      const k = parseFrame(f);
      assert.ok(k && (ks.byName.get(k.name) ?? []).some((c) => c.addr + k.off < ks.next(c.addr)), `${f} in /proc/kallsyms`);
    }
    assert.match(x.folded, new RegExp(`^workload;.*main;workload_sleep;entry_SYSCALL_64\\w*;.*;do_nanosleep;.*__schedule ${x.total_us}$`));

    // the time: within 10% of what the process measured around its sleeps,
    // and never more than the window minus its time on a CPU
    assert.ok(Math.abs(x.total_us - sleptUs) <= 0.1 * sleptUs, `${x.total_us} us blocked, ${sleptUs} us by its clock`);
    assert.ok(x.total_us <= wallUs - runUs, `${x.total_us} us blocked in a ${wallUs.toFixed(0)} us window with ${runUs.toFixed(0)} us on CPU`);
    assert.ok(x.max_us >= MS * 1000 && x.max_us < x.total_us);
    t.diagnostic(`${x.count} blocks, ${x.total_us} us (its clock: ${sleptUs} us, ${(100 * (x.total_us - sleptUs) / sleptUs).toFixed(2)}%); ` +
      `voluntary switches ${vol1 - vol0}; window ${wallUs.toFixed(0)} us, ${runUs.toFixed(0)} us on CPU`);
  });
  await w.finish();
});

test('a process that exits before the end keeps its names (its map was read when it first blocked)', TEST, async (t) => {
  await withServer(ARGS, async (s) => {
    const p = await profile(s, { comm: 'workload', duration_ms: 2500, limit: 1000 });
    const child = track(spawn(WORKLOAD, ['sleep', '10', '30'], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const slept = Number((await new Lines(child.stdout).next('slept')).split(' ')[1]);
    await exited(child);
    assert.ok(!existsSync(`/proc/${child.pid}`), 'gone before the run ends');
    const r = await p.done();
    checkShape(r, { limit: 1000 });
    const mine = r.stacks.filter((x) => x.pid === child.pid);   // (other workload processes may run here)
    const x = mine.find((y) => parseFrame(y.user[0])?.name === 'workload_sleep');
    assert.ok(x, JSON.stringify(mine));
    assert.equal(x.user_error, undefined);
    assert.equal(parseFrame(x.user[1])?.name, 'main');
    assert.equal(x.count, 10);
    assert.ok(Math.abs(x.total_us - slept) <= 0.1 * slept, `${x.total_us} us, ${slept} by its clock`);
    assert.ok(r.procs_mapped >= 1);
    t.diagnostic(`exited process: ${x.folded}`);
  });
});

test('min_block_us leaves shorter blocks out (counted in blocks_short); kernel_stack/user_stack false leave those sides empty', TEST, async () => {
  await withServer(ARGS, async (s) => {
    const a = await sleeper(10, 5);
    const p = await profile(s, { pid: a.pid, duration_ms: 1500, min_block_us: 200000 });
    await a.go();
    const r = await p.done();
    checkShape(r);
    assert.ok(!r.stacks.some((x) => parseFrame(x.user[0])?.name === 'workload_sleep'), 'no 5 ms sleep counted');
    assert.ok(r.blocks_short >= 10, `${r.blocks_short} short blocks`);
    assert.equal(r.min_block_us, 200000);
    await a.finish();

    const b = await sleeper(10, 5);
    const q = await profile(s, { pid: b.pid, duration_ms: 1500, kernel_stack: false });
    await b.go();
    const k = await q.done();
    checkShape(k);
    const kx = k.stacks.find((x) => parseFrame(x.user[0])?.name === 'workload_sleep');
    assert.ok(kx && kx.count === 10, JSON.stringify(k.stacks));
    assert.ok(k.stacks.every((x) => x.kernel.length === 0 && x.kernel_error === undefined));
    await b.finish();

    const c = await sleeper(10, 5);
    const u = await profile(s, { pid: c.pid, duration_ms: 1500, user_stack: false });
    await c.go();
    const ur = await u.done();
    checkShape(ur);
    assert.ok(ur.stacks.every((x) => x.user.length === 0 && x.user_error === undefined));
    assert.ok(ur.stacks.some((x) => x.kernel.some((f) => parseFrame(f)?.name === 'do_nanosleep') && x.count === 10), JSON.stringify(ur.stacks));
    assert.equal(ur.procs_mapped, 0, 'no memory map read without user stacks');
    await c.finish();
  });
});

test('bad input: limit over list_items, negative min_block_us, a missing cgroup', TEST, async () => {
  await withServer(ARGS, async (s) => {
    const l = (await s.call('offcpu_profile', { limit: 1001 })).structuredContent.error;
    assert.equal(l.code, 'LIMIT_LIST_ITEMS');
    const m = (await s.call('offcpu_profile', { min_block_us: -1 })).structuredContent.error;
    assert.deepEqual([m.code, m.context.pointer], ['SCHEMA', '/min_block_us']);
    const c = (await s.call('offcpu_profile', { cgroup: '/sys/fs/cgroup/no-such-cgroup-xyz' })).structuredContent.error;
    assert.equal(c.code, 'NO_SUCH_CGROUP');
    assert.deepEqual((await s.request('ping', {})).result, {});
  });
});

test('nothing left behind: a finished run closes the ELF files it read; cancel drops the program and its link at once', TEST, async () => {
  await withServer(ARGS, async (s) => {
    const fds = readdirSync(`/proc/${s.proc.pid}/fd`).length;
    const w = await sleeper(5, 10);
    const p = await profile(s, { pid: w.pid, duration_ms: 1000 });
    await w.go();
    const r = await p.done();
    assert.ok(r.procs_mapped >= 1 && r.stacks.length >= 1);
    await w.finish();
    // the job is released (on a worker) after its reply is sent: poll up to 20 s
    const open = () => readdirSync(`/proc/${s.proc.pid}/fd`).length;
    for (let i = 0; i < 400 && open() !== fds; i++) await sleep(50);
    assert.equal(open(), fds, 'ELF files and ring buffers closed');

    const base = held(s.proc.pid);
    const id = 4343;
    let replied = false;
    s.request('tools/call', { name: 'offcpu_profile', arguments: { duration_ms: 20000 } }, { id, timeoutMs: 3000 })
      .then(() => { replied = true; }, () => {});
    assert.deepEqual((await s.request('ping', {})).result, {});
    const now = held(s.proc.pid);
    const progs = [...now.progs].filter((x) => !base.progs.has(x));
    const links = [...now.links].filter((x) => !base.links.has(x));
    assert.equal(progs.length, 1);
    const prog = JSON.parse(sh(`bpftool -j prog show id ${progs[0]}`));
    assert.equal(prog.name, 'offcpu_profile_switch');
    assert.equal(prog.type, 'tracing');
    assert.equal(links.length, 1);
    s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'test' } });
    assert.deepEqual((await s.request('ping', {})).result, {});
    // released on a worker (detaching a tracing link waits for the kernel): poll up to 20 s
    let after = held(s.proc.pid);
    for (let i = 0; i < 400 && (after.progs.size !== base.progs.size || after.links.size !== base.links.size); i++) {
      await sleep(50);
      after = held(s.proc.pid);
    }
    assert.deepEqual([after.progs, after.links], [base.progs, base.links]);
    // a tracing link puts its program after an RCU grace period: poll up to 20 s
    for (let i = 0; i < 400 && progExists(progs[0]); i++) await sleep(50);
    assert.equal(progExists(progs[0]), false, 'program unloaded');
    assert.ok(!linkExists(links[0]), 'link gone');
    await sleep(300);
    assert.equal(replied, false, 'a cancelled call gets no reply');
  });
});

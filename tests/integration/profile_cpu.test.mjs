// profile_cpu through MCP against this kernel. Known workloads
// (build/test/tools/workload, built with frame pointers; dd from coreutils)
// run under the profiler, and what it returns is checked against witnesses
// of its own: the workload's CPU time in /proc/<pid>/schedstat, symbol
// ranges from nm (static binary, and libc's dynamic symbols), program
// headers from readelf, /proc/kallsyms for kernel frames, the server's own
// descriptors in /proc/<pid>/fdinfo and bpftool for what the kernel holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD, withServer, sh, ensureMounts } from '../lib/mcp.mjs';
import { sleep, until } from '../lib/kern.mjs';
import { nmFuncs, execLoads, parseFrame, kallsyms, held, foldedOf } from '../lib/stacks.mjs';

const WORKLOAD = path.join(BUILD, 'test/tools/workload');
const ARGS = ['--profile', 'observe'];
const LINE_TIMEOUT_MS = 20000;

ensureMounts();

// ---- helpers ----------------------------------------------------------------

// Lines of a child's stdout, awaited one at a time.
function lines(stream) {
  const queue = [];
  let wake = null, ended = false, buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) queue.push(buf.slice(0, nl));
    wake?.();
  });
  stream.on('end', () => { ended = true; wake?.(); });
  return async (what) => {
    const deadline = Date.now() + LINE_TIMEOUT_MS;
    while (!queue.length) {
      if (ended || Date.now() > deadline) throw new Error(`${what}: no line`);
      await new Promise((res) => { wake = res; setTimeout(res, 100); });
    }
    return queue.shift();
  };
}

const exited = (c) => (c.exitCode !== null || c.signalCode !== null
  ? Promise.resolve() : new Promise((res) => c.once('exit', res)));

// workload -w MODE ARGS: waits for go() to work, then for finish() to exit,
// so it is alive (and its maps readable) when the profile ends.
async function workload(args) {
  const child = spawn(WORKLOAD, ['-w', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const next = lines(child.stdout);
  const ready = (await next(args[0])).split(' ');
  assert.equal(ready[0], 'ready');
  return {
    pid: Number(ready[1]),
    child,
    async go() { child.stdin.write('go\n'); assert.equal(await next(args[0]), 'done 0'); },
    async finish() { child.stdin.end(); await exited(child); },
    async kill() { child.kill('SIGKILL'); await exited(child); },
  };
}

function schedstat(pid) {
  const [run] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  return run;   // ns on CPU
}

function onlineCpus() {
  return readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')
    .reduce((n, r) => { const [a, b = a] = r.split('-').map(Number); return n + b - a + 1; }, 0);
}

// Starts profile_cpu; resolves once it is attached (the server handles
// requests in order, so a ping answered after the call means it is running).
async function profile(s, args) {
  const t0 = performance.now();
  const call = s.call('profile_cpu', args, { timeoutMs: 60000 });
  assert.deepEqual((await s.request('ping', {})).result, {});
  return {
    async done() {
      const r = await call;
      assert.equal(r.isError, false, JSON.stringify(r.structuredContent));
      const sc = r.structuredContent;
      sc.overhead_ms = performance.now() - t0 - sc.duration_ms;
      return sc;
    },
  };
}

// Invariants of every result: the counters add up, stacks and functions
// account for samples_counted, folded lines are the frames reversed and
// the count (flamegraph.pl's input).
function checkShape(r, { limit = 20 } = {}) {
  assert.equal(r.tracer, 'profile_cpu');
  assert.equal(r.samples, r.samples_counted + r.samples_idle + r.samples_filtered + r.keys_dropped);
  assert.equal(r.cpus, onlineCpus());
  if (r.rows > limit) assert.equal(r.truncated, true);
  assert.ok(r.stacks.length <= limit && r.functions.length <= limit);
  if (!r.truncated) {
    assert.equal(r.stacks.length, r.rows);
    assert.equal(r.stacks.reduce((n, x) => n + x.count, 0), r.samples_counted);
    assert.equal(r.functions.reduce((n, f) => n + f.count, 0), r.samples_counted);
  }
  for (let i = 1; i < r.stacks.length; i++) assert.ok(r.stacks[i - 1].count >= r.stacks[i].count);
  for (let i = 1; i < r.functions.length; i++) assert.ok(r.functions[i - 1].count >= r.functions[i].count);
  for (const f of r.functions) assert.ok(Math.abs(f.percent - (100 * f.count) / r.samples_counted) <= 0.005 + 1e-9, JSON.stringify(f));
  for (const x of r.stacks) assert.equal(x.folded, foldedOf(x, x.count));
}

// ---- tests --------------------------------------------------------------------

test('a spinning process: its CPU time in samples, all in workload_spin <- main, at offsets nm places inside them', async (t) => {
  const FREQ = 199;
  const w = await workload(['spin', '1500']);
  try {
    await withServer(ARGS, async (s) => {
      const p = await profile(s, { pid: w.pid, duration_ms: 2500, frequency_hz: FREQ, limit: 1000 });
      const before = schedstat(w.pid);
      await w.go();
      const after = schedstat(w.pid);
      const r = await p.done();
      checkShape(r, { limit: 1000 });
      assert.equal(r.stopped_by, 'duration');
      assert.ok(r.duration_ms >= 2500);
      assert.equal(r.frequency_hz, FREQ);
      assert.equal(r.truncated, false);
      const expected = ((after - before) / 1e9) * FREQ;   // the kernel's own CPU accounting
      assert.ok(Math.abs(r.samples_counted - expected) <= Math.max(5, expected * 0.2),
        `${r.samples_counted} samples, ${expected.toFixed(1)} expected`);
      assert.ok(r.stacks.every((x) => x.pid === w.pid && x.comm === 'workload'), 'pid filter');
      assert.equal(r.keys_dropped, 0);
      assert.equal(r.stacks_lost, 0);

      // witness: nm of the (static, non-PIE) binary
      const syms = nmFuncs(WORKLOAD);
      const spin = syms.get('workload_spin'), main = syms.get('main');
      let inSpin = 0;
      for (const x of r.stacks) {
        const [f0, f1] = x.user.map(parseFrame);
        if (f0?.name !== 'workload_spin') continue;
        assert.ok(f0.off < spin.size, `${x.user[0]} inside workload_spin (${spin.size} bytes)`);
        assert.equal(f1?.name, 'main', x.user.join(' <- '));
        assert.ok(f1.off > 0n && f1.off <= main.size, `${x.user[1]}: a return address inside main`);
        // an interrupt may land on the loop: its kernel frames follow the user ones
        assert.match(x.folded, /^workload;.*;main;workload_spin(;asm_\w+;.*)? \d+$/);
        inSpin += x.count;
      }
      assert.ok(inSpin >= 0.9 * r.samples_counted, `${inSpin} of ${r.samples_counted} in workload_spin <- main`);
      assert.equal(r.functions[0].function, 'workload_spin');
      assert.ok(r.functions[0].percent >= 90, JSON.stringify(r.functions));
      t.diagnostic(`${r.samples_counted} samples (${expected.toFixed(1)} from schedstat), ${r.functions[0].percent}% in workload_spin, ` +
        `${r.rows} stacks; end of run to reply ${r.overhead_ms.toFixed(0)} ms`);
    });
  } finally {
    await w.kill();
  }
});

test('kernel frames of a syscall loop are kallsyms symbols holding those offsets, under the syscall entry', async (t) => {
  const w = await workload(['sysloop', '800']);
  try {
    await withServer(ARGS, async (s) => {
      const p = await profile(s, { pid: w.pid, duration_ms: 1200, frequency_hz: 499, limit: 1000 });
      await w.go();
      const r = await p.done();
      checkShape(r, { limit: 1000 });
      const ks = kallsyms();
      // BPF programs others attached to the syscall path run inside these
      // syscalls: their frames are bpf_prog_* [bpf], or addresses with a
      // kernel_error once unloaded before the end; those stacks are set aside
      const foreign = (x) => x.kernel.some((f) => / \[bpf\]$/.test(f)) || /unloaded/.test(x.kernel_error ?? '');
      const inKernel = r.stacks.filter((x) => x.kernel.length && !foreign(x));
      assert.ok(inKernel.length > 0, 'samples in the kernel');
      let frames = 0, viaSyscall = 0, fromEntry = 0;
      for (const x of inKernel) {
        assert.equal(x.kernel_error, undefined);
        x.kernel.forEach((f) => {
          const p0 = parseFrame(f);
          assert.ok(p0, `symbolized: ${f}`);
          const cands = (ks.byName.get(p0.name) ?? []).filter((c) => c.mod === p0.mod);
          assert.ok(cands.some((c) => c.addr + p0.off < ks.next(c.addr)),
            `${f}: no ${p0.name} in /proc/kallsyms that long`);
          frames++;
        });
        // the outermost frame is the syscall entry (or a fault/interrupt);
        // the unwinder may stop early in some code (retpoline thunks)
        if (/^(entry_SYSCALL_64|asm_)/.test(x.kernel.at(-1))) fromEntry += x.count;
        // the user side of a syscall: musl's syscall(), inside its nm range
        const u = parseFrame(x.user[0]);
        if (u?.name === 'syscall') {
          assert.ok(u.off < nmFuncs(WORKLOAD).get('syscall').size);
          viaSyscall += x.count;
        }
      }
      const kernelSamples = inKernel.reduce((n, x) => n + x.count, 0);
      assert.ok(viaSyscall >= 0.8 * kernelSamples, `${viaSyscall} of ${kernelSamples} kernel samples under syscall()`);
      assert.ok(fromEntry >= 0.9 * kernelSamples, `${fromEntry} of ${kernelSamples} kernel samples unwound to the entry`);
      assert.ok(inKernel.some((x) => x.kernel.some((f) => /getppid/.test(f))), 'getppid in some stack');
      assert.ok(r.functions.some((f) => ks.byName.has(f.function)), 'kernel functions ranked');
      t.diagnostic(`${frames} kernel frames checked in ${inKernel.length} stacks; end of run to reply ${r.overhead_ms.toFixed(0)} ms`);
    });
  } finally {
    await w.kill();
  }
});

test('shared library and PIE frames: libc dynamic symbols by nm -D; file+offset is an address readelf puts in executable code', async () => {
  const dd = spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=200000000'], { stdio: 'ignore' });
  try {
    await withServer(ARGS, async (s) => {
      const fds = readdirSync(`/proc/${s.proc.pid}/fd`).length;
      const r = await (await profile(s, { pid: dd.pid, duration_ms: 800, frequency_hz: 499, limit: 1000 })).done();
      await s.request('ping', {});   // the job is released after its reply is sent
      // (a background thread destroys the run: soon after the reply, not before it)
      await until('the ELF files read closed again', () => readdirSync(`/proc/${s.proc.pid}/fd`).length === fds, 20000);
      checkShape(r, { limit: 1000 });
      // the mapped files, from the process's maps while it still runs
      const files = new Map(readFileSync(`/proc/${dd.pid}/maps`, 'utf8').split('\n')
        .map((l) => l.split(/\s+/)[5]).filter((f) => f?.startsWith('/')).map((f) => [path.basename(f), f]));
      const libc = files.get('libc.so.6');
      assert.ok(libc, 'dd maps libc.so.6');
      const dyn = nmFuncs(libc, true);
      const dynByAddr = [...dyn.values()];
      const loads = new Map();
      let named = 0, offsets = 0;
      for (const x of r.stacks) {
        if (!x.user.length) continue;   // its user stack was not stored (a hash collision)
        const f = parseFrame(x.user[0]);
        assert.ok(f, `innermost user frame symbolized or placed: ${JSON.stringify(x)}`);
        if (dyn.has(f.name)) {
          assert.ok(f.off < dyn.get(f.name).size, `${x.user[0]} inside ${f.name}`);
          named += x.count;
        } else if (files.has(f.name)) {   // no symbol: "file+0x<ELF virtual address>"
          const file = files.get(f.name);
          if (!loads.has(file)) loads.set(file, execLoads(file));
          assert.ok(loads.get(file).some((l) => f.off >= l.start && f.off < l.end), `${x.user[0]} in executable code of ${file}`);
          if (file === libc) assert.ok(!dynByAddr.some((d) => f.off >= d.start && f.off < d.start + d.size), `${x.user[0]} has a libc symbol`);
          offsets += x.count;
        }
      }
      assert.ok(named > 0, 'frames in libc functions (read/write)');
      assert.ok(r.functions.some((fn) => /^(__)?(read|write)$/.test(fn.function)), JSON.stringify(r.functions.slice(0, 8)));
      assert.ok(named + offsets >= 0.9 * r.stacks.filter((x) => x.user.length).reduce((n, x) => n + x.count, 0));
    });
  } finally {
    dd.kill('SIGKILL');
    await exited(dd);
  }
});

test('a process that exits mid-run keeps its symbols: workload_spin <- main, from the map read when it first ran', async (t) => {
  await withServer(ARGS, async (s) => {
    // the profile runs first: the process appears during it, burns ~1 s and exits
    const p = await profile(s, { comm: 'workload', duration_ms: 3000, frequency_hz: 199, limit: 1000 });
    const w = await workload(['spin', '1000']);
    const before = schedstat(w.pid);
    await w.go();
    const after = schedstat(w.pid);
    await w.finish();
    assert.ok(!existsSync(`/proc/${w.pid}`), 'the process is gone (and reaped) before the run ends');
    const r = await p.done();
    assert.equal(r.stopped_by, 'duration');
    checkShape(r, { limit: 1000 });
    assert.ok(r.procs_mapped >= 1 && r.procs_gone === 0 && r.notices_lost === 0, JSON.stringify(r));
    const mine = r.stacks.filter((x) => x.pid === w.pid);   // (other workload processes may run on this machine)
    const samples = mine.reduce((n, x) => n + x.count, 0);
    const expected = ((after - before) / 1e9) * 199;
    assert.ok(Math.abs(samples - expected) <= Math.max(5, expected * 0.2), `${samples} samples, ${expected.toFixed(1)} expected`);
    const spin = nmFuncs(WORKLOAD).get('workload_spin');
    let inSpin = 0;
    for (const x of mine) {
      assert.equal(x.user_error, undefined, JSON.stringify(x));
      const [f0, f1] = x.user.map(parseFrame);
      if (f0?.name !== 'workload_spin') continue;
      assert.ok(f0.off < spin.size, `${x.user[0]} inside workload_spin`);
      assert.equal(f1?.name, 'main', x.user.join(' <- '));
      inSpin += x.count;
    }
    assert.ok(inSpin >= 0.9 * samples, `${inSpin} of ${samples} samples in workload_spin <- main`);
    t.diagnostic(`${samples} samples of the exited process (${expected.toFixed(1)} from schedstat), ${inSpin} named workload_spin`);
  });
});

test('a process sampled before and after its exec: both images symbolized, though it exited before the end', async (t) => {
  // sh spins in its own code, then becomes the workload: one pid, two memory maps
  const sh0 = spawn('sh', ['-c', `read go; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec ${WORKLOAD} spin 600`],
    { stdio: ['pipe', 'ignore', 'inherit'] });
  try {
    await withServer(ARGS, async (s) => {
      const p = await profile(s, { pid: sh0.pid, duration_ms: 3000, frequency_hz: 199, limit: 1000 });
      sh0.stdin.end('go\n');
      await exited(sh0);
      assert.equal(sh0.exitCode, 0);
      const r = await p.done();
      checkShape(r, { limit: 1000 });
      assert.ok(r.procs_mapped >= 2, `announced before and after the exec: ${r.procs_mapped}`);
      const before = r.stacks.filter((x) => x.comm === 'sh' && x.user.length);
      const after = r.stacks.filter((x) => x.comm === 'workload' && x.user.length);
      const n = (xs) => xs.reduce((k, x) => k + x.count, 0);
      assert.ok(n(before) > 0 && n(after) > 0, `${n(before)} samples as sh, ${n(after)} as workload`);
      // dash is stripped: its own code shows as dash+0x<vaddr>, libc's by name
      for (const x of before) {
        assert.equal(x.user_error, undefined, JSON.stringify(x));
        assert.ok(parseFrame(x.user[0]), `sh's innermost frame placed in a file: ${x.user[0]}`);
      }
      assert.ok(before.some((x) => /^dash\+0x/.test(x.user[0])), before.map((x) => x.user[0]).join(' '));
      const named = after.filter((x) => parseFrame(x.user[0])?.name === 'workload_spin' && parseFrame(x.user[1])?.name === 'main');
      assert.ok(n(named) >= 0.9 * n(after), `${n(named)} of ${n(after)} workload samples in workload_spin <- main`);
      t.diagnostic(`${n(before)} samples before the exec, ${n(after)} after; ${r.procs_mapped} maps read`);
    });
  } finally {
    sh0.kill('SIGKILL');
    await exited(sh0);
  }
});

test('idle: left out and counted in samples_idle by default; with include_idle, pid 0 stacks in the kernel\'s idle loop', async (t) => {
  await withServer(ARGS, async (s) => {
    const off = await (await profile(s, { comm: 'swapper', duration_ms: 500, frequency_hz: 499 })).done();
    checkShape(off);
    assert.equal(off.samples_counted, 0);
    assert.equal(off.samples, off.samples_idle + off.samples_filtered);
    const on = await (await profile(s, { comm: 'swapper', include_idle: true, duration_ms: 500, frequency_hz: 499, limit: 1000 })).done();
    checkShape(on, { limit: 1000 });
    assert.equal(on.samples_idle, 0);
    const ks = kallsyms();
    for (const x of on.stacks) {
      assert.equal(x.pid, 0);
      assert.match(x.comm, /^swapper\/\d+$/);
      assert.deepEqual(x.user, []);
      assert.equal(x.user_error, undefined);
      assert.ok(x.kernel.length && x.kernel.every((f) => ks.byName.has(parseFrame(f)?.name)), x.kernel.join(' <- '));
    }
    // (on a machine kept busy by others no CPU may idle in the window)
    if (!on.samples_counted) t.skip(`no idle sample with include_idle (${off.samples_idle} without)`);
  });
});

test('filters: a comm nothing has counts nothing; a cgroup keeps only its own process; bad cgroups are named', async () => {
  await withServer(ARGS, async (s) => {
    const r = await (await profile(s, { comm: 'zz-no-such-task', duration_ms: 300 })).done();
    checkShape(r);
    assert.deepEqual([r.stacks, r.functions, r.rows, r.samples_counted], [[], [], 0, 0]);
    assert.equal(r.samples_filtered, r.samples - r.samples_idle);

    const root = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2')[1];
    const name = `ebpf-mcp-profile-${process.pid}`;
    const inside = await workload(['spin', '600']);
    const outside = await workload(['spin', '600']);
    mkdirSync(path.join(root, name));
    try {
      writeFileSync(path.join(root, name, 'cgroup.procs'), String(inside.pid));
      const p = await profile(s, { cgroup: name, duration_ms: 1200, frequency_hz: 199 });   // relative to the mount
      await Promise.all([inside.go(), outside.go()]);
      const c = await p.done();
      checkShape(c);
      assert.ok(c.samples_counted > 0);
      assert.deepEqual([...new Set(c.stacks.map((x) => x.pid))], [inside.pid]);
      assert.ok(c.samples_filtered > 0, 'the process outside was sampled and filtered');
    } finally {
      await inside.kill();
      await outside.kill();
      rmdirSync(path.join(root, name));
    }

    const e = (await s.call('profile_cpu', { cgroup: `${root}/no-such-cgroup-xyz` })).structuredContent.error;
    assert.deepEqual([e.code, e.category, e.context.pointer], ['NO_SUCH_CGROUP', 'validation', '/cgroup']);
    assert.match(e.message, /no-such-cgroup-xyz/);
    const f = (await s.call('profile_cpu', { cgroup: '/proc' })).structuredContent.error;
    assert.equal(f.code, 'NOT_A_CGROUP');
  });
});

test('bad input: frequency 0 or over the schema, over perf_event_max_sample_rate, limit over list_items', async () => {
  await withServer(ARGS, async (s) => {
    for (const hz of [0, 10001]) {
      const e = (await s.call('profile_cpu', { frequency_hz: hz })).structuredContent.error;
      assert.equal(e.code, 'SCHEMA');
      assert.equal(e.context.pointer, '/frequency_hz');
    }
    const l = (await s.call('profile_cpu', { limit: 1001 })).structuredContent.error;
    assert.equal(l.code, 'LIMIT_LIST_ITEMS');
    const knob = '/proc/sys/kernel/perf_event_max_sample_rate';
    const saved = readFileSync(knob, 'utf8').trim();
    try {
      writeFileSync(knob, '1000');
      const e = (await s.call('profile_cpu', { frequency_hz: 2000 })).structuredContent.error;
      assert.equal(e.code, 'FREQUENCY_TOO_HIGH');
      assert.equal(e.context.max, 1000);
      assert.match(e.message, /perf_event_max_sample_rate/);
    } finally {
      writeFileSync(knob, saved);
    }
  });
});

test('the call deadline ends a longer run early with what was counted: stopped_by deadline', async () => {
  const w = await workload(['spin', '400']);
  try {
    await withServer([...ARGS, '--limit', 'call_ms=900'], async (s) => {
      const p = await profile(s, { pid: w.pid, duration_ms: 5000 });
      await w.go();
      const r = await p.done();
      checkShape(r);
      assert.equal(r.stopped_by, 'deadline');
      assert.ok(r.duration_ms >= 800 && r.duration_ms < 2000, `${r.duration_ms} ms`);
      assert.equal(r.functions[0].function, 'workload_spin');
    });
  } finally {
    await w.kill();
  }
});

test('cancel: no reply, and the program, its links and perf events are gone from the kernel', async () => {
  await withServer(ARGS, async (s) => {
    const base = held(s.proc.pid);
    const id = 4242;
    let replied = false;
    s.request('tools/call', { name: 'profile_cpu', arguments: { duration_ms: 20000 } }, { id, timeoutMs: 3000 })
      .then(() => { replied = true; }, () => {});
    assert.deepEqual((await s.request('ping', {})).result, {});
    const now = held(s.proc.pid);
    const progs = [...now.progs].filter((p) => !base.progs.has(p));
    const links = [...now.links].filter((l) => !base.links.has(l));
    assert.equal(progs.length, 1);
    const prog = JSON.parse(sh(`bpftool -j prog show id ${progs[0]}`));
    assert.equal(prog.name, 'profile_cpu_sample');
    assert.equal(prog.type, 'perf_event');
    assert.equal(links.length, onlineCpus());
    assert.equal(now.perf - base.perf, onlineCpus());
    const kernelLinks = JSON.parse(sh('bpftool -j link show'));
    assert.ok(links.every((l) => kernelLinks.some((k) => k.id === l && k.prog_id === progs[0] && k.type === 'perf_event')));

    s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'test' } });
    assert.deepEqual((await s.request('ping', {})).result, {});
    // the job is released on a worker, unordered with the ping's reply: poll up to 20 s
    const same = (a) => [...a.progs].sort().join() === [...base.progs].sort().join()
      && [...a.links].sort().join() === [...base.links].sort().join() && a.perf === base.perf;
    const after = await until('the cancelled run\'s descriptors closed', () => { const h = held(s.proc.pid); return same(h) && h; }, 20000);
    assert.deepEqual([after.progs, after.links, after.perf], [base.progs, base.links, base.perf]);
    assert.ok(!JSON.parse(sh('bpftool -j prog show')).some((p) => p.id === progs[0]), 'program unloaded');
    assert.ok(!JSON.parse(sh('bpftool -j link show')).some((l) => links.includes(l.id)), 'links gone');
    await sleep(300);
    assert.equal(replied, false, 'a cancelled call gets no reply');
  });
});

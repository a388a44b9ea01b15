// The built-in tracers' BPF side on this kernel: each embedded skeleton is
// loaded and attached by build/test/tools/tracer_smoke while a known workload
// (build/test/tools/workload) runs, and what the kernel counted is compared
// with an independent witness: strace, the kernel headers, /proc/<pid>/cmdline
// and schedstat, the sockets' own getsockname, /proc/kallsyms, nm of the
// workload binary, /sys/block/<dev>/stat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILD, ensureMounts, sh } from '../lib/mcp.mjs';
import { Lines, exited, track, reap, startWorkload, runWorkload, schedstat, sleeping, straceWindow, tally, WORKLOAD } from '../lib/workload.mjs';

const SMOKE = path.join(BUILD, 'test/tools/tracer_smoke');
const ERRNO = os.constants.errno;
const NR = Object.fromEntries([...readFileSync(`/usr/include/${sh('gcc -print-multiarch').trim()}/asm/unistd_64.h`, 'utf8')
  .matchAll(/#define __NR_(\w+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));

ensureMounts();

// A tracer, loaded and attached once it says so; stop() returns its JSON.
async function startTracer(name, args = []) {
  const child = track(spawn(SMOKE, [...args, name], { stdio: ['pipe', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const lines = new Lines(child.stdout);
  const first = await lines.next(name).catch((e) => { throw new Error(`${e.message}: ${stderr}`); });
  assert.deepEqual(JSON.parse(first), { ready: true });
  return {
    async stop() {
      child.stdin.end();
      const out = JSON.parse(await lines.next(name));
      assert.deepEqual(await exited(child), { code: 0, signal: null }, stderr);
      assert.equal(out.tracer, name);
      return out;
    },
  };
}

test('trace_errors: failures per (pid, syscall, errno) equal strace\'s; the pid filter holds', async (t) => {
  const tmp = mkdtempSync('/tmp/t-trace-errors-');
  t.after(async () => { await reap(); rmSync(tmp, { recursive: true, force: true }); });
  const missing = `${tmp}/missing/file`;
  const w = await startWorkload(['fail', missing, '25'], ['strace', '-qq', '-o', `${tmp}/strace`]);
  const other = await startWorkload(['fail', missing, '5']);
  const tracer = await startTracer('trace_errors', ['--tgid', String(w.pid)]);
  await w.go();
  await other.go();
  const r = await tracer.stop();
  await w.finish();
  await other.finish();

  const witness = tally(straceWindow(`${tmp}/strace`).map((l) => l.match(/^(\w+)\(.*= -1 (E\w+)/)).filter(Boolean),
    (m) => `${NR[m[1]]}/${ERRNO[m[2]]}`);
  assert.deepEqual(witness, { [`${NR.open}/${ERRNO.ENOENT}`]: 25, [`${NR.close}/${ERRNO.EBADF}`]: 50 });
  assert.ok(r.counts.every((c) => c.tgid === w.pid), 'only the filtered process');
  const counts = Object.fromEntries(r.counts.map((c) => [`${c.nr}/${c.errno}`, c.count]));
  assert.deepEqual(counts, witness);
  for (const c of r.counts) {
    assert.equal(c.comm, 'workload');
    assert.ok(c.first_ns <= c.last_ns);
  }
  // one sample per failure, in order, with the thread and the same keys
  assert.equal(r.events_dropped, 0);
  assert.equal(r.events.length, 75);
  assert.deepEqual(tally(r.events, (s) => `${s.nr}/${s.errno}`), witness);
  assert.ok(r.events.every((s) => s.tgid === w.pid && s.tid === w.pid && s.comm === 'workload'));
  assert.ok(r.events.every((s, i) => i === 0 || s.ts_ns >= r.events[i - 1].ts_ns));
  assert.equal(r.keys_dropped, 0);
});

// strace's flag names as numbers, from the kernel's UAPI header.
const O_FLAGS = Object.fromEntries([...readFileSync('/usr/include/asm-generic/fcntl.h', 'utf8')
  .matchAll(/#define (O_\w+)\s+(0[0-7]*)\b/g)].map((m) => [m[1], parseInt(m[2], 8)]));
const flagsOf = (s) => s.split('|').reduce((acc, f) => {
  assert.ok(f in O_FLAGS, `flag ${f}`);
  return acc | O_FLAGS[f];
}, 0);

test('trace_open: open, openat and openat2 with path, flags and result as strace saw them', async (t) => {
  const tmp = mkdtempSync('/tmp/t-trace-open-');
  t.after(async () => { await reap(); rmSync(tmp, { recursive: true, force: true }); });
  const exists = `${tmp}/exists`;
  writeFileSync(exists, 'x');
  const missing = `${tmp}/missing`;
  const long = `${tmp}/${'d'.repeat(300)}`;   // longer than the 256-byte path slot
  const runs = [['open', missing, '3'], ['openat', exists, '2'], ['openat2', exists, '1'], ['open', long, '1']];

  const tracer = await startTracer('trace_open', ['--comm', 'workload']);
  const failed = await startTracer('trace_open', ['--comm', 'workload', '--failed-only']);
  const ws = [];
  for (const [i, args] of runs.entries()) {
    const w = await startWorkload(args, ['strace', '-qq', '-e', 'trace=open,openat,openat2,read,writev', '-o', `${tmp}/s${i}`]);
    await w.go();
    await w.finish();
    ws.push(w);
  }
  const r = await tracer.stop();
  const rf = await failed.stop();
  assert.equal(r.events_dropped, 0);

  for (const [i, w] of ws.entries()) {
    const seen = straceWindow(`${tmp}/s${i}`).filter((l) => l.startsWith('open')).map((l) => {
      const m = l.match(/^(open|openat|openat2)\((?:AT_FDCWD, )?"([^"]*)"(?:\.\.\.)?, (?:\{flags=)?([A-Z_|]+).*\) = (-?\d+)(?: (E\w+))?/);
      assert.ok(m, l);
      return { syscall: m[1], path: m[2], flags: flagsOf(m[3]), ret: m[5] ? -ERRNO[m[5]] : Number(m[4]) };
    });
    const ours = r.events.filter((e) => e.tgid === w.pid);
    assert.equal(ours.length, Number(runs[i][2]), `run ${i}`);
    assert.equal(seen.length, ours.length);
    for (const [j, e] of ours.entries()) {
      const s = seen[j];
      assert.equal(e.syscall, s.syscall);
      assert.equal(e.ret, s.ret);
      assert.equal(e.flags, s.flags);
      assert.equal(e.dfd, -100);   // AT_FDCWD, also for open(2)
      assert.equal(e.tid, w.pid);
      assert.equal(e.comm, 'workload');
      if (runs[i][1] === long) {
        assert.equal(e.path_truncated, true);
        assert.equal(e.path, long.slice(0, 255));
        assert.ok(long.startsWith(s.path));   // strace cuts it too
      } else {
        assert.equal(e.path_truncated, false);
        assert.equal(e.path, s.path);
        assert.equal(e.path, runs[i][1]);
      }
    }
  }
  // --failed-only: exactly the failures, the same records
  const fails = r.events.filter((e) => e.ret < 0);
  assert.deepEqual(fails.map((e) => -e.ret), [ERRNO.ENOENT, ERRNO.ENOENT, ERRNO.ENOENT, ERRNO.ENAMETOOLONG]);
  assert.deepEqual(rf.events.map((e) => [e.tgid, e.path, e.ret]), fails.map((e) => [e.tgid, e.path, e.ret]));
});

test('trace_exec: argv, parent, uid and exit code of known executions', async (t) => {
  t.after(reap);
  const tracer = await startTracer('trace_exec', ['--ppid', String(process.pid)]);
  const plain = runWorkload(['exit', '7', 'alpha', 'two words', '']);
  // a process killed by a signal; its argv also read back from /proc
  const spin = track(spawn(WORKLOAD, ['spin', '20000'], { stdio: 'ignore' }));
  await new Promise((res) => setTimeout(res, 200));
  const cmdline = readFileSync(`/proc/${spin.pid}/cmdline`, 'latin1').split('\0').slice(0, -1);
  spin.kill('SIGKILL');
  const spinEnd = await exited(spin);
  const longArg = 'a'.repeat(3000);
  const cut = runWorkload(['exit', '0', longArg]);
  const missing = spawnSync('/nonexistent/binary', [], {});   // exec fails: no record
  const r = await tracer.stop();

  assert.equal(plain.status, 7);
  assert.equal(spinEnd.signal, 'SIGKILL');
  assert.equal(cut.status, 0);
  assert.equal(missing.error.code, 'ENOENT');
  assert.equal(r.events_dropped, 0);
  assert.equal(r.events.length, 6, JSON.stringify(r.events.map((e) => [e.kind, e.pid])));
  const byPid = (pid, kind) => r.events.find((e) => e.pid === pid && e.kind === kind);

  const common = { ppid: process.pid, uid: process.getuid(), comm: 'workload', filename: WORKLOAD };
  const e1 = byPid(plain.pid, 'exec');
  assert.deepEqual({ ...e1, ts_ns: 0 }, {
    kind: 'exec', pid: plain.pid, ts_ns: 0, ...common, argc: 6, args_bytes: Buffer.byteLength(
      [WORKLOAD, 'exit', '7', 'alpha', 'two words', ''].join('\0') + '\0'), args_truncated: false,
    args_unreadable: false, args: [WORKLOAD, 'exit', '7', 'alpha', 'two words', ''],
  });
  const x1 = byPid(plain.pid, 'exit');
  assert.equal(x1.exit_code, 7 << 8);   // a wait status
  assert.equal(x1.ppid, process.pid);
  assert.ok(x1.ts_ns >= e1.ts_ns && x1.runtime_ns === x1.ts_ns - e1.ts_ns);

  assert.deepEqual(byPid(spin.pid, 'exec').args, cmdline);
  assert.equal(byPid(spin.pid, 'exit').exit_code, os.constants.signals.SIGKILL);
  assert.ok(byPid(spin.pid, 'exit').runtime_ns >= 150e6);

  const e3 = byPid(cut.pid, 'exec');
  assert.equal(e3.argc, 4);            // the kernel's count, though the bytes were cut
  assert.equal(e3.args_truncated, true);
  assert.equal(e3.args_bytes, 1024);
  const full = [WORKLOAD, 'exit', '0', longArg].join('\0');
  assert.deepEqual(e3.args, full.slice(0, 1024).split('\0'));
  assert.equal(byPid(cut.pid, 'exit').exit_code, 0);
});

// A node process running `code`; it prints one JSON line when ready.
async function nodeChild(code) {
  const child = track(spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = new Lines(child.stdout);
  return { child, pid: child.pid, lines, info: JSON.parse(await lines.next('node child')) };
}

const SERVER = `
const net = require('net');
let accepted = 0, ports = {};
const servers = ['127.0.0.1', '::1'].map((host) => net.createServer((c) => {
  c.end(); if (++accepted === 2) servers.forEach((s) => s.close());
}).listen(0, host, () => {
  ports[host] = servers.find((s) => s.address().address === host).address().port;
  if (Object.keys(ports).length === 2) console.log(JSON.stringify(ports));
}));`;

const CLIENT = `
const net = require('net');
const ports = JSON.parse(process.argv[1]);
console.log('{}');
process.stdin.once('data', async () => {
  const local = {};
  for (const host of ['127.0.0.1', '::1']) {
    await new Promise((res) => { const c = net.connect(ports[host], host, () => { local[host] = c.localPort; });
      c.on('close', res); c.resume(); });
  }
  console.log(JSON.stringify(local));
});`;

test('trace_tcp: loopback connect and accept, IPv4 and IPv6, ports and processes from both ends', async (t) => {
  t.after(reap);
  const all = await startTracer('trace_tcp');
  const server = await nodeChild(SERVER);
  const ports = server.info;
  const client = track(spawn(process.execPath, ['-e', CLIENT, JSON.stringify(ports)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const clientLines = new Lines(client.stdout);
  await clientLines.next('client');
  const onlyClient = await startTracer('trace_tcp', ['--tgid', String(client.pid)]);
  client.stdin.write('go\n');
  const local = JSON.parse(await clientLines.next('client'));   // getsockname() of each connection
  client.stdin.end();
  await exited(client);
  await exited(server.child);
  const r = await all.stop();
  const rc = await onlyClient.stop();
  assert.equal(r.events_dropped, 0);

  for (const [host, family] of [['127.0.0.1', 2], ['::1', 10]]) {
    const sp = ports[host], cp = local[host];
    const connect = r.events.filter((e) => e.kind === 'connect' && e.sport === cp && e.dport === sp);
    const accept = r.events.filter((e) => e.kind === 'accept' && e.sport === sp && e.dport === cp);
    assert.equal(connect.length, 1, `${host} connect`);
    assert.equal(accept.length, 1, `${host} accept`);
    assert.deepEqual([connect[0].pid, connect[0].family, connect[0].saddr, connect[0].daddr, connect[0].oldstate, connect[0].newstate],
      [client.pid, family, host, host, 2, 1]);
    assert.deepEqual([accept[0].pid, accept[0].family, accept[0].saddr, accept[0].daddr, accept[0].oldstate, accept[0].newstate],
      [server.pid, family, host, host, 3, 1]);
    assert.equal(accept[0].comm, 'node');
    // the client socket's life: CLOSE -> SYN_SENT (in connect) -> ESTABLISHED ... -> CLOSE
    const life = r.events.filter((e) => e.skaddr === connect[0].skaddr).map((e) => [e.oldstate, e.newstate]);
    assert.deepEqual(life[0], [7, 2]);
    assert.deepEqual(life[1], [2, 1]);
    assert.equal(life.at(-1)[1], 7);
    // the listener: seen going to LISTEN on that port in the server process
    assert.ok(r.events.some((e) => e.oldstate === 7 && e.newstate === 10 && e.sport === sp && e.pid === server.pid));
    // the --tgid run has this connect and nothing of other processes
    assert.equal(rc.events.filter((e) => e.kind === 'connect' && e.sport === cp && e.dport === sp).length, 1);
  }
  assert.ok(rc.events.length >= 4 && rc.events.every((e) => e.pid === client.pid), JSON.stringify(rc.events));
});

test('syscall_stats: exact getppid counts per process, consistent latencies, histogram', async (t) => {
  t.after(reap);
  const a = await startWorkload(['getppid', '5000']);
  const b = await startWorkload(['getppid', '300']);
  const tracer = await startTracer('syscall_stats', ['--comm', 'workload']);
  const t0 = process.hrtime.bigint();
  await a.go();
  await b.go();
  const wallNs = Number(process.hrtime.bigint() - t0);
  const r = await tracer.stop();
  await a.finish();
  await b.finish();

  assert.equal(r.keys_dropped, 0);
  const get = (pid) => r.stats.find((s) => s.tgid === pid && s.nr === NR.getppid);
  for (const [w, n] of [[a, 5000], [b, 300]]) {
    const s = get(w.pid);
    assert.ok(s, `stats for ${w.pid}`);
    assert.equal(s.count, n);
    assert.equal(s.errors, 0);
    assert.equal(s.comm, 'workload');
    assert.ok(s.min_ns > 0 && s.min_ns <= s.sum_ns / n && s.sum_ns / n <= s.max_ns);
    assert.ok(s.sum_ns < wallNs, `${s.sum_ns} < ${wallNs}`);
  }
  // the pipe protocol's write("done") was counted too: one per process
  for (const w of [a, b]) assert.equal(r.stats.find((s) => s.tgid === w.pid && s.nr === NR.writev)?.count, 1);
  const h = r.hists.find((x) => x.nr === NR.getppid);
  assert.equal(h.count, 5300);
  assert.equal(h.slots.reduce((x, y) => x + y, 0), 5300);
});

// Symbols of an ELF file (nm), sorted by address, with sizes.
function nmSymbols(file) {
  return sh(`nm -S --defined-only ${file}`).split('\n').map((l) => l.split(' '))
    .filter((f) => f.length === 4 && /[tT]/.test(f[2]))
    .map(([a, s, , name]) => ({ start: BigInt(`0x${a}`), end: BigInt(`0x${a}`) + BigInt(`0x${s}`), name }));
}

// /proc/kallsyms as a sorted table: the nearest symbol at or below an address.
function kallsyms() {
  const syms = readFileSync('/proc/kallsyms', 'utf8').split('\n').map((l) => l.split(' '))
    .filter((f) => f.length >= 3 && /[tT]/.test(f[1])).map(([a, , name]) => ({ addr: BigInt(`0x${a}`), name }))
    .sort((x, y) => (x.addr < y.addr ? -1 : x.addr > y.addr ? 1 : 0));
  assert.ok(syms.length > 1000 && syms[0].addr > 0n, 'kallsyms readable with addresses');
  return (addr) => {
    let lo = 0, hi = syms.length - 1;
    if (addr < syms[0].addr) return null;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (syms[mid].addr <= addr) lo = mid; else hi = mid - 1;
    }
    return syms[lo].name;
  };
}

test('profile_cpu: a spinning process gets its CPU time\'s worth of samples in workload_spin; kernel stacks symbolize', async (t) => {
  t.after(reap);
  const FREQ = 199;
  const spin = await startWorkload(['spin', '1500']);
  const sys = await startWorkload(['sysloop', '1000']);
  const tracer = await startTracer('profile_cpu', ['--freq', String(FREQ)]);
  const before = schedstat(spin.pid);
  await Promise.all([spin.go(), sys.go()]);
  const after = schedstat(spin.pid);
  const r = await tracer.stop();
  await spin.finish();
  await sys.finish();

  const mine = r.counts.filter((c) => c.tgid === spin.pid);
  const samples = mine.reduce((n, c) => n + c.count, 0);
  const expected = ((after.run - before.run) / 1e9) * FREQ;   // CPU time, from the kernel's own accounting
  assert.ok(Math.abs(samples - expected) <= Math.max(5, expected * 0.2), `${samples} samples, ${expected.toFixed(1)} expected`);
  // (no check that it has the most samples: on a machine whose CPUs are
  // shared with other busy processes that is the scheduler's choice; the
  // kernel's own CPU accounting of this pid, above, is the witness)
  assert.equal(r.keys_dropped, 0);
  assert.equal(r.stacks_full, 0);

  // user stacks: innermost frame in workload_spin, its caller in main (frame pointers)
  const syms = nmSymbols(WORKLOAD);
  const symOf = (hex) => hex === undefined ? undefined : syms.find((s) => BigInt(hex) >= s.start && BigInt(hex) < s.end)?.name;   // (a one-frame stack has no caller)
  // (a stack whose hash bucket already holds another is not stored: the
  // sample keeps -EEXIST and stack_collisions counts it)
  let inSpin = 0;
  for (const c of mine) {
    assert.ok(c.ustack_id >= 0 || c.ustack_id === -ERRNO.EEXIST, `user stack id ${c.ustack_id}`);
    const frames = r.stacks[c.ustack_id] ?? [];
    if (symOf(frames[0]) === 'workload_spin' && symOf(frames[1]) === 'main') inSpin += c.count;
  }
  assert.ok(inSpin >= samples * 0.9, `${inSpin} of ${samples} in workload_spin <- main`);

  // kernel stacks of the syscall loop: every frame is a kernel text symbol
  const ksym = kallsyms();
  const kstacks = r.counts.filter((c) => c.tgid === sys.pid && c.kstack_id >= 0).map((c) => r.stacks[c.kstack_id]);
  assert.ok(kstacks.length > 0, 'kernel stacks sampled');
  const names = kstacks.map((frames) => frames.map((a) => ksym(BigInt(a))));
  assert.ok(names.every((fs) => fs.length > 0 && fs.every((n) => n)), JSON.stringify(names));
  assert.ok(names.some((fs) => fs.some((n) => /getppid|do_syscall_64|entry_SYSCALL_64/.test(n))), JSON.stringify(names));
  assert.ok(r.samples >= r.samples_idle + samples);
});

test('offcpu_profile: a sleeping process\'s blocks are its voluntary switches, its time its own clock\'s, in nanosleep', async (t) => {
  t.after(reap);
  const N = 15, MS = 40;
  const w = await startWorkload(['sleep', String(N), String(MS)]);
  await sleeping(w.pid);   // in read(0) already: that block began before the tracer
  const tracer = await startTracer('offcpu_profile', ['--tgid', String(w.pid)]);
  const vcsw = () => Number(/^nr_voluntary_switches\s*:\s*(\d+)$/m.exec(readFileSync(`/proc/${w.pid}/sched`, 'utf8'))[1]);
  const before = vcsw();
  const [slept] = await w.go();
  await sleeping(w.pid);   // back in read(0): a block still going on when the tracer stops
  const after = vcsw();
  const r = await tracer.stop();
  await w.finish();

  const sleptNs = Number(slept.split(' ')[1]) * 1000;
  assert.ok(r.sums.every((x) => x.tgid === w.pid && x.tid === w.pid && x.comm === 'workload'), 'the tgid filter');
  // every voluntary switch of the window is a block: N ended, one goes on
  assert.equal(r.blocks, N);
  assert.equal(after - before, r.blocked);
  assert.equal(r.blocked, r.blocks + 1);
  assert.deepEqual([r.keys_dropped, r.starts_dropped, r.stack_collisions, r.stacks_full], [0, 0, 0, 0]);
  assert.equal(r.sums.length, 1);
  const x = r.sums[0];
  assert.equal(x.count, N);
  assert.equal(x.states, 1, 'TASK_INTERRUPTIBLE (S)');
  assert.ok(Math.abs(x.total_ns - sleptNs) <= 0.1 * sleptNs, `${x.total_ns} ns blocked, ${sleptNs} ns by its own clock`);
  assert.ok(x.max_ns >= MS * 1e6 && x.max_ns <= x.total_ns);
  // its user stack: workload_sleep <- main (nm); its kernel stack: nanosleep, under the scheduler
  const syms = nmSymbols(WORKLOAD);
  const symOf = (hex) => hex === undefined ? undefined : syms.find((s) => BigInt(hex) >= s.start && BigInt(hex) < s.end)?.name;   // (a one-frame stack has no caller)
  const user = r.stacks[x.ustack_id].map((a, i) => symOf(`0x${(BigInt(a) - (i ? 1n : 0n)).toString(16)}`));
  assert.deepEqual(user.slice(0, 2), ['workload_sleep', 'main'], r.stacks[x.ustack_id].join(' '));
  const ksym = kallsyms();
  const kernel = r.stacks[x.kstack_id].map((a) => ksym(BigInt(a)));
  for (const want of ['__schedule', 'do_nanosleep', 'hrtimer_nanosleep']) assert.ok(kernel.includes(want), kernel.join(' <- '));
  t.diagnostic(`${x.count} blocks, ${x.total_ns} ns (its clock ${sleptNs} ns); ${after - before} voluntary switches`);
});

test('runq_latency: waits of a ping-pong process match its schedstat switch-ins and run-queue time', async (t) => {
  t.after(reap);
  const w = await startWorkload(['pingpong', '3000']);
  const tracer = await startTracer('runq_latency', ['--tgid', String(w.pid), '--per-process']);
  // both readings while it sleeps on stdin, so no switch-in falls between
  // a reading and the tracer's window
  await sleeping(w.pid);
  const before = schedstat(w.pid);
  const t0 = process.hrtime.bigint();
  await w.go();
  const wallNs = Number(process.hrtime.bigint() - t0);
  await sleeping(w.pid);
  const r = await tracer.stop();
  const after = schedstat(w.pid);
  await w.finish();

  assert.equal(r.hists.length, 1);
  const h = r.hists[0];
  assert.equal(h.key, w.pid);
  assert.equal(h.comm, 'workload');
  assert.equal(h.slots.reduce((x, y) => x + y, 0), h.count);
  const slices = after.slices - before.slices, waitNs = after.wait - before.wait;
  // every switch-in ends one wait (after a wakeup or a preemption): the
  // kernel's count of times this task was switched in is the witness. They
  // agree exactly on a quiet machine; under load schedstat now and then
  // counts a switch-in or two more than sched_switch delivers.
  assert.ok(Math.abs(h.count - slices) <= Math.max(3, slices * 0.01), `${h.count} waits, schedstat ${slices} switch-ins`);
  assert.ok(h.count >= 2900, 'most round trips sleep and wake');
  // schedstat's run_delay is a lower bound: it reads the run queue clock,
  // whose update the scheduler skips right after a wakeup preempts (RQCF_ACT_SKIP);
  // the waits of one thread cannot add up to more than the time it was watched
  assert.ok(h.sum_ns >= waitNs * 0.8 && h.sum_ns <= wallNs, `${h.sum_ns} ns waited, schedstat ${waitNs} ns, wall ${wallNs} ns`);
  assert.ok(h.max_ns <= h.sum_ns && h.max_ns >= h.sum_ns / h.count);
  assert.equal(r.hists_dropped, 0);
});

test('block_io_latency: O_DIRECT reads and writes on a loop device, counted as /sys/block/<dev>/stat counts them', async (t) => {
  const tmp = mkdtempSync('/tmp/t-block-io-');
  let dev = null;
  t.after(async () => {
    await reap();
    if (dev) sh(`losetup -d ${dev}`);
    rmSync(tmp, { recursive: true, force: true });
  });
  writeFileSync(`${tmp}/backing`, Buffer.alloc(4 << 20));
  dev = sh(`losetup -f --show ${tmp}/backing`).trim();
  const name = path.basename(dev);
  const majmin = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim();
  const stat = () => readFileSync(`/sys/block/${name}/stat`, 'utf8').trim().split(/\s+/).map(Number);

  const tracer = await startTracer('block_io_latency', ['--dev', majmin, '--per-disk']);
  const before = stat();
  const io = runWorkload(['dio', dev, '32', '16']);
  const after = stat();
  const r = await tracer.stop();
  assert.equal(io.status, 0);

  const d = (i) => after[i] - before[i];
  assert.deepEqual([d(0), d(4)], [32, 16], 'the device saw 32 reads and 16 writes');
  const op = (n) => r.hists.find((h) => h.op === n) ?? { count: 0, bytes: 0 };
  assert.ok(r.hists.every((h) => h.dev === majmin));
  assert.deepEqual([op(0).count, op(1).count], [d(0), d(4)]);
  assert.deepEqual([op(0).bytes, op(1).bytes], [d(2) * 512, d(6) * 512]);
  assert.equal(op(2).count, after.length > 15 ? d(15) : op(2).count);   // flushes, where counted
  for (const h of r.hists) {
    assert.equal(h.slots.reduce((x, y) => x + y, 0), h.count);
    assert.ok(h.max_ns > 0 && h.max_ns <= h.sum_ns);
  }
  assert.equal(r.unmatched, 0);
});

// The cgroup v2 hierarchy, wherever it is mounted (unified or hybrid).
function cgroup2Root() {
  const line = readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  return line?.split(' ')[1];
}

test('filters: cgroup id (the cgroup directory\'s inode) and comm prefix, set in .rodata before load', async (t) => {
  const root = cgroup2Root();
  if (!root) { t.skip('no cgroup2 mount'); return; }
  const cg = `${root}/t-tracers-${process.pid}`;
  const tmp = mkdtempSync('/tmp/t-filters-');
  t.after(async () => {
    await reap();
    try { execSync(`rmdir ${cg}`); } catch { /* not created */ }
    rmSync(tmp, { recursive: true, force: true });
  });
  mkdirSync(cg);
  const inside = await startWorkload(['fail', `${tmp}/missing`, '4']);
  const outside = await startWorkload(['fail', `${tmp}/missing`, '6']);
  writeFileSync(`${cg}/cgroup.procs`, String(inside.pid));
  const id = statSync(cg).ino;
  const byCgroup = await startTracer('trace_errors', ['--cgroup-id', String(id)]);
  const byPrefix = await startTracer('trace_errors', ['--comm', 'workl']);
  const byOther = await startTracer('trace_errors', ['--comm', 'workx']);
  await inside.go();
  await outside.go();
  const [rc, rp, ro] = [await byCgroup.stop(), await byPrefix.stop(), await byOther.stop()];
  await inside.finish();
  await outside.finish();

  const opens = (r, pid) => r.counts.find((c) => c.tgid === pid && c.nr === NR.open && c.errno === ERRNO.ENOENT)?.count ?? 0;
  assert.ok(rc.counts.every((c) => c.tgid === inside.pid), JSON.stringify(rc.counts));
  assert.deepEqual([opens(rc, inside.pid), opens(rc, outside.pid)], [4, 0]);
  assert.deepEqual([opens(rp, inside.pid), opens(rp, outside.pid)], [4, 6]);
  assert.ok(rp.counts.every((c) => c.comm.startsWith('workl')));
  assert.ok(ro.counts.every((c) => c.comm.startsWith('workx')));
  assert.deepEqual([opens(ro, inside.pid), opens(ro, outside.pid)], [0, 0]);
});

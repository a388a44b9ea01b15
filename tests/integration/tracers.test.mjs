// The built-in tracers as MCP tools: every call goes through tools/call on
// a server run with --validate-output, while known workloads run, and what
// the tool reports is compared with an independent witness: strace, the
// kernel headers, /proc/<pid>/cmdline and schedstat, the sockets' own
// getsockname/getpeername, /sys/block/<dev>/stat, the processes' own view of
// their fds, errnos and exit statuses. The BPF objects a run holds are read
// from the server's /proc/<pid>/fdinfo and checked with bpftool while it
// runs and after it ends, is cancelled, or loses its client.
//
// A call's tracer is attached once the call has deferred; its first
// notifications/progress (about 100 ms later) is the "attached" signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync,
  statSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Server, withServer, BUILD, ensureMounts, sh } from '../lib/mcp.mjs';
import { exited, track, reap, startWorkload, schedstat, sleeping, straceWindow, tally, WORKLOAD, LINE_TIMEOUT_MS } from '../lib/workload.mjs';
import { BPFTOOL, bpftool, cgroup2Mount, fails, sleep } from '../lib/kern.mjs';
import { assertReleased, assertRunning, held, minus } from '../lib/held.mjs';

const ALL = { all: true };   // assertReleased: a run's end leaves the server holding no BPF object at all

ensureMounts();

const PYTHON = '/usr/bin/python3';   // glibc: open() is the openat syscall
const ERRNO = os.constants.errno;
const NR = Object.fromEntries([...readFileSync(`/usr/include/${sh('gcc -print-multiarch').trim()}/asm/unistd_64.h`, 'utf8')
  .matchAll(/#define __NR_(\w+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
const TEST = { timeout: 60000 };   // a hang fails the test, not the run
const TRACERS = ['trace_errors', 'trace_exec', 'trace_open', 'trace_tcp', 'syscall_stats', 'runq_latency', 'block_io_latency',
  'skb_drops', 'oom_kills', 'offcpu_profile', 'tcp_retransmits'];

// ---- the BPF objects a server holds, and that they go away ----------------

// (held, minus, programsOf, assertRunning and assertReleased: tests/lib/held.mjs)

// ---- tracer calls -----------------------------------------------------------

let tokens = 0;

// Sends a tracer call and resolves once it is attached (its first progress)
// with what it holds; `result` is its structuredContent (rejects on failure).
async function start(s, name, args, { id, timeoutMs = LINE_TIMEOUT_MS } = {}) {
  const token = `${name}-${++tokens}`;
  const base = held(s.proc.pid);
  let replied = false;
  const reply = s.request('tools/call', { name, arguments: args, _meta: { progressToken: token } }, { id, timeoutMs });
  reply.then(() => { replied = true; }, () => {});
  const deadline = Date.now() + LINE_TIMEOUT_MS;
  while (!replied && !s.notifications.some((n) => n.params?.progressToken === token)) {
    if (Date.now() > deadline) throw new Error(`${name}: no progress`);
    await sleep(5);
  }
  if (replied) {
    const r = await reply;
    throw new Error(`${name} ended before it ran: ${JSON.stringify(r.result?.structuredContent ?? r.error)}`);
  }
  const result = reply.then((r) => {
    if (r.error) throw new Error(`${name}: JSON-RPC error ${r.error.message}`);
    if (r.result.isError) throw new Error(`${name} failed: ${JSON.stringify(r.result.structuredContent)}`);
    return r.result.structuredContent;
  });
  result.catch(() => {});   // awaited by the test
  return { ids: minus(held(s.proc.pid), base), result, token, reply };
}

// Several calls at once on one server, all attached; the union of what they hold.
async function startAll(s, calls, opts) {
  const runs = [];
  for (const [name, args] of calls) runs.push(await start(s, name, args, opts));
  const ids = runs.reduce((acc, r) => ({
    progs: [...acc.progs, ...r.ids.progs], links: [...acc.links, ...r.ids.links], maps: [...acc.maps, ...r.ids.maps],
  }), { progs: [], links: [], maps: [] });
  return { runs, ids };
}

// The server's tools/list names.
async function toolNames(s) {
  return (await s.request('tools/list', {})).result.tools.map((t) => t.name);
}

// Runs fn(s) on a server that offers `tool`; skips while the tool is not built yet.
async function withTracer(t, tool, fn, args = []) {
  await withServer(args, async (s) => {
    if (!(await toolNames(s)).includes(tool)) { t.skip(`${tool} is not in this build`); return; }
    await fn(s);
  });
}

// Common members of a finished run.
function assertRan(r, tracer, durationMs) {
  assert.equal(r.tracer, tracer);
  assert.equal(r.stopped_by, 'duration');
  assert.ok(r.duration_ms >= durationMs - 5 && r.duration_ms < durationMs + 1000, `ran ${r.duration_ms} ms`);
  if (r.dropped) assert.deepEqual({ kernel: r.dropped.kernel, too_big: r.dropped.too_big }, { kernel: 0, too_big: 0 });
}

// A log2 histogram as the schemas define it.
function assertHist(h, what) {
  assert.equal(h.buckets.reduce((n, b) => n + b.count, 0), h.count, `${what}: buckets sum to count`);
  for (const b of h.buckets) {
    assert.ok(b.count > 0, `${what}: only non-empty buckets`);
    assert.equal(b.to_ns, b.from_ns === 0 ? 2 : b.from_ns * 2, `${what}: log2 bucket`);
  }
  assert.ok(h.buckets.every((b, i) => i === 0 || b.from_ns > h.buckets[i - 1].from_ns), `${what}: buckets in order`);
  assert.ok(h.p50_ns <= h.p90_ns && h.p90_ns <= h.p99_ns && h.p99_ns <= h.max_ns, `${what}: p50 ${h.p50_ns} p90 ${h.p90_ns} p99 ${h.p99_ns} max ${h.max_ns}`);
  assert.ok(h.avg_ns <= h.max_ns, `${what}: avg <= max`);
  // the max lies in the last bucket; p50 is the upper edge of the median's bucket (capped at max)
  const last = h.buckets.at(-1);
  assert.ok(h.max_ns >= last.from_ns && h.max_ns < last.to_ns, `${what}: max ${h.max_ns} in the last bucket`);
  let seen = 0;
  const median = h.buckets.find((b) => (seen += b.count) >= Math.ceil(h.count / 2));
  assert.equal(h.p50_ns, Math.min(median.to_ns, h.max_ns), `${what}: p50 from the buckets`);
}

// ---- workloads --------------------------------------------------------------

// ---- trace_errors -------------------------------------------------------------

test('trace_errors: failures per process, syscall and errno equal strace\'s; pid, comm and cgroup filters; samples and their cap', TEST, async (t) => {
  const tmp = mkdtempSync('/tmp/t-mcp-errors-');
  const cg = path.join(cgroup2Mount(), `t-mcp-tracers-${process.pid}`);
  t.after(async () => {
    await reap();
    try { rmdirSync(cg); } catch { /* not made */ }
    rmSync(tmp, { recursive: true, force: true });
  });
  await withTracer(t, 'trace_errors', async (s) => {
    const missing = `${tmp}/missing/file`;
    const a = await startWorkload(['fail', missing, '40'], ['strace', '-qq', '-o', `${tmp}/strace`]);
    const b = await startWorkload(['fail', missing, '5']);
    mkdirSync(cg);
    writeFileSync(`${cg}/cgroup.procs`, String(b.pid));
    const { runs, ids } = await startAll(s, [
      ['trace_errors', { duration_ms: 1500, comm: 'workload', max_events: 1000, limit: 1000 }],
      ['trace_errors', { duration_ms: 1500, pid: a.pid, max_events: 100 }],
      ['trace_errors', { duration_ms: 1500, pid: b.pid, limit: 1 }],
      ['trace_errors', { duration_ms: 1500, cgroup: path.basename(cg) }],   // relative to the cgroup2 mount
    ]);
    assertRunning(ids, ['trace_errors', 'trace_errors', 'trace_errors', 'trace_errors']);
    await a.go();
    await b.go();
    const [byComm, byA, byB, byCg] = await Promise.all(runs.map((r) => r.result));
    await assertReleased(ids, s.proc.pid, ALL);
    await a.finish();
    await b.finish();
    for (const r of [byComm, byA, byB, byCg]) assertRan(r, 'trace_errors', 1500);

    // strace's failures of a, in order, while it worked
    const seq = straceWindow(`${tmp}/strace`).map((l) => l.match(/^(\w+)\(.*= -1 (E\w+)/)).filter(Boolean).map((m) => `${m[1]}/${m[2]}`);
    const witness = tally(seq, (x) => x);
    assert.deepEqual(witness, { 'open/ENOENT': 40, 'close/EBADF': 80 });
    const rowsOf = (r, pid) => Object.fromEntries(r.errors.filter((e) => e.pid === pid).map((e) => [`${e.syscall}/${e.errno}`, e.count]));
    assert.deepEqual(rowsOf(byComm, a.pid), witness);
    assert.deepEqual(rowsOf(byComm, b.pid), { 'open/ENOENT': 5, 'close/EBADF': 10 });
    for (const e of byComm.errors) {
      assert.ok(e.comm.startsWith('workload'), `comm filter: ${e.comm}`);
      // UAPI names as node knows them; other processes named workload (tests
      // running alongside) may show the kernel's own restart codes (512...)
      if (e.errno in ERRNO) assert.equal(e.errno_value, ERRNO[e.errno], `${e.errno} is ${ERRNO[e.errno]}`);
      else assert.ok(e.errno_value >= 512 && !Object.values(ERRNO).includes(e.errno_value), JSON.stringify(e));
      assert.ok(e.first_ns <= e.last_ns);
    }
    assert.ok(byComm.errors.every((e, i) => i === 0 || e.count <= byComm.errors[i - 1].count), 'most first');
    assert.equal(byComm.failures, byComm.errors.reduce((n, e) => n + e.count, 0));
    assert.equal(byComm.rows, byComm.errors.length);
    assert.equal(byComm.truncated, false);
    assert.equal(byComm.keys_dropped, 0);
    // one sample per failure, in strace's order, with the thread and the names
    const samplesA = byComm.events.filter((e) => e.pid === a.pid);
    assert.deepEqual(samplesA.map((e) => `${e.syscall}/${e.errno}`), seq);
    assert.ok(samplesA.every((e) => e.tid === a.pid && e.comm === 'workload' && e.errno_value === ERRNO[e.errno]));
    assert.ok(byComm.events.every((e, i) => i === 0 || e.ts_ns >= byComm.events[i - 1].ts_ns), 'samples in time order');
    assert.equal(byComm.count, byComm.events.length);

    // pid filter; the counts go on past the samples' cap
    assert.deepEqual(rowsOf(byA, a.pid), witness);
    assert.equal(byA.errors.length, 2, JSON.stringify(byA.errors));
    assert.equal(byA.failures, 120);
    assert.equal(byA.count, 100);
    assert.equal(byA.stopped_by, 'duration');
    assert.equal(byA.dropped.full, 20);
    assert.deepEqual(byA.events.map((e) => `${e.syscall}/${e.errno}`), seq.slice(0, 100));

    // limit 1: the largest row, and how many there were
    assert.deepEqual(byB.errors.map((e) => [e.pid, e.syscall, e.errno, e.count]), [[b.pid, 'close', 'EBADF', 10]]);
    assert.equal(byB.rows, 2);
    assert.equal(byB.truncated, true);
    assert.equal(byB.failures, 15);

    // cgroup: only b, which was moved there
    assert.deepEqual(byCg.errors.map((e) => e.pid), [b.pid, b.pid]);
    assert.deepEqual(rowsOf(byCg, b.pid), { 'open/ENOENT': 5, 'close/EBADF': 10 });
  });
});

test('trace_errors: max_events defaults to 100, as its inputSchema says', TEST, async (t) => {
  t.after(reap);
  await withTracer(t, 'trace_errors', async (s) => {
    const tool = (await s.request('tools/list', {})).result.tools.find((x) => x.name === 'trace_errors');
    const dflt = tool.inputSchema.properties.max_events.default;
    const w = await startWorkload(['fail', '/nonexistent/t-mcp', '50']);   // 150 failures
    const run = await start(s, 'trace_errors', { duration_ms: 1000, pid: w.pid });
    await w.go();
    const r = await run.result;
    await w.finish();
    assert.equal(r.failures, 150);
    assert.deepEqual([r.count, r.dropped.full], [dflt, 150 - dflt], `max_events default ${dflt}`);
  });
});

// ---- trace_exec -----------------------------------------------------------------

test('trace_exec: filename, argv, parent, uid and the exit status or signal of known executions', TEST, async (t) => {
  t.after(reap);
  await withTracer(t, 'trace_exec', async (s) => {
    const { runs, ids } = await startAll(s, [
      ['trace_exec', { duration_ms: 1500, ppid: process.pid }],
      ['trace_exec', { duration_ms: 1500, ppid: process.pid, uid: 65534 }],
    ]);
    // (bpftool, our witness, is a child of this process too: its runs are
    // traced, and this one ends at its second event)
    assertRunning(ids, ['trace_exec', 'trace_exec']);
    const cap = await start(s, 'trace_exec', { duration_ms: 5000, ppid: process.pid, max_events: 2 });
    const t0 = Date.now();
    const plain = spawnSync(WORKLOAD, ['exit', '7', 'alpha', 'two words', ''], {});
    const shell = spawnSync('/bin/sh', ['-c', 'exit 7'], {});
    // uid 65534 cannot reach into a checkout under a private directory (mktemp -d
    // makes it 0700), so it runs a copy from a directory it can read
    const pub = mkdtempSync('/tmp/t-mcp-pub-');
    chmodSync(pub, 0o755);
    copyFileSync(WORKLOAD, path.join(pub, 'workload'));
    chmodSync(path.join(pub, 'workload'), 0o755);
    const nobody = spawnSync(path.join(pub, 'workload'), ['exit', '3'], { uid: 65534, gid: 65534 });
    rmSync(pub, { recursive: true });
    assert.equal(nobody.error, undefined, `uid 65534 could not run the workload: ${nobody.error}`);
    // a process killed by a signal; its argv also read back from /proc
    const spin = track(spawn(WORKLOAD, ['spin', '20000'], { stdio: 'ignore' }));
    await sleep(200);
    const cmdline = readFileSync(`/proc/${spin.pid}/cmdline`, 'latin1').split('\0').slice(0, -1);
    spin.kill('SIGKILL');
    const spinEnd = await exited(spin);
    const missing = spawnSync('/nonexistent/binary', [], {});   // a failed exec: no event
    const [all, byUid, capped] = await Promise.all([...runs, cap].map((r) => r.result));
    await assertReleased(ids, s.proc.pid, ALL);
    await assertReleased(cap.ids, s.proc.pid, ALL);
    assertRan(all, 'trace_exec', 1500);
    assertRan(byUid, 'trace_exec', 1500);

    // the processes' own view
    assert.deepEqual([plain.status, shell.status, nobody.status, spinEnd.signal], [7, 7, 3, 'SIGKILL']);
    assert.equal(missing.error.code, 'ENOENT');

    const of = (pid, kind) => all.events.filter((e) => e.pid === pid && e.kind === kind);
    const pids = [plain, shell, nobody, spin].map((p) => p.pid);
    assert.deepEqual(all.events.filter((e) => pids.includes(e.pid)).map((e) => [e.pid, e.kind]), pids.flatMap((p) => [[p, 'exec'], [p, 'exit']]),
      'an exec and an exit each');
    // the rest are the witness's own runs (bpftool through sh); nothing for the failed exec
    assert.deepEqual([...new Set(all.events.filter((e) => !pids.includes(e.pid)).map((e) => e.comm))].filter((c) => c !== 'sh' && c !== 'bpftool'), []);
    assert.equal(all.count, all.events.length);
    assert.equal(all.exits_untracked, 0);
    const uid = process.getuid();

    const [e1] = of(plain.pid, 'exec');
    const args1 = [WORKLOAD, 'exit', '7', 'alpha', 'two words', ''];
    // its cgroup: this process's (inherited), as /proc/self/cgroup names it
    const home = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::')).slice(3);
    assert.deepEqual({ ...e1, ts_ns: 0 }, {
      kind: 'exec', ts_ns: 0, pid: plain.pid, ppid: process.pid, uid, comm: 'workload',
      cgroup_id: statSync(path.join(cgroup2Mount(), home)).ino, cgroup: home, filename: WORKLOAD,
      argv: args1, argc: args1.length, args_truncated: false, args_unreadable: false,
    });
    const [x1] = of(plain.pid, 'exit');
    assert.equal(x1.exit_code, 7);
    assert.equal(x1.signal, undefined);
    assert.equal(x1.ppid, process.pid);
    assert.equal(x1.runtime_ns, x1.ts_ns - e1.ts_ns);

    const [e2] = of(shell.pid, 'exec');
    assert.deepEqual([e2.filename, e2.argv, e2.comm, e2.ppid, e2.uid], ['/bin/sh', ['/bin/sh', '-c', 'exit 7'], 'sh', process.pid, uid]);
    assert.equal(of(shell.pid, 'exit')[0].exit_code, 7);

    const [e3] = of(nobody.pid, 'exec');
    assert.equal(e3.uid, 65534);
    assert.equal(of(nobody.pid, 'exit')[0].exit_code, 3);

    assert.deepEqual(of(spin.pid, 'exec')[0].argv, cmdline);
    const [x4] = of(spin.pid, 'exit');
    assert.equal(x4.signal, os.constants.signals.SIGKILL);
    assert.equal(x4.exit_code, undefined);
    assert.equal(x4.core_dumped, false);
    assert.ok(x4.runtime_ns >= 150e6, `${x4.runtime_ns} ns`);

    // uid filter: only the process that ran as nobody
    assert.deepEqual(byUid.events.map((e) => [e.pid, e.kind, e.uid]), [[nobody.pid, 'exec', 65534], [nobody.pid, 'exit', 65534]]);

    // max_events ends the run early; the rest is counted
    assert.equal(capped.stopped_by, 'max_events');
    const untimed = (e) => ({ ...e, ts_ns: 0, runtime_ns: e.runtime_ns === undefined ? undefined : 0 });
    assert.deepEqual(capped.events.map(untimed), [e1, x1].map(untimed));
    assert.equal(capped.count, 2);
    assert.ok(capped.duration_ms < Date.now() - t0 + 200 && capped.duration_ms < 4000, `${capped.duration_ms} ms`);
  });
});

// ---- trace_open ------------------------------------------------------------------

// strace's flag names as numbers, from the kernel's UAPI header.
const O_FLAGS = Object.fromEntries([...readFileSync('/usr/include/asm-generic/fcntl.h', 'utf8')
  .matchAll(/#define (O_\w+)\s+(0[0-7]*)\b/g)].map((m) => [m[1], parseInt(m[2], 8)]));

// open/openat/openat2 lines of an strace -o file, parsed.
function straceOpens(lines) {
  return lines.filter((l) => /^open(at2?)?\(/.test(l)).map((l) => {
    const m = l.match(/^(open|openat|openat2)\((?:AT_FDCWD, )?"([^"]*)"(\.\.\.)?, (?:\{flags=)?([A-Z_|]+)(?:, (?:mode=)?(0[0-7]*))?.*\) = (-?\d+)(?: (E\w+))?/);
    assert.ok(m, l);
    return { syscall: m[1], path: m[2], cut: !!m[3], flags: m[4].split('|'), mode: m[5] ? parseInt(m[5], 8) : 0, ret: Number(m[6]), errno: m[7] };
  });
}

test('trace_open: musl\'s open and glibc\'s openat with path, flags, mode and fd or errno as strace and the program saw them; failed_only', TEST, async (t) => {
  const tmp = mkdtempSync('/tmp/t-mcp-open-');
  t.after(async () => { await reap(); rmSync(tmp, { recursive: true, force: true }); });
  await withTracer(t, 'trace_open', async (s) => {
    const exists = `${tmp}/exists`;
    writeFileSync(exists, 'x');
    const missing = `${tmp}/missing`;
    const long = `${tmp}/${'d'.repeat(300)}`;   // over the 255 bytes kept
    const { runs, ids } = await startAll(s, [
      ['trace_open', { duration_ms: 2000, comm: 'workload' }],
      ['trace_open', { duration_ms: 2000, comm: 'python3' }],
      ['trace_open', { duration_ms: 2000, comm: 'workload', failed_only: true }],
    ]);
    assertRunning(ids, ['trace_open', 'trace_open', 'trace_open']);

    // the static musl workload: open(2), openat(2) and openat2(2), each under strace
    const wruns = [['open', missing, '2'], ['open', exists, '2'], ['openat', exists, '1'], ['openat2', missing, '1'], ['open', long, '1']];
    const ws = [];
    for (const [i, args] of wruns.entries()) {
      const w = await startWorkload(args, ['strace', '-qq', '-e', 'trace=open,openat,openat2,read,writev', '-o', `${tmp}/w${i}`]);
      await w.go();
      await w.finish();
      ws.push(w);
    }
    // glibc (python): open() is openat; its own fd and errno printed
    const py = spawnSync('strace', ['-qq', '-e', 'trace=openat', '-o', `${tmp}/py`, PYTHON, '-c', `
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
try:
    os.open(sys.argv[2], os.O_RDONLY)
except OSError as e:
    print(os.getpid(), fd, e.errno)`, `${tmp}/created`, missing], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const [pyPid, pyFd, pyErrno] = py.stdout.trim().split(' ').map(Number);
    const [wl, pl, failed] = await Promise.all(runs.map((r) => r.result));
    await assertReleased(ids, s.proc.pid, ALL);
    for (const r of [wl, pl, failed]) assertRan(r, 'trace_open', 2000);

    for (const [i, w] of ws.entries()) {
      const seen = straceOpens(straceWindow(`${tmp}/w${i}`));
      const ours = wl.events.filter((e) => e.pid === w.pid);
      assert.equal(ours.length, Number(wruns[i][2]), `run ${i}: ${JSON.stringify(ours)}`);
      assert.equal(seen.length, ours.length);
      for (const [j, e] of ours.entries()) {
        const x = seen[j];
        assert.equal(e.syscall, x.syscall);
        assert.equal(e.syscall, wruns[i][0], 'musl open() is the open syscall');
        assert.deepEqual(e.flags, x.flags, 'flag names as strace decodes them');
        assert.equal(e.flags_value, x.flags.reduce((acc, f) => acc | O_FLAGS[f], 0));
        assert.equal(e.flags[0], 'O_RDONLY');
        assert.equal(e.mode, x.mode);
        assert.equal(e.dfd, -100);
        assert.deepEqual([e.tid, e.comm], [w.pid, 'workload']);
        assert.equal(e.path_unreadable, false);
        if (x.ret >= 0) {
          assert.deepEqual([e.fd, e.errno, e.errno_value], [x.ret, undefined, undefined]);
        } else {
          assert.deepEqual([e.fd, e.errno, e.errno_value], [undefined, x.errno, ERRNO[x.errno]]);
        }
        assert.ok(e.latency_ns > 0);
        if (wruns[i][1] === long) {
          assert.equal(e.path_truncated, true);
          assert.equal(e.path, long.slice(0, 255));
          assert.equal(e.errno, 'ENAMETOOLONG');
        } else {
          assert.equal(e.path_truncated, false);
          assert.equal(e.path, x.path);
          assert.equal(e.path, wruns[i][1]);
        }
      }
    }

    // python: both of its opens of our paths, as it and strace saw them
    const pyseen = straceOpens(readFileSync(`${tmp}/py`, 'utf8').split('\n')).filter((x) => x.path.startsWith(tmp));
    const pyours = pl.events.filter((e) => e.pid === pyPid && e.path.startsWith(tmp));
    assert.equal(pyseen.length, 2);
    assert.deepEqual(pyours.map((e) => [e.syscall, e.path, e.flags, e.mode, e.fd, e.errno]),
      pyseen.map((x) => [x.syscall, x.path, x.flags, x.mode, x.ret >= 0 ? x.ret : undefined, x.errno]));
    assert.deepEqual(pyours.map((e) => e.syscall), ['openat', 'openat'], 'glibc open() is openat');
    assert.deepEqual(pyours[0].flags.filter((f) => f !== 'O_CLOEXEC'), ['O_WRONLY', 'O_CREAT', 'O_EXCL']);
    assert.equal(pyours[0].mode, 0o640);
    assert.equal(pyours[0].fd, pyFd);
    assert.deepEqual([pyours[1].errno, pyours[1].errno_value], ['ENOENT', pyErrno]);
    assert.ok(pl.events.every((e) => e.comm.startsWith('python3')));

    // failed_only: exactly the failures of the same processes
    const wpids = ws.map((w) => w.pid);
    const fails = wl.events.filter((e) => wpids.includes(e.pid) && e.errno);
    assert.equal(fails.length, 4);
    assert.deepEqual(failed.events.filter((e) => wpids.includes(e.pid)).map((e) => ({ ...e, ts_ns: 0, latency_ns: 0 })),
      fails.map((e) => ({ ...e, ts_ns: 0, latency_ns: 0 })));
    assert.ok(failed.events.every((e) => e.errno && e.fd === undefined));
  });
});

// ---- trace_tcp ----------------------------------------------------------------------

// A loopback connection to a fresh listener: both ends' getsockname and
// getpeername, and both sockets closed when it resolves.
async function loopback(host) {
  const server = net.createServer();
  await new Promise((res) => server.listen(0, host, res));
  const accepted = new Promise((res) => server.once('connection', (c) => {
    const ends = { local: c.address(), remote: { address: c.remoteAddress, port: c.remotePort } };
    c.on('close', () => res(ends));
    c.end();
  }));
  const client = await new Promise((res) => {
    const c = net.connect(server.address().port, host, () => {
      const ends = { local: c.address(), remote: { address: c.remoteAddress, port: c.remotePort } };
      c.on('close', () => res(ends));
    });
    c.resume();
  });
  const srv = await accepted;
  await new Promise((res) => server.close(res));
  return { client, server: srv };
}

test('trace_tcp: loopback connects and accepts, IPv4 and IPv6, as getsockname/getpeername see them; pid and port filters', TEST, async (t) => {
  await withTracer(t, 'trace_tcp', async (s) => {
    // the ports are only known once listening: the port-filtered call uses a reserved one
    const reserve = net.createServer();
    await new Promise((res) => reserve.listen(0, '127.0.0.1', res));
    const port = reserve.address().port;
    await new Promise((res) => reserve.close(res));
    // a listener from before tracing began: its owner is not known
    const early = net.createServer((c) => c.end());
    await new Promise((res) => early.listen(0, '127.0.0.1', res));
    const { runs, ids } = await startAll(s, [
      ['trace_tcp', { duration_ms: 1500 }],
      ['trace_tcp', { duration_ms: 1500, pid: process.pid }],
      ['trace_tcp', { duration_ms: 1500, port }],
    ]);
    assertRunning(ids, ['trace_tcp', 'trace_tcp', 'trace_tcp']);
    const comm = readFileSync('/proc/self/comm', 'utf8').trim();
    const conns = {};
    for (const [host, family] of [['127.0.0.1', 'ipv4'], ['::1', 'ipv6']]) conns[family] = await loopback(host);
    // one more on the reserved port
    const server = net.createServer((c) => c.end());
    await new Promise((res) => server.listen(port, '127.0.0.1', res));
    const onPort = await new Promise((res) => {
      const c = net.connect(port, '127.0.0.1', () => { const p = c.address().port; c.on('close', () => res(p)); });
      c.resume();
    });
    await new Promise((res) => server.close(res));
    const toEarly = await new Promise((res) => {
      const c = net.connect(early.address().port, '127.0.0.1', () => { const p = c.address().port; c.on('close', () => res(p)); });
      c.resume();
    });
    await new Promise((res) => early.close(res));
    const [all, byPid, byPort] = await Promise.all(runs.map((r) => r.result));
    await assertReleased(ids, s.proc.pid, ALL);
    for (const r of [all, byPid, byPort]) assertRan(r, 'trace_tcp', 1500);

    for (const [family, c] of Object.entries(conns)) {
      const { client, server: srv } = c;
      const connect = all.events.filter((e) => e.kind === 'connect' && e.sport === client.local.port && e.dport === client.remote.port);
      const accept = all.events.filter((e) => e.kind === 'accept' && e.sport === srv.local.port && e.dport === srv.remote.port);
      assert.equal(connect.length, 1, `${family} connect`);
      assert.equal(accept.length, 1, `${family} accept`);
      const [cn, ac] = [connect[0], accept[0]];
      assert.deepEqual([cn.family, cn.saddr, cn.sport, cn.daddr, cn.dport, cn.oldstate, cn.newstate, cn.pid, cn.tid, cn.comm],
        [family, client.local.address, client.local.port, client.remote.address, client.remote.port, 'SYN_SENT', 'ESTABLISHED', process.pid, process.pid, comm]);
      assert.deepEqual([ac.family, ac.saddr, ac.sport, ac.daddr, ac.dport, ac.oldstate, ac.newstate, ac.pid, ac.comm],
        [family, srv.local.address, srv.local.port, srv.remote.address, srv.remote.port, 'SYN_RECV', 'ESTABLISHED', process.pid, comm]);
      // the two ends mirror each other
      assert.deepEqual([ac.saddr, ac.sport, ac.daddr, ac.dport], [cn.daddr, cn.dport, cn.saddr, cn.sport]);
      assert.notEqual(cn.sock, ac.sock);
      // each socket's later changes keep its addresses and end in CLOSE
      for (const ev of [cn, ac]) {
        // (up to its CLOSE: a freed socket's address may be reused by a later one)
        const after = all.events.filter((e) => e.sock === ev.sock && e.ts_ns > ev.ts_ns);
        const later = after.slice(0, after.findIndex((e) => e.newstate === 'CLOSE') + 1);
        assert.ok(later.length >= 2, `${family} ${ev.kind}: ${JSON.stringify(after)}`);
        assert.ok(later.every((e) => e.kind === 'state' && e.saddr === ev.saddr && e.sport === ev.sport && e.daddr === ev.daddr && e.dport === ev.dport));
        assert.equal(later.at(-1).newstate, 'CLOSE');
        assert.ok(later.every((e, i) => e.oldstate === (i ? later[i - 1].newstate : 'ESTABLISHED')), 'a chain of states');
      }
      // the connect's socket went CLOSE -> SYN_SENT first; the listener CLOSE -> LISTEN
      assert.ok(all.events.some((e) => e.sock === cn.sock && e.oldstate === 'CLOSE' && e.newstate === 'SYN_SENT' && e.ts_ns < cn.ts_ns));
      assert.ok(all.events.some((e) => e.kind === 'state' && e.oldstate === 'CLOSE' && e.newstate === 'LISTEN' && e.sport === srv.local.port && e.pid === process.pid));
      // the pid filter sees all of ours (a socket of another process may get
      // a freed one's address within the window: its events are not ours)
      const mine = (r) => r.events.filter((e) => [cn.sock, ac.sock].includes(e.sock) && e.ts_ns >= cn.ts_ns - 1e9 && e.ts_ns <= cn.ts_ns + 1e9)
        .filter((e) => e.pid === process.pid)
        .filter((e) => e.sport === cn.sport || e.dport === cn.sport || e.sport === 0).map((e) => ({ ...e, ts_ns: 0 }));
      assert.deepEqual(mine(byPid), mine(all));
    }
    assert.ok(byPid.events.every((e) => e.pid === process.pid));
    // to the early listener: the connect is ours, the accept's owner unknown (pid 0)
    const earlyPort = all.events.find((e) => e.kind === 'connect' && e.sport === toEarly)?.dport;
    assert.ok(earlyPort, 'connect to the early listener');
    const earlyAccept = all.events.find((e) => e.kind === 'accept' && e.dport === toEarly && e.sport === earlyPort);
    assert.equal(earlyAccept.pid, 0, JSON.stringify(earlyAccept));
    assert.ok(!byPid.events.some((e) => e.sport === earlyPort && e.dport === toEarly), 'an unknown owner does not match a pid filter');
    // port filter: only the connection on that port
    assert.ok(byPort.events.length >= 6, JSON.stringify(byPort.events));
    assert.ok(byPort.events.every((e) => e.sport === port || e.dport === port), JSON.stringify(byPort.events));
    assert.deepEqual(byPort.events.filter((e) => e.kind !== 'state').map((e) => [e.kind, e.sport, e.dport]),
      [['connect', onPort, port], ['accept', port, onPort]]);
  });
});

// ---- syscall_stats -----------------------------------------------------------------

test('syscall_stats: exactly N getppid calls per process and per syscall, with histograms that add up', TEST, async (t) => {
  t.after(reap);
  await withTracer(t, 'syscall_stats', async (s) => {
    const a = await startWorkload(['getppid', '3000']);
    const b = await startWorkload(['getppid', '2000']);
    const { runs, ids } = await startAll(s, [
      ['syscall_stats', { duration_ms: 1500, pid: a.pid }],
      ['syscall_stats', { duration_ms: 1500, comm: 'workload', limit: 1000 }],
      ['syscall_stats', { duration_ms: 1500, pid: a.pid, limit: 1 }],
    ]);
    assertRunning(ids, ['syscall_stats', 'syscall_stats', 'syscall_stats']);
    const t0 = process.hrtime.bigint();
    await a.go();
    await b.go();
    const wallNs = Number(process.hrtime.bigint() - t0);
    const [byA, byComm, top] = await Promise.all(runs.map((r) => r.result));
    await assertReleased(ids, s.proc.pid, ALL);
    await a.finish();
    await b.finish();
    for (const r of [byA, byComm, top]) assertRan(r, 'syscall_stats', 1500);

    // per syscall, a alone
    const g = byA.syscalls.find((x) => x.syscall === 'getppid');
    assert.ok(g, JSON.stringify(byA.syscalls));
    assert.equal(g.nr, NR.getppid);
    assert.equal(g.count, 3000);
    assert.equal(g.errors, 0);
    assertHist(g, 'getppid');
    assert.ok(g.min_ns > 0 && g.min_ns <= g.avg_ns && g.avg_ns <= g.max_ns);
    assert.equal(g.avg_ns, Math.floor(g.total_ns / g.count));
    assert.ok(g.total_ns < wallNs, `${g.total_ns} ns in getppid, ${wallNs} ns wall`);
    assert.equal(byA.syscalls[0].syscall, 'getppid', 'most called first');
    for (const x of byA.syscalls) {
      assert.equal(x.nr, NR[x.syscall], `${x.syscall} is ${NR[x.syscall]}`);
      assertHist(x, x.syscall);
    }
    // the "done" line is one writev
    assert.equal(byA.syscalls.find((x) => x.syscall === 'writev')?.count, 1);
    // per process: only a, and its rows are the same numbers
    assert.ok(byA.processes.every((p) => p.pid === a.pid && p.comm === 'workload'));
    const pa = byA.processes.find((p) => p.syscall === 'getppid');
    assert.deepEqual([pa.nr, pa.count, pa.errors, pa.total_ns, pa.min_ns, pa.max_ns, pa.avg_ns],
      [g.nr, g.count, g.errors, g.total_ns, g.min_ns, g.max_ns, g.avg_ns]);
    assert.equal(byA.calls, byA.syscalls.reduce((n, x) => n + x.count, 0));
    assert.equal(byA.syscalls_total, byA.syscalls.length);
    assert.equal(byA.rows, byA.processes.length);
    assert.deepEqual([byA.truncated, byA.keys_dropped], [false, 0]);

    // comm: both processes, each with its own count
    const getppid = (r, pid) => r.processes.find((p) => p.pid === pid && p.syscall === 'getppid')?.count;
    assert.deepEqual([getppid(byComm, a.pid), getppid(byComm, b.pid)], [3000, 2000]);
    assert.ok(byComm.processes.every((p) => p.comm.startsWith('workload')));
    const gc = byComm.syscalls.find((x) => x.syscall === 'getppid');
    assert.equal(gc.count, byComm.processes.filter((p) => p.syscall === 'getppid').reduce((n, p) => n + p.count, 0));
    assertHist(gc, 'getppid (comm)');

    // limit 1: the top syscall and row, the totals still counted
    assert.deepEqual(top.syscalls.map((x) => [x.syscall, x.count]), [['getppid', 3000]]);
    assert.deepEqual(top.processes.map((p) => [p.pid, p.syscall, p.count]), [[a.pid, 'getppid', 3000]]);
    assert.equal(top.truncated, true);
    assert.equal(top.syscalls_total, byA.syscalls_total);
    assert.equal(top.calls, byA.calls);
  });
});

// ---- runq_latency -------------------------------------------------------------------

test('runq_latency: the waits of a ping-pong process match its schedstat switch-ins; per_process names it', TEST, async (t) => {
  t.after(reap);
  await withTracer(t, 'runq_latency', async (s) => {
    const w = await startWorkload(['pingpong', '3000']);
    const { runs, ids } = await startAll(s, [
      ['runq_latency', { duration_ms: 1500, pid: w.pid, per_process: true }],
      ['runq_latency', { duration_ms: 1500, pid: w.pid }],
    ]);
    assertRunning(ids, ['runq_latency', 'runq_latency']);
    // both readings while it sleeps on stdin: no switch-in falls outside the runs
    await sleeping(w.pid);
    const before = schedstat(w.pid);
    const t0 = process.hrtime.bigint();
    await w.go();
    const wallNs = Number(process.hrtime.bigint() - t0);
    await sleeping(w.pid);
    const after = schedstat(w.pid);
    const [per, one] = await Promise.all(runs.map((r) => r.result));
    await assertReleased(ids, s.proc.pid, ALL);
    await w.finish();
    for (const r of [per, one]) assertRan(r, 'runq_latency', 1500);

    assert.equal(per.histograms.length, 1, JSON.stringify(per.histograms));
    const h = per.histograms[0];
    assert.deepEqual([h.pid, h.comm], [w.pid, 'workload']);
    assertHist(h, 'per process');
    const slices = after.slices - before.slices;
    // every switch-in ends a wait; under load schedstat now and then counts one or two more
    assert.ok(Math.abs(h.count - slices) <= Math.max(3, slices * 0.01), `${h.count} waits, schedstat ${slices} switch-ins`);
    assert.ok(h.count >= 2900, 'most round trips sleep and wake');
    assert.ok(h.avg_ns * h.count <= wallNs, `${h.avg_ns} x ${h.count} ns waited in ${wallNs} ns`);
    assert.deepEqual([per.rows, per.truncated, per.hists_dropped], [1, false, 0]);

    // without per_process: one histogram, no pid, the same waits
    assert.equal(one.histograms.length, 1);
    const o = one.histograms[0];
    assert.equal(o.pid, undefined);
    assertHist(o, 'all');
    // (each program reads the clock in turn, so the two runs' latencies differ by their own cost)
    assert.equal(o.count, h.count);
  });
});

// ---- block_io_latency --------------------------------------------------------------

test('block_io_latency: O_DIRECT reads and writes on a loop device, as /sys/block/<dev>/stat counts them', TEST, async (t) => {
  const tmp = mkdtempSync('/tmp/t-mcp-bio-');
  let dev = null;
  t.after(() => {
    if (dev) sh(`losetup -d ${dev}`);
    rmSync(tmp, { recursive: true, force: true });
  });
  await withTracer(t, 'block_io_latency', async (s) => {
    writeFileSync(`${tmp}/image`, Buffer.alloc(4 << 20));
    dev = sh(`losetup -f --show ${tmp}/image`).trim();
    const name = path.basename(dev);
    const majmin = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim();
    const stat = () => readFileSync(`/sys/block/${name}/stat`, 'utf8').trim().split(/\s+/).map(Number);

    const before = stat();
    const { runs, ids } = await startAll(s, [
      ['block_io_latency', { duration_ms: 1500, disk: name }],
      ['block_io_latency', { duration_ms: 1500, disk: majmin }],
      ['block_io_latency', { duration_ms: 1500, per_disk: true }],
    ]);
    assertRunning(ids, ['block_io_latency', 'block_io_latency', 'block_io_latency']);
    sh(`dd if=/dev/urandom of=${dev} bs=4k count=24 oflag=direct status=none`);
    sh(`dd if=${dev} of=/dev/null bs=8k count=20 iflag=direct status=none`);
    const [byName, byDev, perDisk] = await Promise.all(runs.map((r) => r.result));
    const after = stat();
    await assertReleased(ids, s.proc.pid, ALL);
    for (const r of [byName, byDev, perDisk]) assertRan(r, 'block_io_latency', 1500);

    // stat: reads, merged, sectors read, ms, writes, merged, sectors written, ...
    const d = (i) => after[i] - before[i];
    assert.deepEqual([d(0), d(2)], [20, 320], 'the device saw 20 reads of 8 KiB');
    assert.deepEqual([d(4), d(6)], [24, 192], 'and 24 writes of 4 KiB');
    const witness = { read: [d(0), d(2) * 512], write: [d(4), d(6) * 512] };
    if (after.length > 11 && d(11)) witness.discard = [d(11), d(13) * 512];
    if (after.length > 15 && d(15)) witness.flush = [d(15), 0];
    for (const r of [byName, byDev]) {
      const ours = r.histograms.filter((h) => h.disk === name);
      assert.equal(ours.length, r.histograms.length, 'only that disk');
      assert.deepEqual(Object.fromEntries(ours.map((h) => [h.op, [h.count, h.bytes]])), witness);
      for (const h of ours) {
        assert.equal(h.dev, majmin);
        assertHist(h, `${name} ${h.op}`);
        assert.ok(h.max_ns > 0);
      }
      assert.deepEqual([r.unmatched, r.hists_dropped], [0, 0]);
    }
    // per_disk: the loop device has its own rows, named and numbered
    const mine = perDisk.histograms.filter((h) => h.dev === majmin);
    assert.ok(mine.every((h) => h.disk === name));
    assert.deepEqual(Object.fromEntries(mine.map((h) => [h.op, [h.count, h.bytes]])), witness);
    for (const h of perDisk.histograms) {
      assert.ok(h.disk && /^\d+:\d+$/.test(h.dev), JSON.stringify(h));
      assert.equal(readFileSync(`/sys/block/${h.disk}/dev`, 'utf8').trim(), h.dev);
    }
  });
});

// ---- skb_drops ------------------------------------------------------------------

const TRACEFS = '/sys/kernel/tracing';

// The kernel's own names of drop reasons: skb:kfree_skb's print format maps
// each value to the name its trace output prints.
function kernelReasonNames() {
  const fmt = readFileSync(`${TRACEFS}/events/skb/kfree_skb/format`, 'utf8');
  return Object.fromEntries([...fmt.matchAll(/\{ (\d+), "(\w+)" \}/g)].map((m) => [Number(m[1]), m[2]]));
}

// skb:kfree_skb in a tracefs instance of the test's own (optionally
// filtered): the kernel's trace lines, parsed.
function kfreeSkbTrace(name, filter) {
  const dir = `${TRACEFS}/instances/${name}`;
  mkdirSync(dir);
  writeFileSync(`${dir}/buffer_size_kb`, '4096');
  if (filter) writeFileSync(`${dir}/events/skb/kfree_skb/filter`, filter);
  writeFileSync(`${dir}/events/skb/kfree_skb/enable`, '1');
  const re = /^\s*(.+)-(\d+)\s+\[\d+\]\s+(\S+)\s+[\d.]+: kfree_skb: .*protocol=(\d+) location=(\S+) reason: (\w+)/;
  return {
    lines: () => readFileSync(`${dir}/trace`, 'utf8').split('\n').map((l) => l.match(re)).filter(Boolean)
      .map((m) => ({ comm: m[1], pid: Number(m[2]), flags: m[3], protocol: Number(m[4]), location: m[5].replace(/\/0x[0-9a-f]+$/, ''), reason: m[6] })),
    cleanup() {
      try { writeFileSync(`${dir}/events/skb/kfree_skb/enable`, '0'); } catch { /* never made */ }
      try { rmdirSync(dir); } catch { /* never made */ }
    },
  };
}

// /proc/<pid>/net/snmp: the counters of that process's network namespace.
function snmp(pid) {
  const lines = readFileSync(`/proc/${pid}/net/snmp`, 'utf8').trim().split('\n').map((l) => l.split(/\s+/));
  const out = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i].slice(1), values = lines[i + 1].slice(1).map(Number);
    out[lines[i][0].replace(':', '')] = Object.fromEntries(names.map((n, j) => [n, values[j]]));
  }
  return out;
}

// What every skb_drops result holds for n drops of one (reason, location,
// protocol): the views agree with each other and with the samples.
function assertOneDrop(r, n, { reason, context, pid, comm }) {
  assert.equal(r.drops, n);
  assert.deepEqual(r.reasons.map((x) => [x.reason, x.count]), [[reason, n]]);
  assert.equal(r.locations.length, 1, JSON.stringify(r.locations));
  const loc = r.locations[0];
  assert.deepEqual([loc.reason, loc.count], [reason, n]);
  assert.equal(loc.location, `${loc.function}+0x${(BigInt(loc.address) - kallsym(loc.function)).toString(16)}`, 'function+offset from /proc/kallsyms');
  assert.deepEqual(r.protocols, [{ protocol: 'IP', protocol_value: 0x0800, count: n }]);
  assert.deepEqual(r.contexts, { process: context === 'process' ? n : 0, softirq: context === 'softirq' ? n : 0 });
  assert.deepEqual(r.processes.map((p) => [p.pid, p.comm, p.reason, p.count]), pid ? [[pid, comm, reason, n]] : []);
  assert.equal(r.rows, 1);
  assert.equal(r.keys_dropped, 0);
  assert.equal(r.truncated, false);
  assert.equal(r.count + r.dropped.full, n, 'a sample per drop, kept or counted');
  for (const e of r.events) {
    assert.deepEqual([e.reason, e.reason_value, e.location, e.address, e.context, e.protocol], [reason, r.reasons[0].reason_value, loc.location, loc.address, context, 'IP']);
    assert.deepEqual([e.pid, e.tid, e.comm], pid ? [pid, pid, comm] : [0, 0, '']);
  }
  assert.ok(r.events.every((e, i) => i === 0 || e.ts_ns >= r.events[i - 1].ts_ns), 'samples in time order');
  return loc;
}

// A function's address in /proc/kallsyms.
function kallsym(name) {
  const m = readFileSync('/proc/kallsyms', 'utf8').match(new RegExp(`^([0-9a-f]+) [tTwW] ${name}$`, 'm'));
  assert.ok(m, `${name} in /proc/kallsyms`);
  return BigInt(`0x${m[1]}`);
}

test('skb_drops: datagrams to a closed port in a fresh netns are NO_SOCKET drops in softirq, as many as its Udp NoPorts, named and placed as the kernel\'s own trace prints them; netns, reason and pid filters', TEST, async (t) => {
  const N = 50;
  const trace = kfreeSkbTrace(`t-mcp-drops-${process.pid}`);
  t.after(async () => { await reap(); trace.cleanup(); });
  await withTracer(t, 'skb_drops', async (s) => {
    const w = await startWorkload(['udp', '127.0.0.1', '9', String(N)], ['unshare', '-n']);
    const netns = `/proc/${w.pid}/ns/net`, inum = statSync(netns).ino;
    assert.notEqual(inum, statSync('/proc/self/ns/net').ino, 'a namespace of its own');
    assert.equal(snmp(w.pid).Udp.NoPorts, 0);
    const { runs, ids } = await startAll(s, [
      ['skb_drops', { duration_ms: 1500, netns, max_events: 1000 }],
      ['skb_drops', { duration_ms: 1500, netns: `net:[${inum}]`, reason: 'no_socket', max_events: 10 }],
      ['skb_drops', { duration_ms: 1500, netns, reason: 'SKB_DROP_REASON_TCP_CSUM' }],
      ['skb_drops', { duration_ms: 1500, pid: w.pid }],
    ]);
    assertRunning(ids, ['skb_drops', 'skb_drops', 'skb_drops', 'skb_drops']);
    await w.go();
    const counters = snmp(w.pid);
    const [all, byReason, other, byPid] = await Promise.all(runs.map((r) => r.result));
    await assertReleased(ids, s.proc.pid, ALL);
    await w.finish();
    for (const r of [all, byReason, other, byPid]) assertRan(r, 'skb_drops', 1500);
    t.diagnostic(`Udp NoPorts ${counters.Udp.NoPorts}, skb_drops ${all.drops}: ${JSON.stringify(all.locations[0])}`);

    // as many as the namespace's own counter; the name is the kernel's for that value
    assert.equal(counters.Udp.NoPorts, N);
    const loc = assertOneDrop(all, N, { reason: 'NO_SOCKET', context: 'softirq' });
    assert.equal(kernelReasonNames()[all.reasons[0].reason_value], 'NO_SOCKET');
    assert.equal(all.count, N);
    for (const e of all.events) assert.deepEqual([e.netns, e.ifindex, e.len], [inum, 1, 9], 'lo of that netns; 8 bytes of UDP header and 1 of data');
    // the kernel's trace: the same name at the same place; those on the
    // sender's own stack (a softirq run as it sent; else ksoftirqd ran them)
    // are flagged as softirq
    const seen = trace.lines().filter((l) => l.reason === 'NO_SOCKET' && l.location === loc.location);
    assert.ok(seen.length >= 1, `the kernel traced NO_SOCKET at ${loc.location}`);
    const mine = seen.filter((l) => l.pid === w.pid);
    assert.ok(mine.length <= N && mine.every((l) => l.flags[2] === 's' && l.protocol === 0x0800), JSON.stringify(mine.slice(0, 3)));

    assertOneDrop(byReason, N, { reason: 'NO_SOCKET', context: 'softirq' });
    assert.deepEqual([byReason.count, byReason.dropped.full], [10, N - 10], 'samples capped, counts complete');
    assert.deepEqual([other.drops, other.reasons, other.events], [0, [], []], 'no TCP_CSUM drops there');
    assert.equal(byPid.drops, 0, 'softirq drops name no process');
  });
});

test('skb_drops: a cgroup egress program drops a process\'s datagrams in its own context: pid and comm, as many as its failed sendto()s, Ip OutDiscards and the kernel\'s trace for that pid; pid, comm and cgroup filters', TEST, async (t) => {
  const N = 30;
  const name = `t-mcp-drops-eg-${process.pid}`;
  const cg = path.join(cgroup2Mount(), name), pin = `/sys/fs/bpf/${name}`;
  let trace;
  t.after(async () => {
    await reap();
    trace?.cleanup();
    try { sh(`${BPFTOOL} cgroup detach ${cg} egress pinned ${pin}`); } catch { /* not attached */ }
    rmSync(pin, { force: true });
    try { rmdirSync(cg); } catch { /* not made */ }
  });
  await withTracer(t, 'skb_drops', async (s) => {
    mkdirSync(cg);
    sh(`${BPFTOOL} prog load ${path.join(BUILD, 'bpf/drop_egress.bpf.o')} ${pin}`);
    sh(`${BPFTOOL} cgroup attach ${cg} egress pinned ${pin}`);
    // the socket is made after "go", in the cgroup: its packets meet the program
    const w = await startWorkload(['udp', '127.0.0.1', '9', String(N), String(ERRNO.EPERM)], ['unshare', '-n']);
    writeFileSync(`${cg}/cgroup.procs`, String(w.pid));
    trace = kfreeSkbTrace(name, `common_pid == ${w.pid}`);
    const netns = `/proc/${w.pid}/ns/net`, inum = statSync(netns).ino;
    const { runs, ids } = await startAll(s, [
      ['skb_drops', { duration_ms: 1500, netns }],
      ['skb_drops', { duration_ms: 1500, pid: w.pid, max_events: 5 }],
      ['skb_drops', { duration_ms: 1500, cgroup: name, reason: 'bpf_cgroup_egress' }],
      ['skb_drops', { duration_ms: 1500, comm: 'workl', netns }],
    ]);
    await w.go();   // "done 0": every sendto() failed with EPERM
    const counters = snmp(w.pid);
    const [all, byPid, byCg, byComm] = await Promise.all(runs.map((r) => r.result));
    await assertReleased(ids, s.proc.pid, ALL);
    await w.finish();
    for (const r of [all, byPid, byCg, byComm]) assertRan(r, 'skb_drops', 1500);
    t.diagnostic(`Ip OutDiscards ${counters.Ip.OutDiscards}, skb_drops ${all.drops}: ${JSON.stringify(all.processes)}`);

    const who = { reason: 'BPF_CGROUP_EGRESS', context: 'process', pid: w.pid, comm: 'workload' };
    assert.equal(counters.Ip.OutDiscards, N);
    const loc = assertOneDrop(all, N, who);
    assert.equal(kernelReasonNames()[all.reasons[0].reason_value], 'BPF_CGROUP_EGRESS');
    for (const e of all.events) assert.deepEqual([e.netns, e.ifindex], [inum, 1]);
    // the kernel traced exactly these for that pid, in task context, at the same place
    const seen = trace.lines();
    assert.equal(seen.length, N);
    assert.ok(seen.every((l) => l.pid === w.pid && l.comm === 'workload' && !'shH'.includes(l.flags[2])
      && l.reason === 'BPF_CGROUP_EGRESS' && l.location === loc.location), JSON.stringify(seen.slice(0, 3)));

    assertOneDrop(byPid, N, who);
    assert.deepEqual([byPid.count, byPid.dropped.full], [5, N - 5]);
    assertOneDrop(byCg, N, who);
    assertOneDrop(byComm, N, who);
  });
});

test('skb_drops: a full UDP receive buffer: SOCKET_RCVBUFF drops carrying the receiving socket, as many as the netns counts in Udp RcvbufErrors', TEST, async (t) => {
  const N = 40;
  t.after(reap);
  const rxSk = readFileSync(`${TRACEFS}/events/skb/kfree_skb/format`, 'utf8').includes('rx_sk');
  await withTracer(t, 'skb_drops', async (s) => {
    const w = await startWorkload(['udpsink', String(N)], ['unshare', '-n']);
    const run = await start(s, 'skb_drops', { duration_ms: 1500, netns: `/proc/${w.pid}/ns/net` });
    await w.go();
    const udp = snmp(w.pid).Udp;
    // the receiving socket's own drop count (/proc/net/udp's last column)
    const sockDrops = readFileSync(`/proc/${w.pid}/net/udp`, 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const r = await run.result;
    await w.finish();
    assertRan(r, 'skb_drops', 1500);
    t.diagnostic(`Udp OutDatagrams ${udp.OutDatagrams} RcvbufErrors ${udp.RcvbufErrors}, the socket's drops ${sockDrops.map((f) => f[12])}; skb_drops ${JSON.stringify(r.locations)}`);
    assert.equal(udp.OutDatagrams, N);
    assert.ok(udp.RcvbufErrors > 0 && udp.RcvbufErrors < N, 'a few fit the buffer');
    assert.deepEqual(sockDrops.map((f) => [f[1], Number(f[12])]), [[sockDrops[0][1], udp.RcvbufErrors]], 'one socket, its drops');
    assertOneDrop(r, udp.RcvbufErrors, { reason: 'SOCKET_RCVBUFF', context: 'softirq' });
    assert.equal(kernelReasonNames()[r.reasons[0].reason_value], 'SOCKET_RCVBUFF');
    // one socket received them all (its kernel address; on kernels whose tracepoint says it)
    const socks = [...new Set(r.events.map((e) => e.sock))];
    if (rxSk) assert.ok(socks.length === 1 && /^ffff[0-9a-f]{12}$/.test(socks[0]), JSON.stringify(socks));
    else assert.deepEqual(socks, [undefined]);
  });
});

// ---- oom_kills -------------------------------------------------------------------

// A memory cgroup of mb MiB without swap: in cgroup v2 where the memory
// controller is enabled there, else in cgroup v1's memory hierarchy.
function memoryCgroup(name, mb) {
  const v2 = cgroup2Mount();
  if (readFileSync(`${v2}/cgroup.subtree_control`, 'utf8').split(/\s+/).includes('memory')) {
    const dir = path.join(v2, name);
    mkdirSync(dir);
    writeFileSync(`${dir}/memory.max`, `${mb}M`);
    if (existsSync(`${dir}/memory.swap.max`)) writeFileSync(`${dir}/memory.swap.max`, '0');
    return { dir, v2: true, oomKills: () => Number(readFileSync(`${dir}/memory.events`, 'utf8').match(/^oom_kill (\d+)/m)[1]) };
  }
  const mount = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' '))
    .find((f) => f[2] === 'cgroup' && f[3].split(',').includes('memory'));
  if (!mount) return null;
  const dir = path.join(mount[1], name);
  mkdirSync(dir);
  writeFileSync(`${dir}/memory.limit_in_bytes`, `${mb}M`);
  if (existsSync(`${dir}/memory.memsw.limit_in_bytes`)) writeFileSync(`${dir}/memory.memsw.limit_in_bytes`, `${mb}M`);
  return { dir, v2: false, oomKills: () => Number(readFileSync(`${dir}/memory.oom_control`, 'utf8').match(/^oom_kill (\d+)/m)[1]) };
}

test('oom_kills: a child killed in a 20 MiB memory cgroup: its pid, memory and oom_score_adj as the kernel\'s OOM report prints them, itself as the trigger with that memcg, the cgroup\'s oom_kill count; pid, comm and cgroup filters', TEST, async (t) => {
  const name = `t-mcp-oom-${process.pid}`;
  const cg2 = path.join(cgroup2Mount(), `${name}-v2`);
  let mem;
  t.after(async () => {
    await reap();
    for (const d of [mem?.dir, cg2]) try { if (d) rmdirSync(d); } catch { /* not made */ }
  });
  await withTracer(t, 'oom_kills', async (s) => {
    mem = memoryCgroup(name, 20);
    if (!mem) { t.skip('no memory controller in cgroup v2 or v1'); return; }
    const w = await startWorkload(['alloc', '1024']);
    writeFileSync(`/proc/${w.pid}/oom_score_adj`, '500');
    writeFileSync(`${mem.dir}/cgroup.procs`, String(w.pid));
    const v2dir = mem.v2 ? mem.dir : cg2;
    if (!mem.v2) {
      mkdirSync(cg2);
      writeFileSync(`${cg2}/cgroup.procs`, String(w.pid));
    }
    const { runs, ids } = await startAll(s, [
      ['oom_kills', { duration_ms: 4000 }],
      ['oom_kills', { duration_ms: 4000, pid: w.pid }],
      ['oom_kills', { duration_ms: 4000, comm: 'workl', cgroup: path.basename(v2dir) }],
      ['oom_kills', { duration_ms: 4000, pid: process.pid }],
    ]);
    assertRunning(ids, ['oom_kills', 'oom_kills', 'oom_kills', 'oom_kills']);
    w.begin();
    assert.deepEqual(await w.finish(), { code: null, signal: 'SIGKILL' }, 'killed before allocating 1 GiB');
    const [all, byPid, byCommCg, other] = await Promise.all(runs.map((r) => r.result));
    await assertReleased(ids, s.proc.pid, ALL);
    for (const r of [all, byPid, byCommCg, other]) assertRan(r, 'oom_kills', 4000);
    assert.equal(mem.oomKills(), 1, 'the cgroup counted one OOM kill');

    // the kernel's own report of this kill
    const log = sh('dmesg');
    const k = log.match(new RegExp(`Killed process ${w.pid} \\(workload\\) total-vm:(\\d+)kB, anon-rss:(\\d+)kB, `
      + 'file-rss:(\\d+)kB, shmem-rss:(\\d+)kB, UID:(\\d+) pgtables:(\\d+)kB oom_score_adj:(-?\\d+)'));
    const c = log.match(new RegExp(`oom-kill:constraint=CONSTRAINT_MEMCG,.*,task_memcg=(\\S+),task=workload,pid=${w.pid},`));
    assert.ok(k && c, `the kernel's OOM report for ${w.pid}`);
    const e = all.events.find((x) => x.victim.pid === w.pid);
    t.diagnostic(`kernel: ${k[0]}; oom_kills: ${JSON.stringify(e)}`);
    assert.deepEqual(e.victim, {
      pid: w.pid, comm: 'workload', uid: Number(k[5]), total_vm_kb: Number(k[1]), anon_rss_kb: Number(k[2]),
      file_rss_kb: Number(k[3]), shmem_rss_kb: Number(k[4]), pgtables_kb: Number(k[6]), oom_score_adj: 500,
    });
    assert.equal(Number(k[7]), 500);
    assert.ok(e.victim.anon_rss_kb <= 20 * 1024 && e.victim.anon_rss_kb > 10 * 1024, `${e.victim.anon_rss_kb} kB of anonymous memory in 20 MiB`);
    // the child charged its own allocation: it triggered the kill, in that memcg
    assert.deepEqual(e.trigger, {
      pid: w.pid, tid: w.pid, comm: 'workload', cgroup_id: statSync(v2dir).ino,
      memcg_id: statSync(mem.dir).ino, memcg: `/${name}`,
    });
    assert.equal(c[1], e.trigger.memcg);

    // (each run reads the clock itself)
    for (const r of [byPid, byCommCg]) assert.deepEqual(r.events.map(({ victim, trigger }) => ({ victim, trigger })), [{ victim: e.victim, trigger: e.trigger }]);
    assert.deepEqual(other.events, []);
  });
});

// ---- every tracer: cancel, EOF, bad arguments, profiles ------------------------

// A call for each tracer that runs until stopped, with arguments that
// exercise its filters.
const LONG = {
  trace_errors: { duration_ms: 20000, comm: 'workload' },
  trace_exec: { duration_ms: 20000, ppid: 1 },
  // (a comm no process has: failed opens machine-wide, e.g. a compiler's
  // include search, could fill max_events and end the run early)
  trace_open: { duration_ms: 20000, failed_only: true, comm: 'no-such-comm-0' },
  trace_tcp: { duration_ms: 20000, port: 9 },
  syscall_stats: { duration_ms: 20000, pid: 1 },
  runq_latency: { duration_ms: 20000, per_process: true },
  block_io_latency: { duration_ms: 20000, per_disk: true },
  skb_drops: { duration_ms: 20000, reason: 'NO_SOCKET' },
  oom_kills: { duration_ms: 20000, comm: 'workload' },
  offcpu_profile: { duration_ms: 20000, comm: 'workload', min_block_us: 1000 },
  tcp_retransmits: { duration_ms: 20000, port: 9 },
};

test('a cancelled tracer call answers nothing and leaves nothing in the kernel', TEST, async () => {
  await withServer([], async (s) => {
    const names = await toolNames(s);
    const present = TRACERS.filter((n) => names.includes(n));
    assert.ok(present.length >= 1);
    for (const [i, name] of present.entries()) {
      const id = `cancel-${i}`;
      const run = await start(s, name, LONG[name], { id, timeoutMs: 5000 });
      let replied = false;
      run.reply.then(() => { replied = true; }, () => {});
      assertRunning(run.ids, [name]);
      s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'test' } });
      assert.deepEqual((await s.request('ping', {})).result, {}, 'the server answers at once');
      await assertReleased(run.ids, s.proc.pid, ALL);
      await sleep(150);
      assert.equal(replied, false, `${name}: a cancelled call gets no reply`);
      assert.ok(!s.lines.some((l) => l.id === id));
      // progress stopped with the call
      const n = s.notifications.filter((x) => x.params?.progressToken === run.token).length;
      await sleep(250);
      assert.equal(s.notifications.filter((x) => x.params?.progressToken === run.token).length, n, `${name}: no progress after cancel`);
    }
  });
});

test('stdin EOF in the middle of tracer runs: the server exits 0 promptly and nothing stays in the kernel', TEST, async () => {
  const s = new Server(['--limit', 'jobs=16']);
  let ids, t0, ex;
  try {
    await s.init();
    const names = await toolNames(s);
    const present = TRACERS.filter((n) => names.includes(n));
    ({ ids } = await startAll(s, present.map((n) => [n, LONG[n]]), { timeoutMs: 5000 }));
    assertRunning(ids, present);
  } finally {
    t0 = performance.now();
    ex = await s.close();
  }
  assert.deepEqual(ex, { code: 0, sig: null });
  assert.ok(performance.now() - t0 < 2000, 'exits promptly');
  assert.ok(!s.lines.some((l) => l.id !== undefined && l.result?.structuredContent?.tracer), 'no tracer result after EOF');
  await assertReleased(ids, null);   // the server has exited: only the kernel can hold them
});

// Event tracers watch a comm no process has, so that whatever else runs on
// the machine cannot fill max_events before the deadline.
const QUIET = Object.fromEntries(['trace_errors', 'trace_exec', 'trace_open', 'trace_tcp', 'skb_drops'].map((n) => [n, { comm: 'no-such-comm-0' }]));

test('call_ms ends every tracer with stopped_by deadline and a full result; progress counts elapsed ms toward duration_ms', TEST, async () => {
  await withServer(['--limit', 'call_ms=400', '--limit', 'jobs=16'], async (s) => {
    const names = await toolNames(s);
    const present = TRACERS.filter((n) => names.includes(n));
    const runs = present.map((name) => ({
      name, token: `deadline-${name}`,
      reply: s.request('tools/call', { name, arguments: { duration_ms: 5000, ...QUIET[name] }, _meta: { progressToken: `deadline-${name}` } }),
    }));
    // (the server loads one tracer at a time: a run that waited behind the
    // others' loads has less of its 400 ms left once attached)
    const t0 = performance.now();
    let progressed = 0;
    for (const run of runs) {
      const r = await run.reply;
      assert.equal(r.result?.isError, false, JSON.stringify(r));
      const c = r.result.structuredContent;
      assert.deepEqual([c.tracer, c.stopped_by], [run.name, 'deadline']);
      assert.ok(c.duration_ms < 3000, `${run.name}: ${c.duration_ms} ms`);
      const prog = s.notifications.filter((n) => n.params?.progressToken === run.token).map((n) => n.params);
      if (prog.length >= 2) progressed++;
      assert.ok(prog.every((p, i) => p.total === 5000 && (i === 0 || p.progress > prog[i - 1].progress)), JSON.stringify(prog));
      assert.ok(!prog.length || prog.at(-1).progress <= c.duration_ms + 1);
      assert.ok(s.lines.indexOf(r) > s.lines.findLastIndex((l) => l.params?.progressToken === run.token), 'no progress after the reply');
    }
    assert.ok(progressed >= 1, 'progress every 100 ms');
    assert.ok(performance.now() - t0 < 4000);
  });
});

test('response_bytes: an event tracer stops before its reply would be too big, and says so', TEST, async (t) => {
  const tmp = mkdtempSync('/tmp/t-mcp-resp-');
  t.after(async () => { await reap(); rmSync(tmp, { recursive: true, force: true }); });
  // (tools/list itself is over 64 KiB: no withTracer here)
  await withServer(['--limit', 'response_bytes=65536'], async (s) => {
    writeFileSync(`${tmp}/f`, 'x');
    const w = await startWorkload(['open', `${tmp}/f`, '3000']);
    const run = await start(s, 'trace_open', { duration_ms: 3000, pid: w.pid, max_events: 100000 });
    await w.go();
    const r = await run.result;
    await w.finish();
    const reply = JSON.stringify(await run.reply);
    assert.ok(Buffer.byteLength(reply) < 65536, `${Buffer.byteLength(reply)} bytes`);
    assert.equal(r.stopped_by, 'response_bytes');
    assert.ok(r.count > 10 && r.count === r.events.length, `${r.count} events`);
    // it ended there (no 3 s wait); what was read after it filled is counted
    assert.ok(r.duration_ms < 2000, `${r.duration_ms} ms`);
    assert.ok(r.dropped.full > 0 && r.count + r.dropped.full <= 3000, JSON.stringify(r.dropped));
    assert.ok(r.events.every((e) => e.pid === w.pid && e.path === `${tmp}/f` && e.fd >= 0));
  });
});

test('bad arguments are refused with a clear error before anything is loaded', TEST, async () => {
  await withServer([], async (s) => {
    const names = await toolNames(s);
    const present = TRACERS.filter((n) => names.includes(n));
    const base = held(s.proc.pid);
    const withCgroup = ['trace_errors', 'trace_exec', 'trace_open', 'syscall_stats', 'skb_drops', 'oom_kills', 'offcpu_profile',
      'tcp_retransmits'].filter((n) => present.includes(n));
    for (const name of withCgroup) {
      const e = await fails(s, name, { cgroup: 'no-such-cgroup-t-mcp' });
      assert.equal(e.context.pointer, '/cgroup', name);
      assert.deepEqual([e.code, e.category, e.recoverable], ['NO_SUCH_CGROUP', 'validation', true], name);
      assert.match(e.message, /no cgroup directory .*no-such-cgroup-t-mcp/, name);
      const notCg = await fails(s, name, { cgroup: '/tmp' });
      assert.deepEqual([notCg.code, notCg.context.pointer], ['NOT_A_CGROUP', '/cgroup'], name);
    }
    for (const name of present.filter((n) => n !== 'block_io_latency')) {
      const e = await fails(s, name, { comm: 'x'.repeat(16) });
      assert.deepEqual([e.code, e.context.pointer], ['SCHEMA', '/comm'], name);
      assert.match(e.message, /longer than 15/);
      const d = await fails(s, name, { duration_ms: 0 });
      assert.deepEqual([d.code, d.context.pointer], ['SCHEMA', '/duration_ms'], name);
      const p = await fails(s, name, { pid: 0 });
      assert.deepEqual([p.code, p.context.pointer], ['SCHEMA', '/pid'], name);
    }
    for (const name of present) {
      const u = await fails(s, name, { disk_name: 'x' });
      assert.deepEqual([u.code, u.context.pointer], ['SCHEMA', '/disk_name'], name);
    }
    if (present.includes('block_io_latency')) {
      for (const disk of ['nosuchdisk9', '4095:1048575', '../vda']) {
        const e = await fails(s, 'block_io_latency', { disk });
        assert.deepEqual([e.code, e.category, e.context.pointer], ['NO_SUCH_DISK', 'validation', '/disk'], disk);
        assert.ok(e.message.includes(`'${disk}'`) && e.message.includes('/sys/block'), e.message);
      }
      const f = await fails(s, 'block_io_latency', { pid: 1 });
      assert.deepEqual([f.code, f.context.pointer], ['SCHEMA', '/pid'], 'no process filters on block I/O');
    }
    if (present.includes('trace_tcp')) {
      const e = await fails(s, 'trace_tcp', { port: 65536 });
      assert.deepEqual([e.code, e.context.pointer], ['SCHEMA', '/port']);
    }
    if (present.includes('skb_drops')) {
      const r = await fails(s, 'skb_drops', { reason: 'SOCKETZ' });
      assert.deepEqual([r.code, r.category, r.context.pointer], ['UNKNOWN_DROP_REASON', 'validation', '/reason']);
      assert.match(r.message, /reason 'SOCKETZ' is not in enum skb_drop_reason \(this kernel has \d+ drop reasons\)$/);
      // bpftool's reading of the same enum: every member but the bounds MAX and SUBSYS_MASK
      const members = sh(`${BPFTOOL} btf dump file /sys/kernel/btf/vmlinux format c`).match(/^enum skb_drop_reason \{\n([^}]*)\}/m)[1]
        .split('\n').filter((l) => /^\s+\w+ = /.test(l) && !/SKB_DROP_REASON_(MAX|SUBSYS_MASK) =/.test(l));
      assert.equal(r.context.reasons, members.length);
      const near = await fails(s, 'skb_drops', { reason: 'socket' });
      assert.match(near.message, /like it: .*NO_SOCKET/, 'names holding what was asked are suggested');
      const none = await fails(s, 'skb_drops', { reason: 'NOT_DROPPED_YET' });
      assert.match(none.message, /is not a drop reason/);
      for (const [netns, code, msg] of [['/nonexistent/t-mcp', 'NO_SUCH_FILE', /no file/], ['/proc/self/ns/mnt', 'NOT_A_NETNS', /another kind of namespace/],
        ['/proc/self/status', 'NOT_A_NETNS', /is not a namespace file/], ['net:[0]', 'NOT_A_NETNS', /out of range/]]) {
        const e = await fails(s, 'skb_drops', { netns });
        assert.deepEqual([e.code, e.context.pointer], [code, '/netns'], netns);
        assert.match(e.message, msg, netns);
      }
    }
    if (present.includes('trace_errors')) {
      const e = await fails(s, 'trace_errors', { max_events: 100001 });
      assert.deepEqual([e.code, e.context.limit], ['LIMIT_STREAM_EVENTS', 'stream_events']);
    }
    assert.deepEqual(minus(held(s.proc.pid), base), { progs: [], links: [], maps: [] }, 'nothing loaded by a refused call');
  });
});

test('the tracers are listed under --profile observe (the default) and refused under readonly', TEST, async () => {
  let present;
  await withServer(['--profile', 'observe'], async (s) => {
    const tools = (await s.request('tools/list', {})).result.tools;
    present = TRACERS.filter((n) => tools.some((x) => x.name === n));
    assert.ok(present.includes('trace_errors'));
    for (const name of present) {
      const tool = tools.find((x) => x.name === name);
      assert.deepEqual([tool.annotations.readOnlyHint, tool.annotations.destructiveHint], [true, false], name);
      assert.ok(tool.inputSchema.properties.duration_ms, name);
    }
  });
  await withServer([], async (s) => {
    const names = await toolNames(s);
    for (const name of present) assert.ok(names.includes(name), `${name} in the default profile`);
  });
  await withServer(['--profile', 'readonly'], async (s) => {
    const names = await toolNames(s);
    for (const name of present) {
      assert.ok(!names.includes(name), `${name} listed under readonly`);
      const r = await s.request('tools/call', { name, arguments: { duration_ms: 100 } });
      assert.ok(r.error, `${name} callable under readonly`);
      assert.match(r.error.message, /not in this server's readonly profile/);
    }
  });
});

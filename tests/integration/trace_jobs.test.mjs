// Traces that outlive a call: trace_start answers at once with a handle
// while the tracer runs in the background, trace_read returns what arrived
// since the last read (and the aggregates so far), trace_stop ends it with
// the tracer's own final report.
//
// Witnesses: the processes a test runs say what happened (a shell prints the
// pid and exit status of each child it runs; a python process makes a known
// number of getppid calls); the server's /proc/PID/fd and fdinfo say which
// BPF objects it holds, and bpftool that they are the tracer's programs,
// links and maps, while a trace runs and that nothing of them is left after
// trace_stop, the duration, a cancelled start, the client's EOF, the end of
// a session, a lease or the daemon, and after a start refused by the jobs
// limit. Every server runs with --validate-output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AjvModule from 'ajv';
import { Server, withServer, ensureMounts, ROOT } from '../lib/mcp.mjs';
import { Daemon, publicDir, until } from '../lib/daemon.mjs';
import { Lines, exited, reap, track } from '../lib/workload.mjs';
import { fails, sleep } from '../lib/kern.mjs';
import { assertReleased, assertRunning, fdCount, held, leftOf, minus } from '../lib/held.mjs';

ensureMounts();
after(reap);

const Ajv = AjvModule.default ?? AjvModule;
const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
const TEST = { timeout: 60000 };
const TRACE_MS_DEFAULT = 600000;
// the kernel's kprobe interfaces (this host has none, and refuses fentry too)
const KPROBES = existsSync('/sys/bus/event_source/devices/kprobe') || existsSync('/sys/kernel/tracing/kprobe_events');
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'trace-jobs-test', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

// ---- workloads ----------------------------------------------------------------

// A shell that, for each count N written to it, runs N children in turn
// (/bin/true, /bin/false, ...), prints "PID STATUS" for each as wait(1)
// saw it, then "done". Its pid is the ppid of every child.
function execBursts() {
  const script = `
    while read n; do
      i=0
      while [ $i -lt $n ]; do
        if [ $((i % 2)) -eq 0 ]; then /bin/true & else /bin/false & fi
        p=$!; wait $p; echo "$p $?"
        i=$((i + 1))
      done
      echo done
    done`;
  const child = track(spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = new Lines(child.stdout);
  return {
    pid: child.pid,
    // runs n children; their pids and exit statuses
    async burst(n) {
      child.stdin.write(`${n}\n`);
      const runs = [];
      for (let line; (line = await lines.next('exec burst')) !== 'done';) {
        const [pid, status] = line.split(' ').map(Number);
        runs.push({ pid, status });
      }
      assert.equal(runs.length, n);
      return runs;
    },
    async end() { child.stdin.end(); await exited(child); },
  };
}

// A python process that, for each count N written to it, makes N getppid
// calls, then prints "done". Between bursts it only reads and writes.
function getppidBursts() {
  const code = 'import os, sys\nfor l in sys.stdin:\n    for _ in range(int(l)): os.getppid()\n    print("done", flush=True)\n';
  const child = track(spawn('/usr/bin/python3', ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = new Lines(child.stdout);
  return {
    pid: child.pid,
    async burst(n) {
      child.stdin.write(`${n}\n`);
      assert.equal(await lines.next('getppid burst'), 'done');
    },
    async end() { child.stdin.end(); await exited(child); },
  };
}

// ---- helpers --------------------------------------------------------------------

// trace_start; its answer and what the server holds since.
async function startTrace(s, pid, tracer, args, { call = (n, a) => s.ok(n, a) } = {}) {
  const base = held(pid);
  const r = await call('trace_start', { tracer, arguments: args });
  assert.equal(typeof r.handle, 'string', JSON.stringify(r));
  assert.equal(r.tracer, tracer);
  return { r, handle: r.handle, ids: minus(held(pid), base) };
}

// The exec and exit events of one burst, against what the shell saw.
function assertBurst(events, runs, ppid, what) {
  const execs = events.filter((e) => e.kind === 'exec');
  const exits = events.filter((e) => e.kind === 'exit');
  const pids = runs.map((r) => r.pid).sort((a, b) => a - b);
  assert.deepEqual(execs.map((e) => e.pid).sort((a, b) => a - b), pids, `${what}: one exec per child`);
  assert.deepEqual(exits.map((e) => e.pid).sort((a, b) => a - b), pids, `${what}: one exit per child`);
  const status = new Map(runs.map((r) => [r.pid, r.status]));
  for (const e of execs) {
    assert.equal(e.ppid, ppid);
    assert.equal(e.filename, status.get(e.pid) ? '/bin/false' : '/bin/true');
  }
  for (const e of exits) assert.equal(e.exit_code, status.get(e.pid), `${what}: pid ${e.pid}'s status`);
}

// A report against the tracer's own outputSchema (from tools/list): the
// members trace_read/trace_stop add taken out, stopped_by's values extended
// (and, while it runs, not required).
async function assertTracerShape(s, tracer, report) {
  const tool = (await s.request('tools/list', {})).result.tools.find((t) => t.name === tracer);
  const schema = structuredClone(tool.outputSchema);
  schema.properties.stopped_by.enum.push('trace_stop');
  const { handle, running, ...rest } = report;
  if (running) schema.anyOf[0].required = schema.anyOf[0].required.filter((k) => k !== 'stopped_by');
  const validate = ajv.compile(schema);
  assert.ok(validate(rest), `${tracer}'s outputSchema: ${ajv.errorsText(validate.errors)}`);
  return { handle, running };
}

async function traces(s, call = (n, a) => s.ok(n, a)) {
  return (await call('inspect_state', { kinds: ['pin'], limit: 1 })).owned.traces;
}

// ---- one session (stdio) -----------------------------------------------------------

test('trace_exec in the background: each trace_read returns exactly the children run since the last one; trace_stop ends it and its kernel objects go', TEST, async () => {
  await withServer([], async (s) => {
    const sh = execBursts();
    const fds = fdCount(s.proc.pid);
    const { r, handle, ids } = await startTrace(s, s.proc.pid, 'trace_exec', { ppid: sh.pid });
    assert.ok(fdCount(s.proc.pid) > fds, 'the trace holds descriptors');
    assert.deepEqual({ d: r.duration_ms, o: r.owner, l: r.lease_ms }, { d: TRACE_MS_DEFAULT, o: 'session', l: null },
      'the default duration is the trace_ms limit; the session owns it');
    assertRunning(ids, ['trace_exec']);

    const empty = await s.ok('trace_read', { handle });
    assert.deepEqual({ h: empty.handle, r: empty.running, n: empty.count, e: empty.events }, { h: handle, r: true, n: 0, e: [] });
    let total = 0;
    const seen = new Set();
    for (const n of [3, 8, 21]) {
      const runs = await sh.burst(n);
      const got = await s.ok('trace_read', { handle });
      assert.equal(got.running, true);
      assert.equal(got.count, 2 * n, `burst of ${n}: ${got.count} events`);
      assert.equal(got.events.length, got.count);
      assertBurst(got.events, runs, sh.pid, `burst of ${n}`);
      assert.deepEqual(got.dropped, { kernel: 0, full: 0, too_big: 0 });
      for (const e of got.events.filter((x) => x.kind === 'exec')) {
        assert.ok(!seen.has(e.pid), `pid ${e.pid} came twice`);
        seen.add(e.pid);
      }
      total += 2 * n;
      await assertTracerShape(s, 'trace_exec', got);
    }
    const [listed] = await traces(s);
    assert.deepEqual({ h: listed.handle, t: listed.tracer, r: listed.running, e: listed.events, o: listed.owner },
      { h: handle, t: 'trace_exec', r: true, e: total, o: 'session' });
    assert.ok(listed.elapsed_ms <= listed.duration_ms && listed.duration_ms === TRACE_MS_DEFAULT);
    assertRunning(ids, ['trace_exec']);   // reads leave it running

    // what came after the last read is in the final report
    const last = await sh.burst(5);
    const fin = await s.ok('trace_stop', { handle });
    assert.deepEqual({ r: fin.running, by: fin.stopped_by, n: fin.count }, { r: false, by: 'trace_stop', n: 10 });
    assertBurst(fin.events, last, sh.pid, 'after the last read');
    await assertTracerShape(s, 'trace_exec', fin);
    await assertReleased(ids, s.proc.pid);
    await until('the descriptors to be closed', () => fdCount(s.proc.pid) === fds, 20000);

    // the handle is spent
    assert.equal((await fails(s, 'trace_read', { handle })).code, 'NO_SUCH_TRACE');
    assert.equal((await fails(s, 'trace_stop', { handle })).code, 'NO_SUCH_TRACE');
    assert.deepEqual(await traces(s), []);
    await sh.end();
  });
});

test('syscall_stats in the background: its counts accumulate over reads and equal the calls made; trace_stop holds them all', TEST, async () => {
  await withServer([], async (s) => {
    const py = getppidBursts();
    const { handle, ids } = await startTrace(s, s.proc.pid, 'syscall_stats', { pid: py.pid });
    assertRunning(ids, ['syscall_stats']);
    const getppid = (rep) => ({
      sys: rep.syscalls.find((x) => x.syscall === 'getppid')?.count ?? 0,
      proc: rep.processes.find((x) => x.syscall === 'getppid' && x.pid === py.pid)?.count ?? 0,
    });
    let sum = 0;
    for (const n of [100, 250, 40]) {
      await py.burst(n);
      sum += n;
      const rep = await s.ok('trace_read', { handle });
      assert.equal(rep.running, true);
      assert.deepEqual(getppid(rep), { sys: sum, proc: sum }, `after ${sum} calls`);
      await assertTracerShape(s, 'syscall_stats', rep);
    }
    await py.burst(7);
    const fin = await s.ok('trace_stop', { handle });
    assert.equal(fin.stopped_by, 'trace_stop');
    assert.deepEqual(getppid(fin), { sys: sum + 7, proc: sum + 7 });
    await assertTracerShape(s, 'syscall_stats', fin);
    await assertReleased(ids, s.proc.pid);
    await py.end();
  });
});

test('every tracer the server lists runs in the background: started, read, stopped, its programs loaded while it runs and gone after', TEST, async () => {
  await withServer([], async (s) => {
    // the tracers as tools/list describes them: a tracer's report, a duration
    const tools = (await s.request('tools/list', {})).result.tools;
    const tracers = tools.filter((t) => ['tracer', 'stopped_by'].every((k) => t.outputSchema.anyOf?.[0]?.required?.includes(k)) &&
      t.inputSchema.properties.duration_ms);
    assert.ok(tracers.length >= 8, tracers.map((t) => t.name).join());
    for (const t of tracers) {
      const args = t.inputSchema.properties.comm ? { comm: 'no-such-comm' } : {};
      if (t.name === 'trace_function') {
        args.function = 'do_sys_openat2';
        // it needs fentry or kprobes (tests/guest runs it in the background)
        if (!KPROBES) {
          const base = held(s.proc.pid);
          const e = await fails(s, 'trace_start', { tracer: t.name, arguments: args });
          assert.equal(e.code, 'NO_FUNCTION_TRACING', JSON.stringify(e));
          assert.deepEqual(minus(held(s.proc.pid), base), { progs: [], links: [], maps: [] }, 'nothing held');
          continue;
        }
      }
      const run = await startTrace(s, s.proc.pid, t.name, args);
      assert.ok(run.ids.progs.length > 0, `${t.name} holds programs`);
      if (existsSync(path.join(ROOT, 'bpf', `${t.name}.bpf.c`))) assertRunning(run.ids, [t.name]);
      const got = await s.ok('trace_read', { handle: run.handle });
      assert.equal(got.running, true, t.name);
      await assertTracerShape(s, t.name, got);
      const fin = await s.ok('trace_stop', { handle: run.handle });
      assert.equal(fin.stopped_by, 'trace_stop', t.name);
      await assertTracerShape(s, t.name, fin);
      await assertReleased(run.ids, s.proc.pid);
    }
    assert.deepEqual(await traces(s), []);
  });
});

test('a trace that reaches its duration releases its kernel objects and keeps its final report until it is read', TEST, async () => {
  await withServer([], async (s) => {
    const sh = execBursts();
    const { r, handle, ids } = await startTrace(s, s.proc.pid, 'trace_exec', { ppid: sh.pid, duration_ms: 800 });
    assert.equal(r.duration_ms, 800);
    const runs = await sh.burst(4);
    await until('the trace to end', async () => (await traces(s))[0]?.running === false, 10000, 50);
    await assertReleased(ids, s.proc.pid);   // ended: released, its report kept
    const [listed] = await traces(s);
    assert.equal(listed.handle, handle);
    assert.equal(listed.events, 8);
    const fin = await s.ok('trace_read', { handle });
    assert.deepEqual({ r: fin.running, by: fin.stopped_by, n: fin.count }, { r: false, by: 'duration', n: 8 });
    assert.ok(fin.duration_ms >= 795 && fin.duration_ms < 5000, `traced ${fin.duration_ms} ms`);
    assertBurst(fin.events, runs, sh.pid, 'before the end');
    await assertTracerShape(s, 'trace_exec', fin);
    assert.equal((await fails(s, 'trace_read', { handle })).code, 'NO_SUCH_TRACE');
    assert.deepEqual(await traces(s), []);
    await sh.end();
  });
});

test('the jobs limit counts background traces: one more trace_start or tracer call is refused naming it, and leaves nothing in the kernel', TEST, async () => {
  await withServer(['--limit', 'jobs=2'], async (s) => {
    const pid = s.proc.pid;
    const a = await startTrace(s, pid, 'trace_exec', { comm: 'no-such-comm' });
    const b = await startTrace(s, pid, 'syscall_stats', { comm: 'no-such-comm' });
    const before = held(pid);
    for (const [tool, args] of [['trace_start', { tracer: 'trace_open', arguments: { comm: 'no-such-comm' } }],
      ['trace_open', { duration_ms: 100 }]]) {
      const e = await fails(s, tool, args);
      assert.equal(e.code, 'LIMIT_JOBS', JSON.stringify(e));
      assert.equal(e.context.limit, 'jobs');
      assert.equal(e.context.value, 2);
      assert.match(e.message, /jobs/);
      assert.deepEqual(held(pid), before, `${tool}: nothing more held after the refusal`);
    }
    assert.equal((await traces(s)).length, 2);
    assertRunning({ progs: [...a.ids.progs, ...b.ids.progs], links: [...a.ids.links, ...b.ids.links], maps: [...a.ids.maps, ...b.ids.maps] },
      ['trace_exec', 'syscall_stats']);
    // a slot comes back with trace_stop
    await s.ok('trace_stop', { handle: a.handle });
    await assertReleased(a.ids, pid);
    const c = await startTrace(s, pid, 'trace_open', { comm: 'no-such-comm' });
    assertRunning(c.ids, ['trace_open']);
    for (const t of [b, c]) {
      await s.ok('trace_stop', { handle: t.handle });
      await assertReleased(t.ids, pid);
    }
  });
});

test('trace_start checks its tracer and arguments before anything is loaded', TEST, async () => {
  await withServer(['--deny-tools', 'trace_tcp'], async (s) => {
    const before = held(s.proc.pid);
    const notTracer = await fails(s, 'trace_start', { tracer: 'load_program', arguments: {} });
    assert.equal(notTracer.code, 'NOT_A_TRACER');
    assert.ok(notTracer.context.tracers.includes('trace_exec') && !notTracer.context.tracers.includes('load_program'));
    assert.ok(!notTracer.context.tracers.includes('trace_tcp'), 'a denied tracer is not offered');
    assert.equal((await fails(s, 'trace_start', { tracer: 'trace_tcp' })).code, 'NOT_OFFERED');
    const bad = await fails(s, 'trace_start', { tracer: 'trace_exec', arguments: { ppid: 'one' } });
    assert.deepEqual({ c: bad.code, p: bad.context.pointer }, { c: 'SCHEMA', p: '/arguments/ppid' });
    const over = await fails(s, 'trace_start', { tracer: 'trace_exec', arguments: { duration_ms: TRACE_MS_DEFAULT + 1 } });
    assert.equal(over.code, 'SCHEMA');
    assert.deepEqual(held(s.proc.pid), before);
    assert.deepEqual(await traces(s), []);
  });
});

test('a trace_start cancelled before it answers leaves no trace and nothing in the kernel', TEST, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trace-jobs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const audit = path.join(dir, 'audit');
  await withServer(['--audit-log', audit], async (s) => {
    const base = held(s.proc.pid);
    const id = 'cancelled-start';
    const start = { jsonrpc: '2.0', id, method: 'tools/call',
      params: { name: 'trace_start', arguments: { tracer: 'trace_open', arguments: { comm: 'no-such-comm' } } } };
    const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } };
    // one write: the loop reads the cancellation while the tracer loads on a worker
    s.sendRaw(`${JSON.stringify(start)}\n${JSON.stringify(cancel)}\n`);
    await s.request('ping', {});   // answered after the cancelled call is back
    assert.ok(!s.lines.some((m) => m.id === id), 'no reply to a cancelled call');
    // The audit line is written when the call is back from its worker:
    // waited for, since a cancelled call's reply is never sent; from then
    // on nothing of it is made, only released (on a worker: polled).
    const line = await until('the cancelled call\'s audit line', () => readFileSync(audit, 'utf8').split('\n').filter(Boolean)
      .map((l) => JSON.parse(l)).find((l) => l.tool === 'trace_start'), 10000);
    assert.equal(line.error_code, 'CANCELLED', 'the call ran and was cancelled');
    assert.deepEqual(await traces(s), []);
    await until('nothing of the cancelled trace held', () => {
      const left = minus(held(s.proc.pid), base);
      return !left.progs.length && !left.links.length && !left.maps.length;
    }, 10000);
  });
});

test('client EOF on stdio: the server ends its traces and exits', TEST, async () => {
  const s = new Server([]);
  await s.init();
  const { ids } = await startTrace(s, s.proc.pid, 'trace_open', { comm: 'no-such-comm' });
  assertRunning(ids, ['trace_open']);
  const t0 = Date.now();
  const e = await s.close();
  assert.deepEqual(e, { code: 0, sig: null });
  assert.ok(Date.now() - t0 < 10000);
  await assertReleased(ids, null);
});

// ---- the daemon: sessions, identities, leases, signals -----------------------------

const LEASE_MS = 2000;
const A = 41031;   // a uid with two connections
const B = 41032;   // another uid

async function withDaemon(extra, fn) {
  const pub = publicDir('tracejobs');
  const d = await Daemon.start(['--socket-mode', '0666', '--limit', `lease_ms=${LEASE_MS}`, '--log-level', 'notice',
    '--access', 'uid:0=observe', '--access', `uid:${A}=observe`, '--access', `uid:${B}=observe`, ...extra], { pub });
  const sessions = [];
  const open = (s) => { sessions.push(s); return s; };
  try {
    await fn(d, { raw: () => open(d.raw()), as: (uid) => open(d.as({ uid })) });
  } finally {
    for (const s of sessions) await s.close().catch(() => {});
    await d.stop().catch(() => {});
    await d.kill();
    pub.cleanup();
  }
}

// tools/call in the modern era (no handshake; the revision in _meta).
async function modern(s, name, args) {
  const r = await s.request('tools/call', { name, arguments: args, _meta: MODERN_META });
  assert.ok(r.result, `${name}: ${JSON.stringify(r.error)}`);
  return r.result.structuredContent;
}
async function modernOk(s, name, args) {
  const sc = await modern(s, name, args);
  assert.equal(sc.error, undefined, `${name}: ${JSON.stringify(sc.error)}`);
  return sc;
}

test('a session\'s trace: another session can neither read nor stop it; the session\'s end releases it, the daemon serves on', TEST, async () => {
  await withDaemon([], async (d, open) => {
    const a = open.raw(), b = open.raw();
    await a.init();
    await b.init();
    const fds = fdCount(d.pid);
    const sh = execBursts();
    const { handle, ids } = await startTrace(a, d.pid, 'trace_exec', { ppid: sh.pid });
    assertRunning(ids, ['trace_exec']);
    assert.ok(fdCount(d.pid) > fds, 'the trace holds descriptors');
    for (const tool of ['trace_read', 'trace_stop']) {
      const e = await fails(b, tool, { handle });
      assert.equal(e.code, 'NOT_OWNED', `${tool}: ${JSON.stringify(e)}`);
    }
    assert.deepEqual(await traces(b), []);
    const runs = await sh.burst(2);
    const got = await a.ok('trace_read', { handle });   // untouched by b's attempts
    assertBurst(got.events, runs, sh.pid, 'the owner\'s read');
    assertRunning(ids, ['trace_exec']);

    await a.close();   // the session ends: its trace goes
    await assertReleased(ids, d.pid);
    await until('the descriptors to be closed', () => fdCount(d.pid) <= fds + 1, 20000);
    assert.match(d.stderr, new RegExp(`trace ${handle} \\(trace_exec\\) ended`));
    assert.equal((await fails(b, 'trace_read', { handle })).code, 'NO_SUCH_TRACE');
    await b.request('ping', {});
    await sh.end();
  });
});

test('modern era: a trace belongs to the uid (its other connection reads and stops it, another uid cannot) and ends with its lease', TEST, async () => {
  await withDaemon([], async (d, open) => {
    const a1 = open.as(A), a2 = open.as(A), b = open.as(B);
    const sh = execBursts();
    const t = await startTrace(a1, d.pid, 'trace_exec', { ppid: sh.pid }, { call: (n, x) => modernOk(a1, n, x) });
    assert.deepEqual({ o: t.r.owner, l: t.r.lease_ms }, { o: 'identity', l: LEASE_MS });
    assertRunning(t.ids, ['trace_exec']);
    const runs = await sh.burst(3);
    const got = await modernOk(a2, 'trace_read', { handle: t.handle });
    assertBurst(got.events, runs, sh.pid, 'read from the other connection');
    const [listed] = await traces(a2, (n, x) => modernOk(a2, n, x));
    assert.deepEqual({ h: listed.handle, o: listed.owner, l: listed.lease_ms }, { h: t.handle, o: 'identity', l: LEASE_MS });
    assert.equal((await modern(b, 'trace_read', { handle: t.handle })).error.code, 'NOT_OWNED');
    assert.equal((await modern(b, 'trace_stop', { handle: t.handle })).error.code, 'NOT_OWNED');
    assert.equal((await modernOk(a2, 'trace_stop', { handle: t.handle })).stopped_by, 'trace_stop');
    await assertReleased(t.ids, d.pid);

    // no call from the uid for lease_ms: its trace ends with everything else it holds
    const fds = fdCount(d.pid);
    const u = await startTrace(a1, d.pid, 'trace_open', { comm: 'no-such-comm' }, { call: (n, x) => modernOk(a1, n, x) });
    const last = Date.now();
    assertRunning(u.ids, ['trace_open']);
    await modernOk(b, 'info', {});   // another uid's calls do not renew A's lease
    await until('the lease to end the trace', () => {
      const left = leftOf(u.ids, d.pid);
      return !left.progs.length && !left.links.length && !left.maps.length;
    }, LEASE_MS * 5, 50);
    assert.ok(Date.now() - last >= LEASE_MS - 100, `ended ${Date.now() - last} ms after the last call (lease ${LEASE_MS})`);
    await until('the descriptors to be closed', () => fdCount(d.pid) <= fds, 20000);
    assert.match(d.stderr, new RegExp(`trace ${u.handle} \\(trace_open\\) ended: lease expired`));
    assert.equal((await modern(a1, 'trace_read', { handle: u.handle })).error.code, 'NO_SUCH_TRACE');
    await sh.end();
  });
});

test('SIGTERM: the daemon ends every trace of both eras and exits cleanly', TEST, async () => {
  await withDaemon([], async (d, open) => {
    const legacy = open.raw(), mod = open.raw();
    await legacy.init();
    const x = await startTrace(legacy, d.pid, 'trace_exec', { comm: 'no-such-comm' });
    const y = await startTrace(mod, d.pid, 'syscall_stats', { comm: 'no-such-comm' }, { call: (n, a) => modernOk(mod, n, a) });
    assertRunning(x.ids, ['trace_exec']);
    assertRunning(y.ids, ['syscall_stats']);
    const e = await d.stop('SIGTERM');
    assert.deepEqual(e, { code: 0, sig: null }, d.stderr);
    for (const t of [x, y]) await assertReleased(t.ids, null);
  });
});

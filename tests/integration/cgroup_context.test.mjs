// Cgroup and container context of the tracers' events, and the `cgroup`
// filter of every tracer that has one. A cgroup v2 directory named the way
// docker's systemd driver names a container's scope
// (<mount>/ebpf-mcp-test-<pid>.slice/docker-<64 hex>.scope) gets a process
// of the test's own, which then execs, opens, fails, connects or ping-pongs;
// its twin stays where the test runs. The witnesses: the process's own
// /proc/<pid>/cgroup (read while it waits to start), the directory's inode
// (stat), the 64 hex digits the test chose, and the comm / pid each twin
// was given. Runs as a job; every call goes through a server run with
// --validate-output, so each event also matches its outputSchema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { withServer, ensureMounts } from '../lib/mcp.mjs';
import { exited, track, reap, WORKLOAD, LINE_TIMEOUT_MS } from '../lib/workload.mjs';
import { cgroup2Mount, fails, sleep } from '../lib/kern.mjs';

ensureMounts();

const TEST = { timeout: 60000 };
const ARGS = ['--limit', 'jobs=8'];
const PYTHON = '/usr/bin/python3';

// /proc/<pid>/cgroup's v2 line: the path as the kernel names it.
function cgroupOf(pid) {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return line.slice(3);
}

// A cgroup shaped like a docker container's scope, and its removal (the
// tasks that were in it must be gone; rmdir retries while they are reaped).
function containerCgroup(t) {
  const id = randomBytes(32).toString('hex');
  const mount = cgroup2Mount();
  const slice = `ebpf-mcp-test-${process.pid}-${randomBytes(3).toString('hex')}.slice`;
  const scope = `docker-${id}.scope`;
  const dir = path.join(mount, slice, scope);
  mkdirSync(dir, { recursive: true });
  t.after(async () => {
    await reap();
    for (const d of [dir, path.dirname(dir)]) {
      for (let i = 0; ; i++) {
        try { rmdirSync(d); break; } catch (e) {
          if (e.code === 'ENOENT') break;
          if (e.code !== 'EBUSY' || i === 100) throw e;
          await sleep(20);
        }
      }
    }
  });
  return { id, dir, rel: `/${slice}/${scope}`, ino: statSync(dir).ino };
}

// A process that waits for a line on stdin, then execs argv: moved into a
// cgroup while it waits, what it execs runs there from its first instruction.
async function launch(argv) {
  const child = track(spawn('/bin/sh', ['-c', 'read go && exec "$@"', 'sh', ...argv], { stdio: ['pipe', 'ignore', 'inherit'] }));
  await new Promise((res, rej) => { child.once('spawn', res); child.once('error', rej); });
  return {
    pid: child.pid,
    moveTo(dir) { writeFileSync(path.join(dir, 'cgroup.procs'), String(child.pid)); },
    async run() {
      child.stdin.end('go\n');
      return exited(child);
    },
  };
}

// Copies of the workload fixture under names of their own: the comm tells the
// twins apart in every event.
function namedWorkloads(t, names) {
  const dir = mkdtempSync('/tmp/t-mcp-cgctx-');
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return Object.fromEntries(names.map((n) => {
    copyFileSync(WORKLOAD, path.join(dir, n));
    chmodSync(path.join(dir, n), 0o755);
    return [n, path.join(dir, n)];
  }));
}

let tokens = 0;

// A tracer call, resolved once attached (its first progress notification);
// `result` is its structuredContent.
async function start(s, name, args) {
  const token = `${name}-${++tokens}`;
  let replied = false;
  const reply = s.request('tools/call', { name, arguments: args, _meta: { progressToken: token } });
  reply.then(() => { replied = true; }, () => {});
  const deadline = Date.now() + LINE_TIMEOUT_MS;
  while (!replied && !s.notifications.some((n) => n.params?.progressToken === token)) {
    if (Date.now() > deadline) throw new Error(`${name}: no progress`);
    await sleep(5);
  }
  const result = reply.then((r) => {
    if (r.error || r.result.isError) throw new Error(`${name} failed: ${JSON.stringify(r.error ?? r.result.structuredContent)}`);
    return r.result.structuredContent;
  });
  result.catch(() => {});
  if (replied) await result;   // failed before it ran: say why
  return { result };   // (not the promise itself: awaiting start() must not await the run)
}

// The members an event of a task in the test's container cgroup has.
function assertInContainer(e, cg, what) {
  assert.deepEqual({ cgroup_id: e.cgroup_id, cgroup: e.cgroup, container_id: e.container_id, pod_uid: e.pod_uid, unresolved: e.cgroup_unresolved },
    { cgroup_id: cg.ino, cgroup: cg.rel, container_id: cg.id, pod_uid: undefined, unresolved: undefined }, what);
}

test('trace_exec, trace_open, trace_errors: events carry the path /proc/<pid>/cgroup shows and the container id; `cgroup` keeps that cgroup only', TEST, async (t) => {
  const cg = containerCgroup(t);
  const bin = namedWorkloads(t, ['cg-in', 'cg-out']);
  await withServer(ARGS, async (s) => {
    const inside = await launch([bin['cg-in'], 'fail', '/nonexistent/cg-in', '4']);
    const outside = await launch([bin['cg-out'], 'fail', '/nonexistent/cg-out', '6']);
    inside.moveTo(cg.dir);
    assert.equal(cgroupOf(inside.pid), cg.rel, 'the witness: the kernel names the cgroup so');
    const home = cgroupOf(outside.pid);
    assert.notEqual(home, cg.rel);

    const calls = [
      ['trace_exec', { duration_ms: 1500, ppid: process.pid }],
      ['trace_exec', { duration_ms: 1500, cgroup: cg.rel }],                     // as events and /proc write it
      ['trace_open', { duration_ms: 1500, comm: 'cg-' }],
      ['trace_open', { duration_ms: 1500, cgroup: cg.dir }],                     // absolute
      ['trace_errors', { duration_ms: 1500, comm: 'cg-' }],
      ['trace_errors', { duration_ms: 1500, cgroup: cg.rel.slice(1) }],          // relative to the mount
    ];
    const runs = [];
    for (const [name, args] of calls) runs.push((await start(s, name, args)).result);
    assert.deepEqual([await inside.run(), await outside.run()], [{ code: 0, signal: null }, { code: 0, signal: null }]);
    const [execAll, execCg, openAll, openCg, errAll, errCg] = await Promise.all(runs);

    // trace_exec: the exec and the exit of each twin, each with its own cgroup
    const mine = (r, pid) => r.events.filter((e) => e.pid === pid);
    assert.deepEqual(mine(execAll, inside.pid).map((e) => [e.kind, e.comm]), [['exec', 'cg-in'], ['exit', 'cg-in']]);
    for (const e of mine(execAll, inside.pid)) assertInContainer(e, cg, `trace_exec ${e.kind}`);
    assert.deepEqual(mine(execAll, outside.pid).map((e) => [e.kind, e.cgroup, e.cgroup_id]),
      [['exec', home, statSync(path.join(cgroup2Mount(), home)).ino], ['exit', home, statSync(path.join(cgroup2Mount(), home)).ino]]);
    assert.ok(mine(execAll, outside.pid).every((e) => e.container_id !== cg.id));
    assert.deepEqual(execCg.events.map((e) => [e.kind, e.pid]), [['exec', inside.pid], ['exit', inside.pid]], 'the filter: only the process in it');

    // trace_open: 4 failed opens inside, 6 outside
    const opens = (r, pid) => r.events.filter((e) => e.pid === pid && e.path.startsWith('/nonexistent/'));
    assert.deepEqual(opens(openAll, inside.pid).map((e) => [e.path, e.errno]), Array(4).fill(['/nonexistent/cg-in', 'ENOENT']));
    assert.equal(opens(openAll, outside.pid).length, 6);
    for (const e of opens(openAll, inside.pid)) assertInContainer(e, cg, 'trace_open');
    assert.ok(opens(openAll, outside.pid).every((e) => e.cgroup === home && e.container_id !== cg.id));
    assert.ok(openCg.events.length >= 4 && openCg.events.every((e) => e.pid === inside.pid), JSON.stringify(openCg.events.map((e) => e.pid)));
    assert.equal(opens(openCg, inside.pid).length, 4);
    for (const e of openCg.events) assertInContainer(e, cg, 'trace_open, filtered');

    // trace_errors: samples carry it; rows and samples of the filtered run are the inside twin's 4 + 8
    const fails_ = (r, pid) => r.events.filter((e) => e.pid === pid);
    assert.equal(fails_(errAll, inside.pid).length, 12);
    for (const e of fails_(errAll, inside.pid)) assertInContainer(e, cg, 'trace_errors sample');
    assert.equal(fails_(errAll, outside.pid).length, 18);
    assert.ok(fails_(errAll, outside.pid).every((e) => e.cgroup === home));
    assert.deepEqual(errCg.errors.map((r) => [r.pid, r.syscall, r.errno, r.count]),
      [[inside.pid, 'close', 'EBADF', 8], [inside.pid, 'open', 'ENOENT', 4]]);
    assert.ok(errCg.events.every((e) => e.pid === inside.pid));
  });
});

// A port outside the ephemeral range (nobody is given it unasked) that is free now.
async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const probe = net.createServer();
    const ok = await new Promise((res) => {
      probe.once('error', () => res(false));
      probe.listen(port, '127.0.0.1', () => res(true));
    });
    if (ok) {
      await new Promise((res) => probe.close(res));
      return port;
    }
  }
}

test('trace_tcp: a connect carries its owner\'s cgroup and container id; `cgroup` keeps that owner\'s sockets only', TEST, async (t) => {
  const cg = containerCgroup(t);
  const port = await freePort();
  const connect = ['-c', 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()', String(port)];
  await withServer(ARGS, async (s) => {
    const inside = await launch([PYTHON, ...connect]);
    const outside = await launch([PYTHON, ...connect]);
    inside.moveTo(cg.dir);
    assert.equal(cgroupOf(inside.pid), cg.rel);
    const home = cgroupOf(process.pid);   // the listener's (this process) and the outside twin's
    const all = (await start(s, 'trace_tcp', { duration_ms: 1500, port })).result;
    const byCg = (await start(s, 'trace_tcp', { duration_ms: 1500, port, cgroup: cg.rel })).result;
    // listening once traced: the accepted connections are known to be this process's
    const server = net.createServer((c) => c.destroy());
    await new Promise((res) => server.listen(port, '127.0.0.1', res));
    t.after(() => server.close());
    assert.deepEqual(await inside.run(), { code: 0, signal: null });
    assert.deepEqual(await outside.run(), { code: 0, signal: null });
    const [a, b] = await Promise.all([all, byCg]);

    const connects = a.events.filter((e) => e.kind === 'connect');
    assert.deepEqual(connects.map((e) => e.pid).sort(), [inside.pid, outside.pid].sort());
    assertInContainer(connects.find((e) => e.pid === inside.pid), cg, 'connect inside');
    assert.equal(connects.find((e) => e.pid === outside.pid).cgroup, home);
    assert.notEqual(connects.find((e) => e.pid === outside.pid).container_id, cg.id);
    // the accepting side belongs to the listener: this process, in its own cgroup
    const accepts = a.events.filter((e) => e.kind === 'accept');
    assert.equal(accepts.length, 2);
    assert.ok(accepts.every((e) => e.pid === process.pid && e.cgroup === home), JSON.stringify(accepts));
    // every event of the inside twin's socket (its owner), and only those, pass the filter
    const key = (e) => [e.pid, e.sport, e.dport, e.oldstate, e.newstate];
    assert.ok(b.events.length >= 2, JSON.stringify(b.events));
    assert.deepEqual(b.events.map(key), a.events.filter((e) => e.pid === inside.pid).map(key));
    for (const e of b.events) assertInContainer(e, cg, `trace_tcp ${e.kind} ${e.oldstate}->${e.newstate}`);

    const e = await fails(s, 'trace_tcp', { duration_ms: 100, cgroup: 'ebpf-mcp-no-such-cgroup' });
    assert.deepEqual([e.code, e.context.pointer], ['NO_SUCH_CGROUP', '/cgroup']);
  });
});

test('runq_latency: `cgroup` keeps the waits of the tasks in it (the task that waited, not the one running)', TEST, async (t) => {
  const cg = containerCgroup(t);
  const bin = namedWorkloads(t, ['cg-in', 'cg-out']);
  await withServer(ARGS, async (s) => {
    const inside = await launch([bin['cg-in'], 'pingpong', '300']);
    const outside = await launch([bin['cg-out'], 'pingpong', '300']);
    inside.moveTo(cg.dir);
    const byCg = (await start(s, 'runq_latency', { duration_ms: 1500, per_process: true, cgroup: cg.dir, limit: 1000 })).result;
    const byComm = (await start(s, 'runq_latency', { duration_ms: 1500, per_process: true, comm: 'cg-', limit: 1000 })).result;
    assert.deepEqual([await inside.run(), await outside.run()], [{ code: 0, signal: null }, { code: 0, signal: null }]);
    const [c, all] = await Promise.all([byCg, byComm]);
    const rows = (r) => r.histograms.map((h) => [h.pid, h.comm, h.count]);
    // inside: the shell that became cg-in (its pid), and the child pingpong
    // forks, named cg-in and in the cgroup from birth: its first run after
    // fork is a wait, always
    assert.ok(c.histograms.every((h) => h.pid === inside.pid || h.comm === 'cg-in'), JSON.stringify(rows(c)));
    assert.ok(c.histograms.some((h) => h.pid !== inside.pid && h.comm === 'cg-in' && h.count > 0), JSON.stringify(rows(c)));
    assert.ok(!c.histograms.some((h) => h.pid === outside.pid || h.comm === 'cg-out'), JSON.stringify(rows(c)));
    // the same tasks outside are seen without the filter
    assert.ok(all.histograms.some((h) => h.pid !== outside.pid && h.comm === 'cg-out' && h.count > 0), JSON.stringify(rows(all)));

    const e = await fails(s, 'runq_latency', { duration_ms: 100, cgroup: '/proc' });
    assert.deepEqual([e.code, e.context.pointer], ['NOT_A_CGROUP', '/cgroup']);
  });
});

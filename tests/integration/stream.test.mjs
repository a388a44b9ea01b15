// stream_events against this kernel: a test object writes records into a
// ring buffer and a perf event array on every getppid() of the trigger
// fixture; its own counters (read with bpftool) are the witness of what was
// written. While a stream runs the server keeps answering (also under a
// flood it cannot keep up with); a cancel stops it at once with no reply;
// progress arrives in order; a full reply still fits response_bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Server, withServer, sh, ensureMounts, BUILD } from '../lib/mcp.mjs';
import { load, counts, TRIGGER, sleep } from '../lib/kern.mjs';
import { until } from '../lib/daemon.mjs';

ensureMounts();
const ARGS = ['--profile', 'full', '--object-dir', path.join(BUILD, 'bpf')];
const PRODUCER = path.join(BUILD, 'test/tools/ring_producer');

async function setup(s, burst = 1) {
  const o = await load(s, 'stream');
  await s.ok('attach_program', { program_id: o.prog.emit, type: 'tracepoint', target: 'syscalls/sys_enter_getppid' });
  if (burst !== 1) {
    const le = Buffer.alloc(8); le.writeBigUInt64LE(BigInt(burst));
    sh(`bpftool map update id ${o.map.config} key 0 0 0 0 value ${[...le].join(' ')}`);
  }
  return o;
}

// Runs the trigger after the stream has started; resolves with its pid.
// cpu: pin the trigger (its records go to that CPU's perf buffer).
function triggerLater(n, delayMs = 150, cpu = null) {
  return new Promise((resolve, reject) => setTimeout(() => {
    const p = cpu === null ? spawn(TRIGGER, ['getppid', String(n)])
      : spawn('taskset', ['-c', String(cpu), TRIGGER, 'getppid', String(n)]);
    p.on('exit', (code) => (code === 0 ? resolve(p.pid) : reject(new Error(`trigger ${code}`))));
  }, delayMs));
}

test('every ring buffer record under max_events arrives, decoded through the BTF struct, in order', async () => {
  await withServer(ARGS, async (s) => {
    const o = await setup(s);
    const call = s.ok('stream_events', { handle: o.handle, map: 'events', struct: 'event', duration_ms: 1500, max_events: 100 });
    const pid = await triggerLater(25);
    const r = await call;
    const ring = counts(o.map.emitted).get(0);
    assert.equal(ring, 25, 'the program reserved 25 records');
    assert.equal(r.count, 25);
    assert.equal(r.stopped_by, 'duration');
    assert.deepEqual(r.map, { id: o.map.events, name: 'events', type: 'ringbuf' });
    assert.equal(r.struct.name, 'event');
    assert.equal(r.struct.size, 32);
    assert.match(r.struct.btf, /^program \d+$/);
    assert.deepEqual(r.events.map((e) => e.data.pid), Array(25).fill(pid));
    assert.ok(r.events.every((e) => e.data.comm === 'attach_trigger' && e.size === 32 && e.data.tid === pid));
    const seqs = r.events.map((e) => e.data.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, 25);
    assert.deepEqual(r.dropped, { rate: 0, full: 0, too_big: 0 });
    assert.equal(r.lost, 0);
    assert.equal(r.lost_unknown, false);
  });
});

test('max_events stops the stream; records past it are counted, not returned', async () => {
  await withServer(ARGS, async (s) => {
    const o = await setup(s, 50);   // 50 records per getppid, in one syscall
    const call = s.ok('stream_events', { map_id: o.map.events, max_events: 20, duration_ms: 5000 });
    await triggerLater(1);
    const r = await call;
    assert.equal(counts(o.map.emitted).get(0), 50);
    assert.equal(r.count, 20);
    assert.equal(r.stopped_by, 'max_events');
    assert.ok(r.dropped.full >= 1 && r.count + r.dropped.full <= 50, JSON.stringify(r.dropped));
    assert.ok(r.events.every((e) => e.size === 32 && /^[0-9a-f]{64}$/.test(e.hex)), 'hex without a struct');
  });
});

test('perf event array: overruns while the server is busy are reported as lost; returned + lost = written', async () => {
  await withServer([...ARGS, '--limit', 'response_bytes=64M', '--limit', 'workers=1'], async (s) => {
    const o = await setup(s, 1024);
    const call = s.ok('stream_events', { map_id: o.map.perf_events, max_events: 100000, duration_ms: 3000 });
    await sleep(100);
    // three kallsyms walks keep the server's one worker from consuming
    // while the trigger writes 40 x 1024 x 264 bytes into 256 KiB per CPU
    // (all on CPU 0: a perf buffer reports its overrun with the next record
    // written to it, so the records after the flood go to the same buffer)
    const busy = [1, 2, 3].map(() => s.ok('list_kernel_functions', { limit: 1000 }));
    await triggerLater(40, 10, 0);
    await Promise.all(busy);
    // the kernel reports an overrun with the next record it can write, so
    // one more record follows (twice: the second finds room even if the
    // first came before the consumer had emptied the buffer); a burst there
    // could itself overrun with nothing after it to report that
    const one = Buffer.alloc(8); one.writeBigUInt64LE(1n);
    sh(`bpftool map update id ${o.map.config} key 0 0 0 0 value ${[...one].join(' ')}`);
    await triggerLater(1, 100, 0);
    await triggerLater(1, 500, 0);
    const r = await call;
    const written = counts(o.map.emitted).get(2);
    assert.equal(written, 40 * 1024 + 2);
    const seen = r.count + r.lost + r.filtered + r.dropped.full + r.dropped.rate;
    const why = `lost ${r.lost} unknown ${r.lost_unknown} count ${r.count} ${JSON.stringify(r.dropped)} written ${written}`;
    // 10 MiB into 256 KiB: records were lost, and either the kernel reported
    // every one (a record came after the overrun) or the result says the
    // count is a lower bound; never fewer accounted for with no flag
    assert.ok(r.lost > 0 || r.lost_unknown, why);
    if (r.lost_unknown) assert.ok(seen <= written, why);
    else assert.equal(seen, written, why);
    assert.ok(r.events.every((e) => Number.isInteger(e.cpu) && e.size >= 264));
  });
});

test('over events_per_second records are consumed and counted as dropped, never silently lost', async () => {
  await withServer([...ARGS, '--limit', 'events_per_second=100'], async (s) => {
    const o = await setup(s, 500);
    const call = s.ok('stream_events', { map_id: o.map.events, max_events: 10000, duration_ms: 900 });
    await triggerLater(1);
    const r = await call;
    assert.equal(counts(o.map.emitted).get(0), 500);
    assert.equal(r.count, 100, 'one window of 100');
    assert.equal(r.dropped.rate, 400);
    assert.equal(r.stopped_by, 'duration');
  });
});

test('filters: pid and comm on struct members, cpu only for perf arrays; missing members named', async () => {
  await withServer(ARGS, async (s) => {
    const o = await setup(s);
    const call = s.ok('stream_events', { handle: o.handle, map: 'events', struct: 'event', pid: 1, duration_ms: 800 });
    await triggerLater(5);
    const r = await call;
    assert.equal(r.count, 0);
    assert.equal(r.filtered, 5);
    const e1 = (await s.call('stream_events', { map_id: o.map.events, pid: 1 })).structuredContent.error;
    assert.equal(e1.code, 'FILTER_NEEDS_STRUCT');
    const e2 = (await s.call('stream_events', { map_id: o.map.events, struct: 'event', cpu: 0 })).structuredContent.error;
    assert.equal(e2.code, 'CPU_FILTER_NEEDS_PERF');
    const e3 = (await s.call('stream_events', { map_id: o.map.events, struct: 'no_such_struct_xyz' })).structuredContent.error;
    assert.equal(e3.code, 'NO_SUCH_STRUCT');
    const e4 = (await s.call('stream_events', { map_id: o.map.config })).structuredContent.error;
    assert.equal(e4.code, 'NOT_A_STREAM_MAP');
    const c = s.ok('stream_events', { handle: o.handle, map: 'events', struct: 'event', comm: 'attach_trigger', duration_ms: 800 });
    await triggerLater(3);
    assert.equal((await c).count, 3);
  });
});

const fds = (pid) => readdirSync(`/proc/${pid}/fd`).length;

test('while a stream runs ping is answered; a cancel stops it at once with no reply and releases its fds', async () => {
  await withServer(ARGS, async (s) => {
    const o = await setup(s);
    const base = fds(s.proc.pid);
    const id = 777;
    const pending = s.request('tools/call', { name: 'stream_events', arguments: { map_id: o.map.events, duration_ms: 20000 } }, { id, timeoutMs: 3000 });
    let replied = false;
    pending.then(() => { replied = true; }, () => { /* never answered: expected */ });
    await until('the stream to hold descriptors while it runs', () => fds(s.proc.pid) > base, 20000);
    const t0 = performance.now();
    assert.deepEqual((await s.request('ping', {})).result, {});
    s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'test' } });
    assert.deepEqual((await s.request('ping', {})).result, {});
    const dt = performance.now() - t0;
    assert.ok(dt < 100, `cancel + ping round trip ${dt.toFixed(1)} ms`);
    // (the job's objects are closed by a background thread: soon, not
    // necessarily before the ping's reply)
    await until('the stream\'s descriptors released', () => fds(s.proc.pid) === base, 20000);
    await sleep(300);
    assert.equal(replied, false, 'a cancelled call gets no reply');
    assert.ok(!s.lines.some((l) => l.id === id));
  });
});

test('progress notifications arrive in order with the request\'s token while it runs', async () => {
  await withServer(ARGS, async (s) => {
    const o = await setup(s);
    const r = await s.request('tools/call', { name: 'stream_events', arguments: { map_id: o.map.events, duration_ms: 650 }, _meta: { progressToken: 'tok-1' } });
    assert.equal(r.result.structuredContent.stopped_by, 'duration');
    const prog = s.notifications.filter((n) => n.method === 'notifications/progress');
    assert.ok(prog.length >= 4, `${prog.length} progress notifications`);
    assert.ok(prog.every((n) => n.params.progressToken === 'tok-1' && n.params.total === 650));
    const p = prog.map((n) => n.params.progress);
    for (let i = 1; i < p.length; i++) assert.ok(p[i] > p[i - 1], `progress ${p}`);
    const replyAt = s.lines.indexOf(r);
    assert.ok(prog.every((n) => s.lines.indexOf(n) < replyAt), 'all progress before the reply');
  });
});

test('stdin EOF during a stream: the server exits 0 promptly and frees what it loaded', async () => {
  const s = new Server(ARGS);
  await s.init();
  const o = await setup(s);
  s.request('tools/call', { name: 'stream_events', arguments: { map_id: o.map.events, duration_ms: 20000 } }).catch(() => {});
  await sleep(150);
  const t0 = performance.now();
  const ex = await s.close();
  assert.equal(ex.code, 0);
  assert.ok(performance.now() - t0 < 2000);
  // the exited process's program is freed by the kernel after it: poll up to 20 s
  await until('the exited server\'s program freed', () => !JSON.parse(sh('bpftool -j prog show')).some((p) => p.id === o.prog.emit), 20000, 50);
});

test('the jobs cap refuses one stream more than it allows, naming the limit', async () => {
  await withServer([...ARGS, '--limit', 'jobs=2'], async (s) => {
    const o = await setup(s);
    const a = s.ok('stream_events', { map_id: o.map.events, duration_ms: 600 });
    const b = s.ok('stream_events', { map_id: o.map.events, duration_ms: 600 });
    const c = await s.call('stream_events', { map_id: o.map.events, duration_ms: 600 });
    assert.equal(c.structuredContent.error.code, 'LIMIT_JOBS');
    assert.equal(c.structuredContent.error.context.limit, 'jobs');
    assert.equal((await a).stopped_by, 'duration');
    assert.equal((await b).stopped_by, 'duration');
  });
});

// The benchmark's object: one {pid, tid, comm, seq} record per close_range()
// of ring_producer, its `counters` [0] reserved, [1] ring full.
async function setupRing(s) {
  const o = await load(s, 'bench_ring');
  await s.ok('attach_program', { program_id: o.prog.emit, type: 'tracepoint', target: 'syscalls/sys_enter_close_range' });
  return o;
}

// (The text copy escapes every quote of the events: ~20 % more than the raw
// copy, more than the reply's fixed reserve once response_bytes is large.)
test('a reply filled to response_bytes fits it: the escaped text copy is counted', async () => {
  await withServer([...ARGS, '--limit', 'response_bytes=512K'], async (s) => {
    const o = await setupRing(s);
    sh(`${PRODUCER} 5000 0`);   // all 5000 wait in the ring before the stream starts
    assert.deepEqual([...counts(o.map.counters)], [[0, 5000], [1, 0]]);
    const r = await s.ok('stream_events', { handle: o.handle, map: 'events', struct: 'ring_event', max_events: 5000, duration_ms: 3000 });
    assert.equal(r.stopped_by, 'response_bytes');
    assert.ok(r.count > 1000 && r.count < 5000, `count ${r.count}`);
    assert.equal(r.count + r.dropped.full, 5000, 'the rest of the batch is consumed and counted');
    assert.deepEqual(r.events.map((e) => e.data.seq), [...Array(r.count).keys()]);
  });
});

test('a flood faster than decoding: duration_ms still ends the stream, and ping is answered meanwhile', async () => {
  const big = ['--limit', 'response_bytes=64M', '--limit', 'stream_events=10000000', '--limit', 'events_per_second=10000000'];
  await withServer([...ARGS, ...big], async (s) => {
    const o = await setupRing(s);
    const prod = spawn(PRODUCER, ['1000000000', '0', '4']);   // flat out for 4 s
    const exited = new Promise((res) => prod.on('exit', res));
    try {
      // the ring (8 MiB) fills: the producer outruns an absent reader (a
      // loaded machine takes longer to get there: waited for, not assumed)
      const before = await until('the ring full', () => { const c = counts(o.map.counters); return c.get(1) > 0 && c; }, 20000);
      // the reply's first bytes on stdout, timed here: parsing a reply of
      // many MiB in the test harness takes longer than the stream itself
      let replyAt = null, armed = false;
      const onData = () => { if (armed && replyAt === null) replyAt = performance.now(); };
      s.proc.stdout.on('data', onData);
      const t0 = performance.now();
      // short: a reply of what 50 ms decode stays a few MiB (filling
      // response_bytes takes several times as long)
      const call = s.ok('stream_events', { map_id: o.map.events, struct: 'ring_event', max_events: 10000000, duration_ms: 50 });
      await sleep(20);
      const p0 = performance.now();
      assert.deepEqual((await s.request('ping', {})).result, {});
      const pingMs = performance.now() - p0;
      armed = true;   // the next stdout bytes are the stream's reply
      const r = await call;
      s.proc.stdout.off('data', onData);
      const ms = replyAt - t0;
      const after = counts(o.map.counters);
      assert.equal(r.stopped_by, 'duration');
      assert.ok(ms < 500, `the 50 ms stream's reply began after ${ms.toFixed(0)} ms`);
      assert.ok(pingMs < 250, `ping during the stream took ${pingMs.toFixed(0)} ms`);
      assert.ok(r.count > 0 && r.count <= after.get(0), `count ${r.count}`);
      assert.ok(after.get(1) > before.get(1), 'the producer kept outrunning the stream');
      const seqs = r.events.map((e) => e.data.seq);
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], 'records in order, none twice');
    } finally {
      prod.kill();
      await exited;
    }
  });
});

// Ring buffer records delivered as JSON on stdout: stream_events against
// bpftrace (Debian's package), printing the same events in the same run.
//
// The events: tests/tools/ring_producer makes an exactly known number of
// close_range(seq, 0, BAD_FLAGS) calls (a syscall nothing else on the host
// makes at this rate; it fails at once, closing nothing), seq = 0, 1, ...
// - ebpf-mcp: tests/bpf/bench_ring.bpf.o (loaded and attached by
//   tests/tools/ring_load, which sizes its ring buffer) writes
//   {pid, tid, comm, seq} per call into a BPF ring buffer; stream_events
//   reads it by map_id and decodes each record through BTF struct
//   ring_event into JSON, in calls made back to back.
// - bpftrace: the same tracepoint, the same comm filter, printf of the same
//   four fields as one JSON object per line.
// Both sides are counted by what reaches the bench's end of the stdout
// pipe (stream_events: the records of each reply, which arrives when its
// call ends; bpftrace: its lines as they come); the producer's own count is
// the truth for loss. Every delivered record is checked after the clock
// stops (pid, tid, comm, seq in range, no seq twice).
//
// 1. throughput: the producer flat out for BENCH_RING_FLAT_S seconds (2);
//    records/s = records delivered / (producer start -> last record read).
// 2. loss at BENCH_RING_RATE records/s (100000) paced for BENCH_RING_PACED_S
//    seconds (3): produced minus delivered. The producer's achieved rate is
//    shown: a tracer whose per-event cost lands on the traced process slows
//    it below the target.
// Sizes: BENCH_RING_BT_PAGES (bpftrace's perf buffer pages per CPU, 64, its
// default), BENCH_RING_BYTES (our ring; default the same memory as
// bpftrace's buffers), BENCH_RING_CALL_MS (each stream_events call, 250).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.EBPF_MCP_BIN || path.join(ROOT, 'bin/ebpf-mcp');
const RING_LOAD = path.join(ROOT, 'build/test/tools/ring_load');
const RING_PRODUCER = path.join(ROOT, 'build/test/tools/ring_producer');
const RING_OBJ = path.join(ROOT, 'build/bpf/bench_ring.bpf.o');
const BPFTRACE = process.env.BPFTRACE || '/usr/bin/bpftrace';

const env = (k, d) => Number(process.env[k] || d);
const NCPU = os.cpus().length;
const PAGE = 4096;
const BT_PAGES = env('BENCH_RING_BT_PAGES', 64);               // bpftrace's own default
const pow2 = (x) => 2 ** Math.ceil(Math.log2(x));
// default: the same memory bpftrace's perf buffers get (pages x CPUs)
const RING_BYTES = env('BENCH_RING_BYTES', pow2(BT_PAGES * PAGE * NCPU));
const FLAT_S = env('BENCH_RING_FLAT_S', 2);
const RATE = env('BENCH_RING_RATE', 100000);
const PACED_S = env('BENCH_RING_PACED_S', 3);
// records reach stdout when a call returns: shorter calls, less waiting
// for the last one to end; longer calls, fewer replies
const CALL_MS = env('BENCH_RING_CALL_MS', 250);
const QUIET_MS = 500;          // bpftrace: no output this long after the producer ends = done
const MAX_CALL_EVENTS = 10000000;
const LIMITS = ['response_bytes=64M', `stream_events=${MAX_CALL_EVENTS}`, 'events_per_second=10000000'];
const COMM = 'ring_producer';
const BT_SCRIPT = `tracepoint:syscalls:sys_enter_close_range /comm == "${COMM}"/ ` +
  '{ printf("{\\"pid\\":%d,\\"tid\\":%d,\\"comm\\":\\"%s\\",\\"seq\\":%u}\\n", pid, tid, comm, args->fd); }';

const now = () => process.hrtime.bigint();
const sec = (ns) => Number(ns) / 1e9;
const f = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const k = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : String(Math.round(x)));
const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(2)} %` : '-');
const row = (cols, widths) => cols.map((c, i) => String(c)[i ? 'padStart' : 'padEnd'](widths[i])).join('  ');

// Calls onLine(buffer, arrival time) per newline-terminated line.
function lines(stream, onLine) {
  let chunks = [];
  stream.on('data', (d) => {
    const t = now();
    let s = 0, nl;
    while ((nl = d.indexOf(10, s)) >= 0) {
      chunks.push(d.subarray(s, nl));
      onLine(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), t);
      chunks = [];
      s = nl + 1;
    }
    if (s < d.length) chunks.push(d.subarray(s));
  });
}

// A child answering one JSON line per request line, in order.
function lineChild(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const queue = [];
  let waiter = null, failed = null;
  lines(p.stdout, (line, at) => {
    if (waiter) { const w = waiter; waiter = null; w.resolve({ line, at }); } else queue.push({ line, at });
  });
  const exit = new Promise((res) => p.on('exit', (code) => {
    failed = new Error(`${path.basename(cmd)} exited with ${code}`);
    if (waiter) waiter.reject(failed);
    res(code);
  }));
  const next = () => new Promise((resolve, reject) => {
    if (queue.length) resolve(queue.shift());
    else if (failed) reject(failed);
    else waiter = { resolve, reject };
  });
  const send = (s) => { p.stdin.write(s); return next(); };
  return { p, next, send, close: async () => { p.stdin.end(); await exit; } };
}

// CPU seconds a live process has used (utime + stime).
function cpuSeconds(pid) {
  try {
    const f2 = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f2[11]) + Number(f2[12])) / 100;
  } catch {
    return NaN;
  }
}

const hostDelta = (h0) => {
  const h1 = hostCpu();
  return { busy: h1.busy - h0.busy, all: h1.all - h0.all };
};

// CPU seconds the whole host spent busy (all CPUs) and in all, from /proc/stat.
function hostCpu() {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = v[3] + v[4];
  const all = v.reduce((a, b) => a + b, 0);
  return { busy: (all - idle) / 100, all: all / 100 };
}

function produce(n, rate, seconds) {
  const args = [String(n), String(rate), ...(seconds ? [String(seconds)] : [])];
  const t0 = now();
  const p = spawn(RING_PRODUCER, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  const done = new Promise((res, rej) => p.on('exit', (code) => (code === 0
    ? res({ ...JSON.parse(out), pid: p.pid, t0 })
    : rej(new Error(`ring_producer exited with ${code}: ${out}`)))));
  return { t0, pid: p.pid, done };
}

// The records each side delivered, checked against the producer.
function check(who, records, prod) {
  const seen = new Uint8Array(prod.produced);
  for (const r of records) {
    if (r.pid !== prod.pid || r.tid !== prod.pid || r.comm !== COMM || !(r.seq < prod.produced) || seen[r.seq]++)
      throw new Error(`${who}: unexpected record ${JSON.stringify(r)} (producer pid ${prod.pid}, ${prod.produced} made)`);
  }
}

const call = (id, args) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'stream_events', arguments: args } }) + '\n';
const TAIL = /"count":(\d+),"lost":(\d+),"dropped":\{"rate":(\d+),"full":(\d+),"too_big":(\d+)\},"filtered":(\d+),"stopped_by":"(\w+)"/;

// stream_events calls back to back until the producer has ended and a call
// brings nothing more (or all it made).
async function ours(n, rate, seconds) {
  const loader = lineChild(RING_LOAD, [RING_OBJ, String(RING_BYTES)]);
  const map = JSON.parse((await loader.next()).line);
  const srv = lineChild(BIN, LIMITS.flatMap((l) => ['--limit', l]));
  try {
    await srv.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {
      protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }) + '\n');
    const c0 = JSON.parse((await loader.send('\n')).line);
    const cpu0 = cpuSeconds(srv.p.pid);
    const args = (max) => ({ map_id: map.map_id, struct: 'ring_event', duration_ms: CALL_MS,
      max_events: Math.max(1, Math.min(MAX_CALL_EVENTS, max)) });
    const h0 = hostCpu();
    let id = 2, pending = srv.send(call(id, args(n)));
    const prod = produce(n, rate, seconds);
    let made = null;
    prod.done.then((r) => { made = r; }, () => {});
    const replies = [];
    const r = { delivered: 0, calls: 0, server_dropped: 0, last_at: null, stops: {} };
    for (;;) {
      const { line, at } = await pending;
      const m = TAIL.exec(line.subarray(Math.max(0, line.length - 4096)).toString());
      if (!m) throw new Error(`stream_events: ${line.subarray(0, 600)}`);
      const count = Number(m[1]);
      r.calls++;
      r.stops[m[7]] = (r.stops[m[7]] || 0) + 1;
      r.server_dropped += Number(m[3]) + Number(m[4]) + Number(m[5]);
      if (count) { r.delivered += count; r.last_at = at; replies.push(line); }
      const left = (made ? made.produced : n) - r.delivered;
      if (made && (left <= 0 || count === 0)) break;
      pending = srv.send(call(++id, args(left)));
    }
    r.cpu = cpuSeconds(srv.p.pid) - cpu0;
    r.host = hostDelta(h0);
    const prodRes = await prod.done;
    const c1 = JSON.parse((await loader.send('\n')).line);
    r.reserved = c1.reserved - c0.reserved;
    r.ring_full = c1.failed - c0.failed;
    if (r.reserved + r.ring_full !== prodRes.produced)
      throw new Error(`ebpf-mcp: the program saw ${r.reserved + r.ring_full} calls, the producer made ${prodRes.produced}`);
    const records = [];
    for (const line of replies) {
      const sc = JSON.parse(line).result.structuredContent;
      for (const e of sc.events) records.push(e.data);
    }
    if (records.length !== r.delivered) throw new Error(`ebpf-mcp: ${records.length} events, counts say ${r.delivered}`);
    check('ebpf-mcp', records, prodRes);
    return { ...r, prod: prodRes, wall: r.last_at ? sec(r.last_at - prodRes.t0) : NaN, map };
  } finally {
    await srv.close();
    await loader.close();
  }
}

// bpftrace until the producer has ended and its output has been quiet for
// QUIET_MS (or has every record), then SIGINT.
async function bpftrace(n, rate, seconds) {
  const bt = spawn(BPFTRACE, ['-e', BT_SCRIPT], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BPFTRACE_PERF_RB_PAGES: String(BT_PAGES), __BPFTRACE_NOTIFY_PROBES_ATTACHED: '1' },
  });
  const chunks = [];
  let newlines = 0, lastAt = null, err = '', stopping = false;
  bt.stdout.on('data', (d) => {
    chunks.push(d);
    if (!stopping) lastAt = now();
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) newlines++;
  });
  const exit = new Promise((res) => bt.on('exit', res));
  // bpftrace's test hook: written to stderr once every probe is attached
  await new Promise((res, rej) => {
    bt.stderr.on('data', (d) => { err += d; if (err.includes('__BPFTRACE_NOTIFY_PROBES_ATTACHED')) res(); });
    exit.then((code) => rej(new Error(`bpftrace exited with ${code}: ${err}`)));
  });
  const cpu0 = cpuSeconds(bt.pid);
  const h0 = hostCpu();
  const prod = await produce(n, rate, seconds).done;
  while (newlines < prod.produced + 1 && sec(now() - lastAt) * 1000 < QUIET_MS)
    await new Promise((res) => setTimeout(res, 20));
  const cpu = cpuSeconds(bt.pid) - cpu0;
  const host = hostDelta(h0);
  stopping = true;
  bt.kill('SIGINT');
  await exit;
  const records = [];
  let lostReported = 0;
  for (const l of Buffer.concat(chunks).toString().split('\n')) {
    if (l.startsWith('{')) records.push(JSON.parse(l));
    const lost = /^Lost (\d+) events/.exec(l);
    if (lost) lostReported += Number(lost[1]);
  }
  check('bpftrace', records, prod);
  return { delivered: records.length, lost_reported: lostReported, cpu, host, prod, wall: lastAt ? sec(lastAt - prod.t0) : NaN };
}

function bpftraceVersion() {
  try {
    const v = execFileSync(BPFTRACE, ['--version'], { encoding: 'utf8' }).trim();
    let deb = '';
    try { deb = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'bpftrace'], { encoding: 'utf8' }); } catch {}
    return `${v}${deb ? ` (Debian package ${deb})` : ''}`;
  } catch {
    return null;
  }
}

const lossRow = (name, r, W) => {
  const lost = r.prod.produced - r.delivered;
  return row([name, k(r.prod.produced), k(r.delivered), k(lost), pct(lost, r.prod.produced), `${k(r.prod.rate)}/s`], W);
};

// tracefs for the tracepoint (ring_load, bpftrace); debugfs, where
// bpftrace 0.17 looks for it first.
function mounts() {
  const have = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]);
  for (const [type, dir] of [['tracefs', '/sys/kernel/tracing'], ['debugfs', '/sys/kernel/debug']])
    if (!have.includes(dir)) execFileSync('mount', ['-t', type, type, dir]);
}

export async function ringBench() {
  for (const f2 of [RING_LOAD, RING_PRODUCER, RING_OBJ])
    if (!existsSync(f2)) {
      console.log(`\nring buffer -> JSON: needs ${path.relative(ROOT, f2)} (make bench builds it); skipped`);
      return;
    }
  mounts();
  const btv = existsSync(BPFTRACE) ? bpftraceVersion() : null;
  const paced = RATE * PACED_S;
  const big = 1e9;   // the flat-out producer stops on time, not count

  console.log(`\nring buffer -> JSON lines on stdout: stream_events vs bpftrace, ${NCPU} CPUs, kernel ${os.release()}`);
  console.log(`  events: close_range() by ${COMM} (tests/tools), record {pid, tid, comm, seq}, filtered on comm`);
  console.log(`  ebpf-mcp: BPF ring buffer of ${RING_BYTES / 1024} KiB (BENCH_RING_BYTES), read by stream_events ` +
    `{map_id, struct: "ring_event", duration_ms: ${CALL_MS}} in calls back to back;\n` +
    `            max_events = records still expected; --limit ${LIMITS.join(' ')}`);
  if (btv)
    console.log(`  bpftrace: ${btv}; printf through a perf event array of BPFTRACE_PERF_RB_PAGES=${BT_PAGES} pages ` +
      `x ${NCPU} CPUs = ${(BT_PAGES * PAGE * NCPU) / 1024} KiB (BENCH_RING_BT_PAGES), read through bcc's perf reader;\n` +
      '            stdout line-buffered (its default: one write per line);\n' +
      `            script: ${BT_SCRIPT}`);
  else
    console.log(`  bpftrace: not found at ${BPFTRACE} (bench/run.sh installs Debian's); its rows are missing`);

  const flatOurs = await ours(big, 0, FLAT_S);
  const flatBt = btv ? await bpftrace(big, 0, FLAT_S) : null;
  const W = [30, 10, 10, 9, 12, 9, 11, 11];
  console.log(`\nthroughput: producer flat out for ${FLAT_S} s; records/s = delivered / (producer start -> last record read)`);
  console.log(row(['', 'produced', 'delivered', 'wall', 'records/s', 'loss', 'CPU/record', 'producer'], W));
  const tput = (name, r) => row([name, k(r.prod.produced), k(r.delivered), `${f(r.wall)} s`, `${k(r.delivered / r.wall)}/s`,
    pct(r.prod.produced - r.delivered, r.prod.produced), `${f((r.cpu * 1e6) / r.delivered)} us`, `${k(r.prod.rate)}/s`], W);
  console.log(tput(`ebpf-mcp (${flatOurs.calls} calls)`, flatOurs));
  if (flatBt) console.log(tput('bpftrace', flatBt));
  if (flatBt)
    console.log(row(['ratio ebpf-mcp / bpftrace', '', '', '', `${f((flatOurs.delivered / flatOurs.wall) / (flatBt.delivered / flatBt.wall))}x`], W));

  const pacedOurs = await ours(paced, RATE, 0);
  const pacedBt = btv ? await bpftrace(paced, RATE, 0) : null;
  const L = [30, 10, 10, 9, 12, 16];
  console.log(`\nloss at ${k(RATE)} records/s paced, ${paced} records (${PACED_S} s at that rate)`);
  console.log(row(['', 'produced', 'delivered', 'lost', 'loss', 'producer made'], L));
  console.log(lossRow(`ebpf-mcp (${pacedOurs.calls} calls)`, pacedOurs, L));
  if (pacedBt) console.log(lossRow('bpftrace', pacedBt, L));

  const where = (r) => `ring full (bpf_ringbuf_reserve failed) ${r.ring_full}, consumed and dropped by the server ` +
    `${r.server_dropped}, left unread ${r.reserved - r.delivered - r.server_dropped}; calls ended by ` +
    Object.entries(r.stops).map(([s, c]) => `${s} x${c}`).join(', ');
  const host = (r) => `${f(r.host.busy)} of ${f(r.host.all)} CPU-s`;
  const perCall = (r) => `${f(1e6 / r.prod.rate)} us`;
  console.log(`producer time per call flat out (syscall + the tracer's BPF side, in the traced process): ` +
    `${perCall(flatOurs)} with ebpf-mcp's program${flatBt ? `, ${perCall(flatBt)} with bpftrace's` : ''}`);
  console.log('CPU/record: the consumer process\'s CPU time (ebpf-mcp or bpftrace) per delivered record; producer: ' +
    'the rate the producer reached (the BPF side of each tracer runs in its context)');
  console.log(`host CPU busy (all processes) during the runs: flat out ${host(flatOurs)}${flatBt ? ` / ${host(flatBt)}` : ''}; ` +
    `paced ${host(pacedOurs)}${pacedBt ? ` / ${host(pacedBt)}` : ''} (ebpf-mcp / bpftrace)`);
  console.log(`ebpf-mcp losses, flat out: ${where(flatOurs)}`);
  console.log(`ebpf-mcp losses, paced:    ${where(pacedOurs)}`);
  if (flatBt)
    console.log(`bpftrace "Lost N events" reported: flat out ${flatBt.lost_reported}, paced ${pacedBt.lost_reported}`);
  console.log('(every delivered record was checked: producer pid/tid, comm, seq in range, no seq twice; ' +
    'the BPF counters of ring_load saw every call the producer made)');
}

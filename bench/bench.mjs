// Side-by-side benchmarks, printed as one table (run through bench/run.sh).
//
// 1. exec -> initialize reply: the time from spawn() to the first reply line
//    for bin/ebpf-mcp and for bench/node-server.mjs (the SDK's McpServer),
//    RUNS times each, interleaved so both see the same machine state; median,
//    p90 and the ratio. The spawn floor (exec of `ebpf-mcp --version` to its
//    line, same harness) is shown so the harness's own cost is visible; the server's
//    own share is the difference.
// 2. get_btf_types {name:"task_struct"}, if tools/list has it: cold = the
//    first call in a fresh process (BTF load included), median over COLD_RUNS
//    processes; warm = median of WARM_CALLS repeated calls in one process.
//    Both are request -> reply times, initialize excluded.
// 3. map_dump of a 1M-entry hash map (u32 -> u64 with BTF, made and filled
//    by tests/tools/map_fill) against `bpftool -j map dump` of the same map
//    at its best (run by sh with its output to /dev/null) and against the
//    floor, the same entries read with BPF_MAP_LOOKUP_BATCH into memory and
//    nothing else (tests/tools/map_floor, its batch calls timed), five runs
//    of the three back to back, with the ratios of each run. map_dump is
//    timed by tests/tools/map_pager: every page through the cursor
//    (map_entries 100000 per page, response_bytes 64M) from the first
//    request to the last byte of the last reply, each reply read into memory
//    and only its tail scanned for count and cursor. Once more through a Node
//    reader (first page parsed off the clock and its values checked), and
//    with read "iterate".
// 4. ring buffer records delivered as JSON on stdout, stream_events against
//    bpftrace: throughput and loss at 100k records/s (bench/ring.mjs).
// 5. ping round trips while other sessions load, attach, run and cancel
//    tracers: the daemon with 1, 4 and 16 of them, against a stdio server of
//    the release before the daemon doing the same in its one session
//    (bench/ping.mjs).
// 6. Streamable HTTP: requests/s and p50/p99 of tools/call info and
//    tools/list at 1, 16 and 64 keep-alive clients, both eras, against the
//    official SDK's StreamableHTTPServerTransport (bench/ref/
//    sdk-http-server.mjs), and RSS with 1000 idle sessions (bench/http.mjs).
//
// Arguments pick sections (default: all): startup, map_dump, btf, ring, ping, http;
// e.g. `bench/run.sh ring`.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ringBench } from './ring.mjs';
import { pingBench } from './ping.mjs';
import { httpBench } from './http.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAP_FILL = path.join(ROOT, 'build/test/tools/map_fill');
const MAP_PAGER = path.join(ROOT, 'build/test/tools/map_pager');
const MAP_FLOOR = path.join(ROOT, 'build/test/tools/map_floor');
const MAP_RUNS = Number(process.env.BENCH_MAP_RUNS || 5);
const BPFTOOL = process.env.BPFTOOL || '/usr/sbin/bpftool';
const MAP_ENTRIES = Number(process.env.BENCH_MAP_ENTRIES || 1000000);
const BIN = process.env.EBPF_MCP_BIN || path.join(ROOT, 'bin/ebpf-mcp');
const NODE_SERVER = path.join(ROOT, 'bench/node-server.mjs');
const RUNS = Number(process.env.BENCH_RUNS || 30);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS || 10);
const WARM_CALLS = Number(process.env.BENCH_WARM_CALLS || 30);
const SECTIONS = ['startup', 'map_dump', 'btf', 'ring', 'ping', 'http'];
const ONLY = process.argv.slice(2);
for (const s of ONLY)
  if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(', ')}`);
const want = (s) => !ONLY.length || ONLY.includes(s);

const INIT = JSON.stringify({
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
}) + '\n';

const ms = (ns) => Number(ns) / 1e6;
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function vmhwmKiB(pid) {
  try {
    return Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  } catch {
    return NaN;
  }
}

// A child speaking newline-delimited JSON-RPC, with a promise per reply id.
class Peer {
  constructor(cmd, args) {
    this.t0 = process.hrtime.bigint();
    this.p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    this.waiting = new Map();
    this.buf = '';
    this.p.stdout.setEncoding('utf8');
    this.p.stdout.on('data', (d) => {
      const now = process.hrtime.bigint();
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
        const w = this.waiting.get(msg.id);
        if (w) { this.waiting.delete(msg.id); w({ msg, at: now }); }
      }
    });
    this.exit = new Promise((res) => this.p.on('exit', res));
  }

  // Sends and resolves with { msg, ns } (request written -> reply read).
  call(id, line) {
    return new Promise((resolve) => {
      const t = process.hrtime.bigint();
      this.waiting.set(id, ({ msg, at }) => resolve({ msg, ns: at - t, at }));
      this.p.stdin.write(line);
    });
  }

  async close() { this.p.stdin.end(); await this.exit; }
}

async function startup(cmd, args) {
  const peer = new Peer(cmd, args);
  const { msg, at } = await peer.call(1, INIT);
  if (!msg.result?.protocolVersion) throw new Error(`${cmd}: bad initialize reply ${JSON.stringify(msg)}`);
  const rss = vmhwmKiB(peer.p.pid);
  await peer.close();
  return { ms: ms(at - peer.t0), rssKiB: rss };
}

// The harness's own cost: the same static binary asked for --version writes
// one line at once and exits; time it to that line, exactly as the servers.
async function spawnFloor() {
  const t0 = process.hrtime.bigint();
  const p = spawn(BIN, ['--version'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const at = await new Promise((res) => p.stdout.once('data', () => res(process.hrtime.bigint())));
  await new Promise((res) => p.on('exit', res));
  return ms(at - t0);
}

const call = (id, name, args) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) + '\n';

async function listTools() {
  const peer = new Peer(BIN, ['--profile', 'full']);
  await peer.call(1, INIT);
  const names = [];
  let cursor;
  let id = 2;
  do {
    const { msg } = await peer.call(id, JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params: cursor ? { cursor } : {} }) + '\n');
    names.push(...msg.result.tools.map((t) => t.name));
    cursor = msg.result.nextCursor;
    id++;
  } while (cursor);
  await peer.close();
  return names;
}

async function btf() {
  const args = { name: 'task_struct' };
  const cold = [];
  for (let k = 0; k < COLD_RUNS; k++) {
    const peer = new Peer(BIN, []);
    await peer.call(1, INIT);
    const { msg, ns } = await peer.call(2, call(2, 'get_btf_types', args));
    if (msg.error || msg.result.isError) throw new Error(`get_btf_types: ${JSON.stringify(msg.error ?? msg.result.structuredContent)}`);
    cold.push(ms(ns));
    if (k === 0) cold.rss = vmhwmKiB(peer.p.pid);
    await peer.close();
  }
  const peer = new Peer(BIN, []);
  await peer.call(1, INIT);
  await peer.call(2, call(2, 'get_btf_types', args));          // load BTF
  const warm = [];
  for (let k = 0; k < WARM_CALLS; k++) warm.push(ms((await peer.call(3 + k, call(3 + k, 'get_btf_types', args))).ns));
  const rss = vmhwmKiB(peer.p.pid);
  await peer.close();
  return { cold, warm, coldRss: cold.rss, warmRss: rss };
}

const f = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const row = (cols, widths) => cols.map((c, k) => String(c)[k ? 'padStart' : 'padEnd'](widths[k])).join('  ');

// Raw reply lines (no JSON.parse of multi-megabyte pages) by id.
class RawPeer {
  constructor(args) {
    this.p = spawn(BIN, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    this.chunks = [];
    this.waiting = null;
    this.p.stdout.on('data', (d) => {
      let nl = d.indexOf(10);
      if (nl < 0) { this.chunks.push(d); return; }
      let start = 0;
      while (nl >= 0) {
        this.chunks.push(d.subarray(start, nl));
        const line = Buffer.concat(this.chunks);
        this.chunks = [];
        const w = this.waiting;
        this.waiting = null;
        if (w) w(line);
        start = nl + 1;
        nl = d.indexOf(10, start);
      }
      if (start < d.length) this.chunks.push(d.subarray(start));
    });
    this.exit = new Promise((res) => this.p.on('exit', res));
  }

  call(line) {
    return new Promise((resolve) => { this.waiting = resolve; this.p.stdin.write(line); });
  }

  async close() { this.p.stdin.end(); await this.exit; }
}

// The numbers a tests/tools program printed on its one line.
function figures(out, n) {
  const v = out.trim().split(/\s+/).map(Number);
  if (v.length !== n || v.some((x) => !Number.isFinite(x))) throw new Error(`unexpected output: ${out}`);
  return v;
}

// Every page of map_dump; returns { ms, pages, entries, bytes, read, first }.
async function dumpPages(pinPath, read) {
  const peer = new RawPeer(['--limit', 'map_entries=100000', '--limit', 'response_bytes=64M']);
  await peer.call(INIT);
  let cursor, pages = 0, entries = 0, bytes = 0, first = null, how = null;
  const t0 = process.hrtime.bigint();
  for (let id = 2; ; id++) {
    const args = { pin_path: pinPath, limit: 100000, read, ...(cursor ? { cursor } : {}) };
    const line = await peer.call(call(id, 'map_dump', args));
    bytes += line.length;
    pages++;
    // The raw structuredContent follows the escaped text copy: its members
    // are the unescaped ones, near the line's end.
    const tail = line.subarray(Math.max(0, line.length - 4096)).toString();
    const count = /"count":(\d+),"read":"(\w+)","done":(true|false)/.exec(tail);
    if (!count) throw new Error(`map_dump page ${pages}: ${line.subarray(0, 400)}`);
    if (!first) first = line;   // parsed after the clock stops
    entries += Number(count[1]);
    how = count[2];
    if (count[3] === 'true') break;
    cursor = /"next_cursor":"([^"]+)"/.exec(tail)[1];
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await peer.close();
  return { ms, pages, entries, bytes, read: how, first: JSON.parse(first).result.structuredContent };
}

async function mapDumpBench() {
  if (![MAP_FILL, MAP_PAGER, MAP_FLOOR, BPFTOOL].every(existsSync)) {
    console.log('\nmap_dump: needs build/test/tools/{map_fill,map_pager,map_floor} and bpftool; skipped');
    return;
  }
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  if (!mounts.split('\n').some((l) => l.split(' ')[1] === '/sys/fs/bpf'))
    execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  const pin = `/sys/fs/bpf/bench_map_dump_${process.pid}`;
  try {
    const t0 = process.hrtime.bigint();
    const id = execFileSync(MAP_FILL, [pin, 'hash', String(MAP_ENTRIES), String(MAP_ENTRIES)], { encoding: 'utf8' }).trim();
    const fillMs = Number(process.hrtime.bigint() - t0) / 1e6;

    const ours = await dumpPages(pin, 'auto');
    const iter = await dumpPages(pin, 'iterate');
    for (const r of [ours, iter])
      if (r.entries !== MAP_ENTRIES) throw new Error(`map_dump returned ${r.entries} entries, want ${MAP_ENTRIES}`);
    for (const e of ours.first.entries)
      if (e.value !== e.key * 1000 + 7) throw new Error(`map_dump: key ${e.key} has value ${e.value}`);

    // Five runs, each of the three back to back so they see the same machine.
    const runs = [];
    let btBytes = 0, pagerBytes = 0, pages = 0;
    for (let k = 0; k < MAP_RUNS; k++) {
      const b0 = process.hrtime.bigint();
      const bt = spawnSync('sh', ['-c', `exec ${BPFTOOL} -j map dump pinned ${pin} > /dev/null`]);
      const btMs = Number(process.hrtime.bigint() - b0) / 1e6;
      if (bt.status !== 0) throw new Error(`bpftool: ${bt.stderr}`);
      const pg = figures(execFileSync(MAP_PAGER, [BIN, pin, '100000', '--limit', 'map_entries=100000',
        '--limit', 'response_bytes=64M'], { encoding: 'utf8' }), 5);
      const fl = figures(execFileSync(MAP_FLOOR, [pin], { encoding: 'utf8' }), 3);
      if (pg[0] !== MAP_ENTRIES || fl[0] !== MAP_ENTRIES)
        throw new Error(`map_pager read ${pg[0]} entries, map_floor ${fl[0]}; want ${MAP_ENTRIES}`);
      pages = pg[1], pagerBytes = pg[2];
      runs.push({ bt: btMs, ours: pg[3] / 1e6, floor: fl[1] / 1e6, oursCpu: pg[4] / 1e6, floorCpu: fl[2] / 1e6 });
    }
    btBytes = spawnSync(BPFTOOL, ['-j', 'map', 'dump', 'pinned', pin], { maxBuffer: 1 << 30 }).stdout.length;

    const W = [44, 12, 8, 10];
    console.log(`\nmap_dump of a ${MAP_ENTRIES}-entry hash map (id ${id}, u32 -> u64 with BTF; filled in ${f(fillMs)} ms)`);
    console.log(row(['', 'median', 'pages', 'output'], W));
    const med = (key) => median(runs.map((r) => r[key]));
    console.log(row(['bpftool -j map dump > /dev/null (sh)', `${f(med('bt'))} ms`, '1', `${(btBytes / 1048576).toFixed(1)} MiB`], W));
    console.log(row(['map_dump, batch, all pages (map_pager)', `${f(med('ours'))} ms`, String(pages), `${(pagerBytes / 1048576).toFixed(1)} MiB`], W));
    console.log(row(['floor: LOOKUP_BATCH into memory (map_floor)', `${f(med('floor'))} ms`, '', ''], W));
    console.log(row([`map_dump, read ${ours.read}, all pages (node reader)`, `${f(ours.ms)} ms`, String(ours.pages), `${(ours.bytes / 1048576).toFixed(1)} MiB`], W));
    console.log(row([`map_dump, read ${iter.read}, all pages (node reader)`, `${f(iter.ms)} ms`, String(iter.pages), `${(iter.bytes / 1048576).toFixed(1)} MiB`], W));
    console.log(`(map_dump output counts both copies of each page: the text block and structuredContent)`);
    const toBt = runs.map((r) => r.bt / r.ours), toFloor = runs.map((r) => r.ours / r.floor);
    console.log(`runs: bpftool / map_dump  ${toBt.map((x) => `${f(x)}x`).join('  ')}`);
    console.log(`runs: map_dump / floor    ${toFloor.map((x) => `${f(x)}x`).join('  ')}`);
    // CPU time (the server's whole life against the floor's process): what
    // the work costs when other load on the machine stretches the elapsed times
    console.log(`runs: CPU map_dump / floor ${runs.map((r) => `${f(r.oursCpu / r.floorCpu)}x`).join('  ')}` +
      ` (median ${f(med('oursCpu'))} vs ${f(med('floorCpu'))} ms)`);
    const met = toBt.every((x) => x >= 5) && toFloor.every((x) => x <= 2);
    console.log(`target: map_dump >= 5x faster than bpftool and within 2x of the floor in every run: ${met ? 'met' : 'MISSED'}`);
  } finally {
    execFileSync('rm', ['-f', pin]);
  }
}

async function startupBench() {
  // warm the page cache and the SDK's module files once, unmeasured
  await startup(BIN, []);
  await startup(process.execPath, [NODE_SERVER]);
  const ours = [], node = [], floor = [], oursRss = [], nodeRss = [];
  for (let k = 0; k < RUNS; k++) {
    const a = await startup(BIN, []);
    const b = await startup(process.execPath, [NODE_SERVER]);
    ours.push(a.ms); oursRss.push(a.rssKiB);
    node.push(b.ms); nodeRss.push(b.rssKiB);
    floor.push(await spawnFloor());
  }
  const W = [38, 10, 10, 10];
  console.log(`\nexec -> initialize reply, ${RUNS} runs each (interleaved)`);
  console.log(row(['', 'median', 'p90', 'peak RSS'], W));
  console.log(row(['bin/ebpf-mcp', `${f(median(ours))} ms`, `${f(quantile(ours, 0.9))} ms`, `${(median(oursRss) / 1024).toFixed(1)} MiB`], W));
  console.log(row(['node + SDK McpServer (1 tool)', `${f(median(node))} ms`, `${f(quantile(node, 0.9))} ms`, `${(median(nodeRss) / 1024).toFixed(1)} MiB`], W));
  console.log(row(['ratio node / ebpf-mcp', `${f(median(node) / median(ours))}x`, `${f(quantile(node, 0.9) / quantile(ours, 0.9))}x`, `${f(median(nodeRss) / median(oursRss))}x`], W));
  console.log(row(['spawn floor (ebpf-mcp --version)', `${f(median(floor))} ms`, `${f(quantile(floor, 0.9))} ms`, ''], W));
  const own = median(ours) - median(floor);
  console.log(row(['ebpf-mcp minus floor (its own share)', own < 0.1 ? '< 0.1 ms' : `${f(own)} ms`, '', ''], W));
  const fast = median(ours) < 2, ratio = median(node) / median(ours) > 100;
  console.log(`targets: ebpf-mcp < 2 ms: ${fast ? 'met' : 'MISSED'}; > 100x faster than node: ${ratio ? 'met' : 'MISSED'}`);
}

async function btfBench(tools) {
  if (!tools.includes('get_btf_types')) {
    console.log('\nget_btf_types: not in tools/list of this build; skipped');
    return;
  }
  const r = await btf();
  const W = [38, 10, 10, 10];
  console.log(`\nget_btf_types {name:"task_struct"}, request -> reply`);
  console.log(row(['', 'median', 'p90', 'peak RSS'], W));
  console.log(row([`cold (first call, ${COLD_RUNS} fresh processes)`, `${f(median(r.cold))} ms`, `${f(quantile(r.cold, 0.9))} ms`, `${(r.coldRss / 1024).toFixed(1)} MiB`], W));
  console.log(row([`warm (${WARM_CALLS} calls, one process)`, `${f(median(r.warm))} ms`, `${f(quantile(r.warm, 0.9))} ms`, `${(r.warmRss / 1024).toFixed(1)} MiB`], W));
}

async function main() {
  if (want('startup')) await startupBench();
  const tools = await listTools();
  if (want('map_dump') && tools.includes('map_dump')) await mapDumpBench();
  if (want('btf')) await btfBench(tools);
  if (want('ring') && tools.includes('stream_events')) await ringBench();
  if (want('ping')) await pingBench();
  if (want('http')) await httpBench();
}

await main();

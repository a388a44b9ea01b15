// Soak (not a test, not part of bench/run.sh's default sections): N mixed
// requests, errors included, over stdio and then over the daemon's socket,
// pipelined SOAK_WINDOW deep; every request gets exactly one reply line,
// which is counted (and the error ones checked for their code) but not
// otherwise parsed. The server's RSS (VmRSS) and open fd count are printed
// every SOAK_EVERY requests, read from /proc, so a leak shows as a slope.
//
//   node bench/soak.mjs            # 10^6 requests each way
//   SOAK_REQUESTS=100000 node bench/soak.mjs
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.EBPF_MCP_BIN || path.join(ROOT, 'bin/ebpf-mcp');
const N = Number(process.env.SOAK_REQUESTS || 1000000);
const EVERY = Number(process.env.SOAK_EVERY || 100000);
const WINDOW = Number(process.env.SOAK_WINDOW || 256);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const INIT = JSON.stringify({
  jsonrpc: '2.0', id: 0, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'soak', version: '1' } },
});

// The mix, one kind per request in turn: [line for id, JSON-RPC error code
// the reply must carry or null, a tool error expected (isError)].
const call = (id, name, args) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const MIX = [
  (id) => [JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }), null, false],
  (id) => [call(id, 'info', {}), null, false],
  (id) => [JSON.stringify({ jsonrpc: '2.0', id, method: 'no/such/method' }), -32601, false],
  (id) => [call(id, 'map_dump', { map_id: 0x7fffffff }), null, true],            // no such map: a tool error
  (id) => [call(id, 'info', { unexpected: 1 }), -32602, false],                 // schema refuses
  () => ['{"jsonrpc":"2.0","id":', -32700, false],                              // not JSON
  (id) => [call(id, 'no_such_tool', {}), -32602, false],
  (id) => [JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' }), null, false],
];

function procFigures(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return { rssKiB: rss, fds: readdirSync(`/proc/${pid}/fd`).length };
}

// Sends n requests on out, reading replies from inp; prints figures of pid.
async function soak(label, inp, out, pid) {
  let buf = '', got = 0, bad = 0;
  const want = [];   // the error codes the mix asks for (replies may come out of order: only codes are checked)
  let wake = null;
  inp.setEncoding('utf8');
  inp.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /"error":\{"code":(-?\d+)/.exec(line.slice(0, 200));
      const code = m ? Number(m[1]) : null;
      if (code !== null && !want.includes(code)) bad++;
      got++;
    }
    if (wake) { const w = wake; wake = null; w(); }
  });
  for (const k of MIX) { const c = k(1)[1]; if (c !== null) want.push(c); }
  const rows = [];
  const t0 = Date.now();
  const first = procFigures(pid);
  rows.push([0, first]);
  console.log(`${label}: ${'requests'.padStart(9)} ${'RSS KiB'.padStart(9)} ${'fds'.padStart(5)} ${'s'.padStart(7)}`);
  console.log(`${label}: ${'0'.padStart(9)} ${String(first.rssKiB).padStart(9)} ${String(first.fds).padStart(5)} ${'0'.padStart(7)}`);
  for (let sent = 0; sent < N;) {
    let chunk = '';
    const upto = Math.min(N, got + WINDOW);
    for (; sent < upto; sent++) chunk += MIX[sent % MIX.length](sent + 1)[0] + '\n';
    if (chunk) out.write(chunk);
    while (got < Math.min(sent, N) - WINDOW / 2 || (sent === N && got < N)) await new Promise((r) => { wake = r; });
    if (Math.floor(got / EVERY) > rows.length - 1 || got === N) {
      const f = procFigures(pid);
      rows.push([got, f]);
      console.log(`${label}: ${String(got).padStart(9)} ${String(f.rssKiB).padStart(9)} ${String(f.fds).padStart(5)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(7)}`);
    }
  }
  const last = rows[rows.length - 1][1];
  console.log(`${label}: ${got} replies to ${N} requests, ${bad} with an unexpected error code; ` +
    `RSS ${first.rssKiB} -> ${last.rssKiB} KiB, fds ${first.fds} -> ${last.fds}, ` +
    `${Math.round(N / ((Date.now() - t0) / 1000))} requests/s`);
}

async function initialized(inp, out) {
  return new Promise((res) => {
    let b = '';
    const on = (d) => { b += d; if (b.includes('\n')) { inp.off('data', on); res(); } };
    inp.on('data', on);
    out.write(INIT + '\n');
  });
}

async function stdio() {
  const p = spawn(BIN, [], { stdio: ['pipe', 'pipe', 'ignore'] });
  await initialized(p.stdout, p.stdin);
  await soak('stdio ', p.stdout, p.stdin, p.pid);
  p.stdin.end();
  await new Promise((r) => p.on('exit', r));
}

async function socket() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-soak-'));
  const sock = path.join(dir, 's.sock');
  const d = spawn(BIN, ['serve', '--socket', sock], { stdio: 'ignore' });
  try {
    while (!existsSync(sock)) await sleep(5);
    const c = net.createConnection(sock);
    await new Promise((res, rej) => { c.once('connect', res); c.once('error', rej); });
    await initialized(c, c);
    await soak('socket', c, c, d.pid);
    c.end();
  } finally {
    d.kill('SIGTERM');
    await new Promise((r) => d.on('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await stdio();
await socket();

// tcp_retransmits against the kernel's own counters. Two network namespaces
// joined by a veth pair, a client in one and a server in the other; an XDP
// program of the test's own (tests/bpf/tcp_drop.bpf.c, loaded and attached
// by a server running inside each namespace) drops the client's first SYN,
// the server's first SYN-ACK and every 8th data segment (at most 5), so TCP
// must send them again. Each namespace has its own RetransSegs counter
// (/proc/net/snmp) and nothing else runs in it, so the equality is exact:
//
//   RetransSegs(ns) = sum of `segments` over the retransmits seen of the
//                     sockets in ns + segments of attempts that failed
//                     after the counting point (none here: nothing local
//                     refuses a packet; only the peer's XDP drops them)
//
// Attempts that fail before that point (EBUSY while the first copy is still
// in the host's queue, ...) are not counted by the kernel; kernels whose
// tracepoint carries err report them as failed, outside `segments`.
//
// The kernel counts segments (tcp_skb_pcount: one resent skb may stand for
// several), and counts SYN-ACKs (tcp_retransmit_synack, not
// tcp_retransmit_skb): the tracer reads both. TcpExt TCPSynRetrans (SYN and
// SYN-ACK resends) must equal the SYN and SYN-ACK retransmits seen, and the
// drop program's own counts bound what was resent from below.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, withServer, ensureMounts, sh } from '../lib/mcp.mjs';
import { OBJ_DIR, sleep, makeCgroup } from '../lib/kern.mjs';
import { Lines, track, reap } from '../lib/workload.mjs';

const FULL = ['--profile', 'full', '--object-dir', OBJ_DIR];
const TAG = `tr${process.pid % 100000}`;
const NS = { c: `${TAG}c`, s: `${TAG}s` };
const DEV = { c: `${TAG}c0`, s: `${TAG}s0` };
const OCT = process.pid % 250;
const ADDR = {
  ipv4: { c: `10.215.${OCT}.1`, s: `10.215.${OCT}.2` },
  ipv6: { c: `fd15:${OCT.toString(16)}::1`, s: `fd15:${OCT.toString(16)}::2` },
};
const PORT = 5000 + (process.pid % 1000);
const BYTES = 300000;
const TRACE_MS = 8000;   // the transfers take 1-3 s here (two 1 s handshake timeouts)

function cleanup() {
  for (const ns of Object.values(NS)) { try { sh(`ip netns del ${ns}`); } catch { /* not there */ } }
}

before(() => {
  ensureMounts();
  cleanup();
  for (const ns of Object.values(NS)) sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
  sh(`ip -n ${NS.c} link add ${DEV.c} type veth peer name ${DEV.s} netns ${NS.s}`);
  for (const k of ['c', 's']) {
    sh(`ip -n ${NS[k]} addr add ${ADDR.ipv4[k]}/24 dev ${DEV[k]}`);
    sh(`ip -n ${NS[k]} addr add ${ADDR.ipv6[k]}/64 dev ${DEV[k]} nodad`);
    sh(`ip -n ${NS[k]} link set ${DEV[k]} up`);
  }
});
after(async () => { await reap(); cleanup(); });

// /proc/net/snmp and /proc/net/netstat of a namespace as { 'Tcp.RetransSegs': n, ... }.
function counters(ns) {
  const out = {};
  for (const file of ['snmp', 'netstat']) {
    const lines = sh(`ip netns exec ${ns} cat /proc/net/${file}`).trim().split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const [head, vals] = [lines[i].split(/\s+/), lines[i + 1].split(/\s+/)];
      head.slice(1).forEach((k, j) => { out[`${head[0].slice(0, -1)}.${k}`] = Number(vals[j + 1]); });
    }
  }
  return out;
}

// A server inside ns holding the drop program on its interface (set by
// config); returns it and a reader of what the program dropped.
async function dropper(ns, dev, config) {
  const srv = new Server(FULL, { wrap: ['ip', 'netns', 'exec', ns] });
  await srv.init();
  const o = await srv.ok('load_program', { path: path.join(OBJ_DIR, 'tcp_drop.bpf.o') });
  // every global starts at 0, so all live in .bss: the settings and the counts
  const bss = o.maps.find((m) => m.name.endsWith('.bss'));
  const zero = { every: 0, data_max: 0, syn_drops: 0, synack_drops: 0, data_seen: 0, data_dropped: 0, syn_dropped: 0, synack_dropped: 0 };
  await srv.ok('map_update', { map_id: bss.id, entries: [{ key: '00000000', value: { ...zero, port: PORT, ...config } }] });
  const l = await srv.ok('attach_program', { program_id: o.programs[0].id, type: 'xdp', interface: dev });
  assert.ok(l.link_id > 0);
  return {
    srv,
    async counts() { return (await srv.ok('map_lookup', { map_id: bss.id, keys: ['00000000'] })).results[0].value; },
  };
}

const NODE_SERVER = `const net=require('net');const [host,port]=process.argv.slice(1);
const s=net.createServer((c)=>{let n=0;c.on('data',(d)=>{n+=d.length;});c.on('end',()=>c.end(String(n)));});
s.listen(+port,host,()=>process.stdout.write('listening\\n'));`;
const NODE_CLIENT = `const net=require('net');const [host,port,bytes]=process.argv.slice(1);
process.stdout.write('ready\\n');
process.stdin.once('data',()=>{let got='';const c=net.connect({host,port:+port},()=>c.end(Buffer.alloc(+bytes,120)));
c.on('data',(d)=>{got+=d;});c.on('close',()=>{process.stdout.write('got '+got+'\\n');process.exit(0);});});`;

function inNs(ns, code, args) {
  const child = track(spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code, ...args], { stdio: ['pipe', 'pipe', 'inherit'] }));
  return { child, lines: new Lines(child.stdout) };
}

// No TCP connection of the namespace is alive (nothing left to resend).
async function quiet(ns) {
  for (let i = 0; i < 300; i++) {
    const states = sh(`ip netns exec ${ns} ss -tanH`).trim().split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]);
    if (states.every((st) => st === 'LISTEN' || st === 'TIME-WAIT')) return;
    await sleep(50);
  }
  assert.fail(`${ns}: connections still open`);
}

test('tcp_retransmits: SYN, SYN-ACK and data segments dropped on a veth are seen resent, equal to RetransSegs in each namespace; pid and cgroup filters', async (t) => {
  const cg = makeCgroup(`${TAG}-retrans`);
  t.after(() => cg.cleanup());
  const dropS = await dropper(NS.s, DEV.s, { every: 8, data_max: 5, syn_drops: 1 });
  const dropC = await dropper(NS.c, DEV.c, { synack_drops: 1 });
  try {
    await withServer([], async (s) => {
      const clients = ['ipv4', 'ipv6'].map((f) => inNs(NS.c, NODE_CLIENT, [ADDR[f].s, String(PORT), String(BYTES)]));
      for (const x of clients) assert.equal(await x.lines.next('client'), 'ready');
      const before0 = { c: counters(NS.c), s: counters(NS.s) };
      // the socket's cgroup is where its creator was: the IPv4 client joins it before connecting
      writeFileSync(path.join(cg.dir, 'cgroup.procs'), String(clients[0].child.pid));
      const call = (args, id) => s.request('tools/call', { name: 'tcp_retransmits', arguments: { duration_ms: TRACE_MS, ...args }, _meta: { progressToken: id } }, { id });
      const runs = [call({ port: PORT }, 'all'), call({ port: PORT, pid: clients[0].child.pid }, 'pid'), call({ cgroup: cg.dir }, 'cgroup')];
      for (const id of ['all', 'pid', 'cgroup']) {
        for (let i = 0; !s.notifications.some((n) => n.params?.progressToken === id); i++) { assert.ok(i < 500, id); await sleep(10); }
      }
      // listen() and connect() after the tracers are attached: their owners are known
      const servers = ['ipv4', 'ipv6'].map((f) => inNs(NS.s, NODE_SERVER, [ADDR[f].s, String(PORT)]));
      for (const x of servers) assert.equal(await x.lines.next('server'), 'listening');
      const t0 = Date.now();
      for (const x of clients) x.child.stdin.write('go\n');
      for (const x of clients) assert.equal(await x.lines.next('client'), `got ${BYTES}`);
      await quiet(NS.c);
      await quiet(NS.s);
      const after0 = { c: counters(NS.c), s: counters(NS.s) };
      t.diagnostic(`transfers done in ${Date.now() - t0} ms`);
      // every retransmit happened while the tracers ran (they began before t0)
      assert.ok(Date.now() - t0 < TRACE_MS - 500, `the transfers outlasted the tracing window: ${Date.now() - t0} ms`);
      const [all, byPid, byCg] = (await Promise.all(runs)).map((r) => {
        assert.equal(r.result?.isError, false, JSON.stringify(r.result?.structuredContent ?? r.error));
        return r.result.structuredContent;
      });
      for (const x of [...servers, ...clients]) x.child.kill();
      const dS = await dropS.counts(), dC = await dropC.counts();
      t.diagnostic(`dropped: ${JSON.stringify(dS)} ${JSON.stringify(dC)}`);
      assert.equal(all.stopped_by, 'duration');
      assert.equal(all.dropped.full + all.dropped.kernel, 0, 'every event listed');
      const side = (k) => all.flows.filter((f) => f.saddr === ADDR[f.family][k]);
      const sum = (rows, key) => rows.reduce((n, r) => n + r[key], 0);
      for (const k of ['c', 's']) {
        const d = (name) => after0[k][name] - before0[k][name];
        const rows = side(k);
        t.diagnostic(`${NS[k]}: RetransSegs +${d('Tcp.RetransSegs')} TCPSynRetrans +${d('TcpExt.TCPSynRetrans')}; tracer ${JSON.stringify(rows)}`);
        assert.equal(sum(rows, 'segments'), d('Tcp.RetransSegs'), `${NS[k]}: segments resent = RetransSegs`);
        const evs = all.events.filter((e) => e.saddr === ADDR[e.family][k]);
        const sent = evs.filter((e) => e.sent), failed = evs.filter((e) => !e.sent);
        assert.equal(sent.length, sum(rows, 'retransmits'), 'one event per retransmit');
        assert.equal(failed.length, sum(rows, 'failed'));
        assert.equal(sent.reduce((n, e) => n + e.segments, 0), sum(rows, 'segments'));
        // attempts that gave up before TCP counts them (the first copy still in
        // the host's queue, ...); none failed after it, which RetransSegs would count
        if (failed.length) t.diagnostic(`failed attempts: ${JSON.stringify(failed.map((e) => e.errno))}`);
        assert.ok(failed.every((e) => ['EBUSY', 'EAGAIN', 'ENOMEM', 'EINVAL', 'EHOSTUNREACH'].includes(e.errno)), JSON.stringify(failed));
        assert.ok(all.failed_visible || !failed.length);
        const handshake = sent.filter((e) => e.flags.includes('SYN'));
        assert.equal(handshake.length, d('TcpExt.TCPSynRetrans'), `${NS[k]}: SYN/SYN-ACK resends = TCPSynRetrans`);
      }
      // what the drops forced: the client's SYN again (SYN_SENT), the server's SYN-ACK again
      const cEv = all.events.filter((e) => e.saddr === ADDR[e.family].c), sEv = all.events.filter((e) => e.saddr === ADDR[e.family].s);
      assert.deepEqual([dS.syn_dropped, dC.synack_dropped], [1, 1]);
      assert.ok(cEv.some((e) => e.kind === 'segment' && e.state === 'SYN_SENT' && e.flags.join() === 'SYN' && e.dport === PORT));
      const synack = sEv.filter((e) => e.kind === 'synack');
      assert.ok(synack.length >= 1 && synack.every((e) => e.sport === PORT && e.state === 'NEW_SYN_RECV' && e.flags.join() === 'SYN,ACK'));
      assert.ok(dS.data_dropped >= 1 && cEv.some((e) => e.state === 'ESTABLISHED' || e.state === 'FIN_WAIT1'), 'data resent');
      // both families, each with its addresses and ports, owners known
      for (const f of ['ipv4', 'ipv6']) {
        const mine = cEv.filter((e) => e.family === f);
        assert.ok(mine.length >= 1, `${f} retransmits`);
        assert.ok(mine.every((e) => e.daddr === ADDR[f].s && e.dport === PORT && e.comm === 'node'));
        const row = all.flows.find((r) => r.family === f && r.saddr === ADDR[f].c);
        assert.deepEqual([row.daddr, row.dport], [ADDR[f].s, PORT]);
      }
      const pidOf = { ipv4: clients[0].child.pid, ipv6: clients[1].child.pid };
      assert.ok(cEv.every((e) => e.pid === pidOf[e.family] && e.tid === e.pid), 'the client that connected');
      assert.ok(synack.every((e) => servers.some((x) => x.child.pid === e.pid) && e.comm === 'node'), 'the server that listened');
      // filters: the pid run sees exactly the IPv4 client's, the cgroup run the same (its socket's cgroup)
      // (each run has its own programs: the same retransmits, stamped apart)
      const key = (e) => `${e.sock} ${e.state} ${e.segments} ${e.flags}`;
      const v4client = cEv.filter((e) => e.family === 'ipv4').map(key);
      assert.deepEqual(byPid.events.map(key), v4client);
      assert.deepEqual(byCg.events.map(key), v4client);
      assert.deepEqual(byPid.totals, byCg.totals);
      // events carry the socket's cgroup
      assert.ok(byCg.events.every((e) => e.cgroup_id === statSync(cg.dir).ino && e.cgroup.endsWith(`/${TAG}-retrans`)), JSON.stringify(byCg.events[0]));
      assert.equal(byPid.totals.segments, all.flows.find((r) => r.family === 'ipv4' && r.saddr === ADDR.ipv4.c).segments);
      assert.equal(all.totals.segments, sum(all.flows, 'segments'));
      assert.equal(all.flows_total, all.flows.length);
      assert.equal(typeof all.failed_visible, 'boolean');
    });
  } finally {
    await dropS.srv.close();
    await dropC.srv.close();
  }
});

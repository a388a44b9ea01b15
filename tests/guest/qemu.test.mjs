// The appliance under qemu: the pinned Debian kernel (6.1, another kernel than
// this host's) boots build/guest/initramfs.cpio, whose /init is bin/ebpf-mcp
// in init mode, and serves MCP on a virtio serial port. Everything below runs
// inside the guest; the host only speaks MCP to it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, BUILD, ROOT } from '../lib/mcp.mjs';
import { bootGuest, startGuest, GUEST, GUEST_RELEASE } from '../lib/guest.mjs';
import { smoke, SMOKE_CHECKS } from '../lib/smoke.mjs';

let g;
before(async () => {
  // `--limit call_ms=...` holds a dot: after `--` the kernel passes it to init
  g = await bootGuest({ args: ['--profile', 'full', '--validate-output', '--log-level', 'info',
    '--limit', 'call_ms=120000'] });
});
after(async () => { if (g) await g.kill(); });

test('boots to a first reply, which comes from the guest kernel', async (t) => {
  t.diagnostic(`boot to first reply: ${g.firstReplyMs} ms (TCG)`);
  t.diagnostic(`initramfs: ${statSync(path.join(GUEST, 'initramfs.cpio')).size} bytes`);
  assert.equal(g.init.result.serverInfo.name, 'ebpf-mcp');
  const info = await g.server.ok('info');
  assert.equal(info.kernel.release, GUEST_RELEASE());
  assert.notEqual(info.kernel.release, os.release(), 'the guest runs another kernel than the host');
  assert.equal(info.server.pid, 1, 'the server is the guest\'s init');
  assert.equal(info.limits.call_ms, 120000, 'options after -- reach init, dots and all');
  for (const fs of ['bpffs', 'tracefs', 'debugfs'])
    assert.equal(info.filesystems[fs].mounted, true, `init mounted ${fs}`);
  // pid 1 serves under init mode's filter (the guest kernel's word, /proc/1/status)
  const sb = info.sandbox;
  assert.deepEqual([sb.enabled, sb.mode, sb.kernel_seccomp, sb.kernel_no_new_privs], [true, 'init', 2, 1]);
  assert.match(sb.killing_calls, /execve.*ptrace.*init_module/);
  assert.doesNotMatch(sb.killing_calls, /reboot/, 'init powers the guest off at the end');
  assert.match(g.console(), new RegExp(`Linux version ${GUEST_RELEASE().replace(/\./g, '\\.')}`));
});

test('the smoke suite passes in the guest (CO-RE tracer on the 6.1 kernel)', async () => {
  const done = await smoke(g.server, { release: GUEST_RELEASE(), pid: 1, traceMs: 3000 });
  assert.deepEqual(done, SMOKE_CHECKS);
});

test('get_btf_types reads the guest kernel\'s BTF', async () => {
  const r = await g.server.ok('get_btf_types', { name: 'bpf_prog_aux' });
  const t = r.types.find((x) => x.name === 'bpf_prog_aux');
  assert.ok(t?.members?.length > 10, 'struct bpf_prog_aux with its members');
  // The same struct differs between 6.1 and this host: the answer is the guest's.
  const host = JSON.parse(execFileSync(BIN, ['call', 'get_btf_types', 'name=bpf_prog_aux'], { encoding: 'utf8' }));
  const h = host.types.find((x) => x.name === 'bpf_prog_aux');
  assert.notDeepEqual(t.members.map((m) => [m.name, m.offset]), h.members.map((m) => [m.name, m.offset]));
});

test('a kprobe attaches in the guest and fires', async () => {
  const data = readFileSync(path.join(BUILD, 'bpf/attach_trace.bpf.o')).toString('base64');
  const o = await g.server.ok('load_program', { data, programs: ['count_kprobe'] });
  const prog = o.programs.find((p) => p.name === 'count_kprobe');
  const map = o.maps.find((m) => m.name === 'kprobe_counts');
  const l = await g.server.ok('attach_program', { program_id: prog.id, type: 'kprobe', target: 'do_sys_openat2' });
  assert.ok(l.link_id > 0);
  const before = await count(map.id);
  // prog_stats (BPF_ENABLE_STATS on 6.1) sees the kprobe run while info runs
  const stats = g.server.ok('prog_stats', { duration_ms: 2000, program_ids: [prog.id] });
  await new Promise((res) => setTimeout(res, 300));
  await g.server.ok('info');   // opens /proc and /sys files in pid 1
  const afterInfo = await count(map.id);
  assert.ok(afterInfo > before, `kprobe count for pid 1 went from ${before} to ${afterInfo}`);
  const ps = await stats;
  assert.deepEqual([ps.programs.length, ps.programs[0].id, ps.programs[0].status, ps.programs[0].type], [1, prog.id, 'present', 'kprobe']);
  // its runs are a part of what the program itself counted (opens before the interval are not in them)
  const final = await count(map.id);
  assert.ok(ps.programs[0].run_cnt >= 1 && ps.programs[0].run_cnt <= final - before && ps.programs[0].run_time_ns > 0,
    `${JSON.stringify(ps.programs[0])} vs ${final - before} counted`);
  // 6.1 describes a kprobe link as a perf_event link (kprobe details came in 6.6)
  const st = await g.server.ok('inspect_state', { kinds: ['link'], id: l.link_id });
  const link = st.links.items.find((x) => x.id === l.link_id);
  assert.equal(link?.prog_id, prog.id);
  assert.equal(link?.type, 'perf_event');
  await g.server.ok('detach_link', { link_id: l.link_id });
  await g.server.ok('unload_program', { handle: o.handle });
});

async function count(mapId) {
  const r = await g.server.ok('map_lookup', { map_id: mapId, keys: [1] });
  const e = r.entries?.[0] ?? r.results?.[0];
  return e?.value ?? 0;
}

// Each tracer's CO-RE object loads and attaches on 6.1 (the host runs them on
// 6.18). trace_errors is also shown a guest event: three lookups of a map id
// that does not exist make three failing bpf() calls in pid 1.
const TRACERS = ['block_io_latency', 'offcpu_profile', 'profile_cpu', 'runq_latency', 'syscall_stats',
  'trace_errors', 'trace_exec', 'trace_open', 'trace_tcp', 'skb_drops', 'oom_kills',
  'tcp_retransmits'];

test('every built-in tracer runs on the guest kernel; trace_errors sees the guest\'s failing bpf()', async () => {
  for (const name of TRACERS) {
    const token = `t-${name}`;
    const pending = g.server.request('tools/call', {
      name, arguments: { duration_ms: 1500 }, _meta: { progressToken: token },
    }, { timeoutMs: 120000 });
    if (name === 'trace_errors') {
      while (!g.server.notifications.some((n) => n.params?.progressToken === token))
        await new Promise((res) => setTimeout(res, 20));
      for (let i = 0; i < 3; i++) {
        const r = await g.server.call('map_lookup', { map_id: 4000000000, keys: [1] });
        assert.equal(r.structuredContent.error.code, 'NO_SUCH_MAP');
      }
    }
    const { result, error } = await pending;
    assert.ok(!error && !result.isError, `${name}: ${JSON.stringify(error ?? result.structuredContent)}`);
    assert.equal(result.structuredContent.tracer, name);
    if (name === 'trace_errors') {
      const rows = result.structuredContent.errors.filter((e) => e.pid === 1 && e.syscall === 'bpf');
      assert.deepEqual(rows.map((e) => [e.errno, e.count]), [['ENOENT', 3]]);
    }
    if (name === 'offcpu_profile') {
      // the server (pid 1) waits on its port between requests: a blocked stack under the scheduler
      const own = result.structuredContent.stacks.filter((x) => x.pid === 1);
      assert.ok(own.some((x) => x.kernel.length && /^(__schedule|schedule)\+/.test(x.kernel[0]) && x.user.length),
        JSON.stringify(result.structuredContent.stacks.map((x) => x.folded)));
    }
  }
});

// enum skb_drop_reason's members, bounds (MAX, SUBSYS_MASK) left out, as
// bpftool reads them from a kernel image's BTF.
function dropReasons(file) {
  const body = execFileSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 })
    .match(/^enum skb_drop_reason \{\n([^}]*)\}/m)[1];
  return Object.fromEntries([...body.matchAll(/^\s+(\w+) = (\d+),/gm)]
    .filter((m) => !/^SKB_DROP_REASON_(MAX|SUBSYS_MASK)$/.test(m[1]))
    .map((m) => [m[1].replace(/^SKB_DROP_REASON_|^SKB_/, ''), Number(m[2])]));
}

test('skb_drops names drop reasons from the guest kernel\'s own BTF, which numbers and lists them otherwise than this host', async () => {
  const guest = dropReasons(path.join(GUEST, 'vmlinux')), host = dropReasons('/sys/kernel/btf/vmlinux');
  assert.notEqual(guest.NO_SOCKET, host.NO_SOCKET, 'the two kernels number NO_SOCKET differently');
  const e = (await g.server.call('skb_drops', { reason: 'NO_SUCH_REASON_T' })).structuredContent.error;
  assert.deepEqual([e.code, e.context.reasons], ['UNKNOWN_DROP_REASON', Object.keys(guest).length]);
  const newer = Object.keys(host).find((n) => !(n in guest));
  assert.ok(newer, 'the host kernel has reasons 6.1 lacks');
  const r = (await g.server.call('skb_drops', { reason: newer })).structuredContent.error;
  assert.deepEqual([r.code, r.context.pointer], ['UNKNOWN_DROP_REASON', '/reason'], newer);
  const ok = await g.server.ok('skb_drops', { reason: 'no_socket', duration_ms: 500 });
  assert.deepEqual([ok.tracer, ok.drops], ['skb_drops', 0]);
});

test('kernel console output never reaches the MCP port', async () => {
  const text = g.portText();
  const lines = text.split('\n').filter((l) => l.length);
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `non-JSON on the port: ${l.slice(0, 200)}`);
  assert.ok(lines.length >= 10);
  assert.match(g.userConsole(), /ebpf-mcp init: serving MCP on \/dev\/vport\dp\d \(ebpf-mcp\)/);
});

test('the guest powers off when the client leaves', async (t) => {
  const t0 = Date.now();
  await g.server.close();   // ends the socket: the guest's port reads end of file
  let timer;
  const r = await Promise.race([g.exited, new Promise((res) => { timer = setTimeout(() => res('timeout'), 60000); })]);
  clearTimeout(timer);
  assert.deepEqual(r, { code: 0, sig: null }, 'qemu exits by itself');
  assert.match(g.userConsole(), /ebpf-mcp init: the server has ended \(the client left\); powering off/);
  assert.match(g.console(), /reboot: Power down/);
  t.diagnostic(`client leave to power off: ${Date.now() - t0} ms`);
});

test('make initramfs is reproducible and holds only /init', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-cpio-'));
  try {
    const build = (out) => execFileSync('sh', [path.join(ROOT, 'initramfs/build.sh'), out, BIN]);
    build(path.join(dir, 'a.cpio'));
    build(path.join(dir, 'b.cpio'));
    const a = readFileSync(path.join(dir, 'a.cpio'));
    assert.ok(a.equals(readFileSync(path.join(dir, 'b.cpio'))), 'two builds, the same bytes');
    const list = execFileSync('cpio', ['-it', '--quiet'], { input: a, encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(list, ['init']);
    const files = execFileSync('cpio', ['-it', '--quiet'], {
      input: readFileSync(path.join(GUEST, 'initramfs.cpio')), encoding: 'utf8',
    }).trim().split('\n');
    assert.equal(files[0], 'init');
    for (const f of files.slice(1)) assert.match(f, /^lib(\/modules(\/\d\d-[a-z_]+\.ko)?)?$/, `only modules besides /init: ${f}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a serial line (ttyS1) carries MCP too, set raw by init', async (t) => {
  const s = await bootGuest({ port: 'ttyS1', args: ['--validate-output'] });
  try {
    t.diagnostic(`boot to first reply over ttyS1: ${s.firstReplyMs} ms`);
    const info = await s.server.ok('info');
    assert.equal(info.kernel.release, GUEST_RELEASE());
    const r = await s.server.ok('get_btf_types', { name: 'task_struct' });
    assert.ok(r.types.some((x) => x.name === 'task_struct'));
    // A line over the tty's canonical limit (4095 bytes) arrives whole only raw.
    const pad = Array(1000).fill('abcdefgh');   // a 11 KB request line
    assert.deepEqual((await s.server.request('ping', { _meta: { pad } })).result, {});
    for (const l of s.portText().split('\n').filter(Boolean))
      assert.doesNotThrow(() => JSON.parse(l), `not an MCP line (echo?): ${l.slice(0, 200)}`);
    assert.ok(!s.portText().includes('\r'), 'no CR added to output (ONLCR is off)');
    assert.match(s.userConsole(), /serving MCP on \/dev\/ttyS1 \(ttyS1\)/);
  } finally {
    await s.kill();
  }
});

test('a bad mcp_port is named on the console, and the guest powers off', async () => {
  const s = await startGuest({ port: 'no/such' });
  try {
    let timer;
    const r = await Promise.race([s.exited, new Promise((res) => { timer = setTimeout(() => res('timeout'), 120000); })]);
    clearTimeout(timer);
    assert.deepEqual(r, { code: 0, sig: null }, 'qemu exits by itself: no panic, no hang');
    assert.match(s.userConsole(), /mcp_port=no\/such: a port name is letters, digits, '-' and '_', under 64 bytes/);
    assert.match(s.console(), /reboot: Power down/);
    assert.equal(s.portText(), '', 'nothing was written to the port');
  } finally {
    await s.kill();
  }
});

// Last: init's stderr is the guest console, where the sandbox logs each call it refused.
test('the sandbox refused no call the guest\'s tests made', () => {
  assert.doesNotMatch(g.console(), /sandbox: refused.*$/m);
  assert.match(g.console(), /serving MCP|ebpf-mcp/, 'the console holds init\'s own lines');
});

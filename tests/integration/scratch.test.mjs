// The binary as the Dockerfile ships it: alone in an empty root.
//
// The Dockerfile (FROM scratch, one COPY of bin/ebpf-mcp, ENTRYPOINT on it)
// is checked for that shape, and then the same binary is run the way the
// image runs it, without a container engine: a private mount namespace
// (unshare -m), a fresh directory holding only the binary at the image's
// path and empty mount points, and chroot into it. sysfs and tracefs are
// mounted there (new instances); /proc and /dev are not. unshare, sh and
// chroot exec one another, so the server keeps the pid the test spawned.
//
// Witnesses, read from the host: /proc/<pid>/root (what the server's root
// holds), /proc/<pid>/mounts (what is mounted in it, relative to it),
// /proc/<pid>/exe (the binary), /proc/<pid>/status (its capabilities),
// bpftool for BTF types and pinned maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { BIN, ROOT, Server, ensureMounts, sh } from '../lib/mcp.mjs';
import { smoke, SMOKE_CHECKS } from '../lib/smoke.mjs';

const BPFTOOL = '/usr/sbin/bpftool';
const VMLINUX = '/sys/kernel/btf/vmlinux';

// ---- the Dockerfile ---------------------------------------------------------

// Instructions in order: { op, args } with comments dropped and
// backslash-continued lines joined.
function instructions(text) {
  const out = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!cur && (line === '' || line.startsWith('#'))) continue;
    cur += (cur ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const m = cur.match(/^(\S+)\s*(.*)$/);
    out.push({ op: m[1].toUpperCase(), args: m[2] });
    cur = '';
  }
  return out;
}

// The image's layout: where the binary is copied to and the entrypoint argv.
function image() {
  const ins = instructions(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const copy = ins.filter((i) => i.op === 'COPY' || i.op === 'ADD');
  const entry = ins.filter((i) => i.op === 'ENTRYPOINT');
  return { ins, copy, entry, dest: copy[0]?.args.split(/\s+/)[1], argv: entry[0] && JSON.parse(entry[0].args) };
}

test('Dockerfile: FROM scratch, one COPY of bin/ebpf-mcp, ENTRYPOINT runs the copied path', () => {
  const { ins, copy, entry, dest, argv } = image();
  assert.deepEqual(ins[0], { op: 'FROM', args: 'scratch' }, 'the image starts empty');
  assert.equal(ins.filter((i) => i.op === 'FROM').length, 1, 'one stage');
  assert.deepEqual(ins.filter((i) => !['FROM', 'COPY', 'ENTRYPOINT', 'LABEL'].includes(i.op)), [],
    'nothing else (a scratch image has no shell for RUN)');
  assert.equal(copy.length, 1, 'one file goes in');
  assert.deepEqual(copy[0], { op: 'COPY', args: `bin/ebpf-mcp ${dest}` });
  assert.match(dest, /^\/[^/\s]+$/, 'copied to a path at the image root');
  assert.equal(entry.length, 1);
  assert.ok(Array.isArray(argv), 'ENTRYPOINT in exec form (no shell to run a string form)');
  assert.deepEqual(argv, [dest], 'ENTRYPOINT runs the copied binary; stdio is the transport');
  // the build context is the binary alone
  const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n')
    .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(ignore, ['*', '!bin/ebpf-mcp']);
});

// ---- the empty root ---------------------------------------------------------

// A fresh root holding the binary at the image's path, and a server exec'd
// in it. mounts: the commands run inside the private namespace, with $R the
// root; pre: a command prefix for chroot (e.g. setpriv).
function scratchServer({ mounts = [], pre = [] } = {}) {
  const { dest } = image();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-scratch-'));
  copyFileSync(BIN, path.join(dir, dest));
  mkdirSync(path.join(dir, 'sys'));
  const script = ['R="$1"; shift 2', ...mounts, `exec ${pre.join(' ')} chroot "$R" ${dest} "$@"`].join('\n');
  // "$@" is: the root, BIN (which Server appends; dropped), the arguments
  const s = new Server([], { wrap: ['unshare', '-m', '--propagation', 'private', 'sh', '-euc', script, 'sh', dir] });
  s.root = dir;
  return s;
}

const SYSFS = 'mount -t sysfs sysfs "$R/sys"';
const TRACEFS = 'mount -t tracefs tracefs "$R/sys/kernel/tracing"';
const BPFFS = 'mount -t bpf bpf "$R/sys/fs/bpf"';

async function withScratch(opts, fn) {
  const s = scratchServer(opts);
  try {
    await s.init();
    return await fn(s);
  } finally {
    await s.close();
    rmSync(s.root, { recursive: true, force: true });
  }
}

// What the server's mount namespace holds under its root: [type, dir] pairs.
const mountsOf = (pid) => readFileSync(`/proc/${pid}/mounts`, 'utf8').split('\n').filter(Boolean)
  .map((l) => l.split(' ')).map((f) => [f[2], f[1]]);
const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const capEff = (pid) => BigInt('0x' + readFileSync(`/proc/${pid}/status`, 'utf8').match(/^CapEff:\s*(\S+)/m)[1]);

function assertScratch(s, wantMounts) {
  const pid = s.proc.pid;
  assert.deepEqual(readdirSync(`/proc/${pid}/root`).sort(), [image().dest.slice(1), 'sys'].sort(),
    'the root holds the binary and the sys mount point, nothing else (no /proc, no /dev)');
  assert.deepEqual(mountsOf(pid), wantMounts, 'what is mounted in the root');
  assert.equal(sha(`/proc/${pid}/exe`), sha(BIN), 'the server is bin/ebpf-mcp');
}

// Effective capability names from the CapEff mask, in bit order.
function capNames(mask, names) {
  const out = [];
  for (let b = 0n; b < 64n; b++) if (mask >> b & 1n) out.push(names[Number(b)] ?? `cap_${b}`);
  return out;
}
const CAP_NAMES = ['chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid',
  'setpcap', 'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock',
  'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot',
  'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control',
  'setfcap', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon',
  'bpf', 'checkpoint_restore'];

test('smoke suite in an empty root: only the binary, with sysfs and tracefs mounted, no /proc or /dev', async () => {
  ensureMounts();
  await withScratch({ mounts: [SYSFS, TRACEFS] }, async (s) => {
    assertScratch(s, [['sysfs', '/sys'], ['tracefs', '/sys/kernel/tracing']]);
    assert.deepEqual(await smoke(s, { release: os.release(), pid: s.proc.pid }), SMOKE_CHECKS);
    // without /proc: mounts found at their usual places, the rest says so
    const info = await s.ok('info');
    assert.deepEqual(info.filesystems.sysfs, { mounted: true, path: '/sys', supported: true,
      needed_for: info.filesystems.sysfs.needed_for, fix: null });
    assert.deepEqual([info.filesystems.tracefs.path, info.filesystems.tracefs.fix], ['/sys/kernel/tracing', null]);
    assert.deepEqual(info.filesystems.proc, { mounted: false, path: null, supported: null,
      needed_for: info.filesystems.proc.needed_for, fix: 'mount -t proc proc /proc' });
    assert.equal(info.filesystems.bpffs.supported, true, '/sys/fs/bpf is in sysfs: the kernel has bpffs');
    assert.deepEqual([info.memory.rss_bytes, info.memory.rss_peak_bytes], [null, null]);
    assert.deepEqual(info.capabilities.effective, capNames(capEff(s.proc.pid), CAP_NAMES));
    assert.equal(info.btf.vmlinux_bytes, statSync(VMLINUX).size);
    assert.equal(info.btf.hint, null);
  });
});

test('smoke suite in the empty root with only CAP_BPF and CAP_PERFMON (the image\'s least rights)', async () => {
  ensureMounts();
  // sys_chroot too: chroot(8) runs under the same bounding set
  const pre = ['setpriv', '--bounding-set', '-all,+bpf,+perfmon,+sys_chroot', '--inh-caps', '-all'];
  await withScratch({ mounts: [SYSFS, TRACEFS], pre }, async (s) => {
    assertScratch(s, [['sysfs', '/sys'], ['tracefs', '/sys/kernel/tracing']]);
    const mask = capEff(s.proc.pid);
    assert.deepEqual(capNames(mask, CAP_NAMES), ['sys_chroot', 'perfmon', 'bpf'], 'the witness: CapEff');
    assert.deepEqual(await smoke(s, { release: os.release(), pid: s.proc.pid }), SMOKE_CHECKS);
    const caps = (await s.ok('info')).capabilities;
    assert.deepEqual(caps.effective, ['sys_chroot', 'perfmon', 'bpf']);
    assert.deepEqual([caps.bpf, caps.perfmon, caps.sys_admin], [true, true, false]);
    // walking objects by id is what needs CAP_SYS_ADMIN (the Dockerfile says
    // so); the witness: bpftool under the same bounding set is refused too
    assert.throws(() => sh(`${pre.join(' ')} ${BPFTOOL} prog list`), /Operation not permitted/);
    const r = await s.call('inspect_state', { kinds: ['program'] });
    const e = r.structuredContent.error;
    assert.deepEqual([e.category, e.code, e.context.capability], ['permission', 'MISSING_CAPABILITY', 'CAP_SYS_ADMIN']);
  });
});

test('a bpffs at /sys/fs/bpf in the root is found without /proc; what a pin holds needs /proc', async () => {
  await withScratch({ mounts: [SYSFS, BPFFS] }, async (s) => {
    assertScratch(s, [['sysfs', '/sys'], ['bpf', '/sys/fs/bpf']]);
    // pinned from the host through the server's root
    const dir = `/proc/${s.proc.pid}/root/sys/fs/bpf`;
    sh(`${BPFTOOL} map create ${dir}/scratch_pin type array key 4 value 4 entries 1 name scratch_pin`);
    try {
      const fsInfo = (await s.ok('info')).filesystems.bpffs;
      assert.deepEqual([fsInfo.mounted, fsInfo.path, fsInfo.fix], [true, '/sys/fs/bpf', null]);
      const pins = (await s.ok('inspect_state', { kinds: ['pin'] })).pins;
      assert.deepEqual(pins.mounts, ['/sys/fs/bpf']);
      // the witness: the host's listing of that bpffs (a new instance also
      // holds the kernel's preloaded iterators, maps.debug and progs.debug)
      assert.deepEqual(pins.items.map((p) => p.path), readdirSync(dir).sort().map((n) => `/sys/fs/bpf/${n}`));
      assert.ok(pins.items.some((p) => p.path === '/sys/fs/bpf/scratch_pin'));
      // the kernel tells a pinned fd's kind only through /proc/self/fd
      for (const p of pins.items) {
        assert.equal(p.kind, 'other');
        assert.match(p.error, /proc is not mounted at \/proc \(mount -t proc proc \/proc\)/);
      }
      assertMissing(await s.call('map_lookup', { pin_path: '/sys/fs/bpf/scratch_pin', keys: ['00000000'] }),
        'PROC_MISSING', 'mount -t proc proc /proc');
    } finally {
      rmSync(`${dir}/scratch_pin`, { force: true });
    }
  });
});

// A resource error naming the missing mount and the command that fixes it.
function assertMissing(r, code, fix) {
  assert.equal(r.isError, true, JSON.stringify(r.structuredContent));
  const e = r.structuredContent.error;
  assert.deepEqual([e.category, e.code, e.recoverable], ['resource', code, true], JSON.stringify(e));
  assert.equal(e.context.fix, fix);
  assert.ok(e.message.includes(fix), e.message);
  return e;
}

test('empty root without /sys: info says what is missing; BTF and kallsyms users name the mount', async () => {
  assert.ok(statSync(VMLINUX).size > 0, 'the host kernel has BTF: its absence below is the root\'s');
  await withScratch({}, async (s) => {
    assertScratch(s, []);
    const info = await s.ok('info');
    assert.equal(info.kernel.release, os.release());
    assert.deepEqual([info.btf.vmlinux, info.btf.vmlinux_bytes], [false, 0]);
    assert.match(info.btf.hint, /sysfs is not mounted at \/sys.*mount -t sysfs sysfs \/sys/);
    assert.deepEqual([info.filesystems.sysfs.mounted, info.filesystems.sysfs.fix], [false, 'mount -t sysfs sysfs /sys']);
    assert.deepEqual([info.filesystems.tracefs.mounted, info.filesystems.tracefs.fix],
      [false, 'mount -t tracefs tracefs /sys/kernel/tracing']);
    assert.deepEqual(info.capabilities.effective, capNames(capEff(s.proc.pid), CAP_NAMES));
    assert.equal(info.server.pid, s.proc.pid);

    const sysfs = 'mount -t sysfs sysfs /sys';
    const e = assertMissing(await s.call('get_btf_types', { name: 'task_struct' }), 'BTF_MISSING', sysfs);
    assert.deepEqual([e.context.missing, e.context.path], ['sysfs', VMLINUX]);
    assertMissing(await s.call('get_btf_types', { name: 'task_struct', module: 'nf_tables' }), 'BTF_MISSING', sysfs);
    // (profile_cpu reads the CPU list from /sys too, but its kernel side
    // reads task fields through CO-RE: BTF is the first thing it misses)
    for (const tracer of ['trace_open', 'trace_exec', 'syscall_stats', 'profile_cpu'])
      assertMissing(await s.call(tracer, { duration_ms: 100 }), 'BTF_MISSING', sysfs);
    assertMissing(await s.call('list_kernel_functions', { limit: 1 }), 'PROC_MISSING', 'mount -t proc proc /proc');
    // tracefs mounts on a sysfs directory: sysfs is what to mount first
    assertMissing(await s.call('list_tracepoints', {}), 'SYSFS_MISSING', sysfs);

    // still serving: the kernel objects are there without any filesystem
    const st = await s.ok('inspect_state', { kinds: ['pin', 'btf'], limit: 1 });
    assert.deepEqual([st.pins.total, st.pins.mounts], [0, []]);
    assert.ok(st.btf.total >= 1, 'BTF objects listed by id (vmlinux is one)');
    assert.deepEqual((await s.request('ping')).result, {});
    assert.equal((await s.ok('info')).server.errors, 8, 'every failure above was counted, none lost the server');
  });
});

test('empty root with /sys but no tracefs: get_btf_types works, trace_open is TRACEFS_MISSING', async () => {
  const raw = sh(`${BPFTOOL} btf dump file ${VMLINUX} format raw | ` +
    'awk \'/^\\[[0-9]+\\] STRUCT .task_struct. /{p=1;print;next} p&&/^\\t/{print;next} {p=0}\'').split('\n');
  const [, wid, wsize] = raw[0].match(/^\[(\d+)\] STRUCT 'task_struct' size=(\d+)/);
  const wmembers = raw.slice(1).filter(Boolean).map((l) => {
    const [, name, tid, bits] = l.match(/^\t'(.*)' type_id=(\d+) bits_offset=(\d+)/);
    return [name, Number(tid), Number(bits)];
  });
  await withScratch({ mounts: [SYSFS] }, async (s) => {
    assertScratch(s, [['sysfs', '/sys']]);
    const r = await s.ok('get_btf_types', { name: 'task_struct', kind: 'struct' });
    const t = r.types[0];
    assert.deepEqual([t.id, t.size], [Number(wid), Number(wsize)], 'bpftool: id and size');
    assert.deepEqual(t.members.map((m) => [m.name, m.type_id, m.bits_offset]), wmembers, 'bpftool: members');

    const info = await s.ok('info');
    assert.deepEqual([info.btf.vmlinux, info.btf.vmlinux_bytes, info.btf.hint], [true, statSync(VMLINUX).size, null]);
    assert.deepEqual([info.filesystems.tracefs.mounted, info.filesystems.tracefs.supported,
      info.filesystems.tracefs.fix], [false, true, 'mount -t tracefs tracefs /sys/kernel/tracing']);

    const to = await s.call('trace_open', { duration_ms: 100 });
    assert.equal(to.isError, true);
    const e = to.structuredContent.error;
    assert.equal(e.code, 'TRACEFS_MISSING');
    assert.match(e.message, /mount -t tracefs tracefs \/sys\/kernel\/tracing/);
    // tracers on tp_btf / raw tracepoints need no tracefs
    const ex = await s.ok('trace_exec', { duration_ms: 100 });
    assert.equal(ex.tracer, 'trace_exec');
  });
});

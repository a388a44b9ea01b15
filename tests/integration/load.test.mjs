// load_program / unload_program on this kernel, with independent witnesses:
// bpftool for what the kernel holds, readelf/llvm-objdump for what the ELF
// contains (instruction counts, helper calls and where they sit), the
// kernel's BTF dump for kfunc ids, and the syscalls/sys_enter_bpf
// tracepoint (in a private tracefs instance, filtered on the server's pid)
// for "the kernel was never asked".
// Object names (lb_*, bl_*, pr_*, ...) are unique to these tests, so
// "nothing left behind" is checked by name over the whole kernel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  mkdtempSync, mkdirSync, copyFileSync, symlinkSync, writeFileSync, readFileSync, rmSync, rmdirSync,
  existsSync, readdirSync,
} from 'node:fs';
import { withServer, sh, ensureMounts, BUILD } from '../lib/mcp.mjs';

const BPFTOOL = '/usr/sbin/bpftool';
const OBJS = ['load_basic', 'load_blocked', 'load_reject', 'load_big', 'load_lsm', 'load_kfunc', 'load_mapmem',
  'policy_reach'];
const BPF_PROG_LOAD = 5;

let root, dir;   // root/objs is the --object-dir; root holds what lies outside it
const obj = (name) => path.join(dir, `${name}.bpf.o`);

before(() => {
  ensureMounts();
  root = mkdtempSync('/tmp/ebpf-mcp-load-');
  dir = path.join(root, 'objs');
  mkdirSync(dir);
  for (const o of OBJS) copyFileSync(path.join(BUILD, `bpf/${o}.bpf.o`), obj(o));
});

after(() => { if (root) rmSync(root, { recursive: true, force: true }); });

const full = (...extra) => ['--profile', 'full', '--object-dir', dir, ...extra];

// ---- witnesses ---------------------------------------------------------------

const bt = (kind) => JSON.parse(sh(`${BPFTOOL} -j ${kind} show`));
const btOne = (kind, id) => JSON.parse(sh(`${BPFTOOL} -j ${kind} show id ${id}`));
const progNames = () => new Set(bt('prog').map((p) => p.name));
const progIds = () => new Set(bt('prog').map((p) => p.id));
const mapIds = () => new Set(bt('map').map((m) => m.id));

// Function name -> { size: instructions (readelf), calls: [{ insn, src, imm }] (llvm-objdump) }.
function elfFunctions(file) {
  const fns = new Map();
  for (const line of sh(`readelf -sW ${file}`).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[3] === 'FUNC') fns.set(f[7], { size: Number(f[2]) / 8, calls: [] });
  }
  let cur = null, start = 0;
  for (const line of sh(`llvm-objdump -d ${file}`).split('\n')) {
    let m = line.match(/^[0-9a-f]{16} <([^>]+)>:$/);
    if (m) {
      if (fns.has(m[1])) { cur = fns.get(m[1]); start = null; }
      continue;
    }
    m = line.match(/^\s*(\d+):\t((?:[0-9a-f]{2} )+[0-9a-f]{2})\s*\t/);
    if (!m || !cur) continue;
    if (start === null) start = Number(m[1]);
    const b = m[2].split(' ').map((x) => parseInt(x, 16));
    if (b[0] === 0x85) cur.calls.push({ insn: Number(m[1]) - start, src: b[1] >> 4, imm: Buffer.from(b.slice(4, 8)).readInt32LE() });
  }
  return fns;
}

// Helper calls (src_reg 0) of the named functions, as {id: count}.
function helperCounts(fns, names) {
  const counts = {};
  for (const n of names) for (const c of fns.get(n).calls) if (c.src === 0) counts[c.imm] = (counts[c.imm] ?? 0) + 1;
  return counts;
}

// bpf() syscalls made by one process, from a private tracefs instance.
function bpfSyscalls(pid) {
  const inst = `/sys/kernel/tracing/instances/ebpf_mcp_load_${process.pid}_${pid}`;
  mkdirSync(inst);
  const ev = `${inst}/events/syscalls/sys_enter_bpf`;
  // every thread of the server: tool calls run on its worker threads,
  // which it starts before it reads its first request
  const tids = readdirSync(`/proc/${pid}/task`);
  assert.ok(tids.length > 1, 'the server runs worker threads');
  writeFileSync(`${ev}/filter`, tids.map((t) => `common_pid == ${t}`).join(' || '));
  writeFileSync(`${ev}/enable`, '1');
  return {
    cmds: () => [...readFileSync(`${inst}/trace`, 'utf8').matchAll(/sys_bpf\(cmd: (0x[0-9a-f]+|\d+)/g)].map((m) => Number(m[1])),
    clear: () => writeFileSync(`${inst}/trace`, ''),
    close: () => {
      try { writeFileSync(`${ev}/enable`, '0'); } finally { rmdirSync(inst); }
    },
  };
}

// How long the kernel may take to free a closed program or map: an RCU
// grace period, longer on a machine whose CPUs are all busy.
const GONE_MS = 20000;

// No program / map of these names (unique to these tests) in the kernel,
// polled like assertGone.
async function assertNoneNamed(progs, maps = []) {
  const deadline = Date.now() + GONE_MS;
  for (;;) {
    const p = progNames(), m = new Set(bt('map').map((x) => x.name));
    const left = [...progs.filter((n) => p.has(n)), ...maps.filter((n) => m.has(n))];
    if (!left.length) return;
    if (Date.now() > deadline) assert.fail(`still in the kernel: ${left.join(', ')}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

const errOf = (r) => {
  assert.equal(r.isError, true, `expected an error, got ${JSON.stringify(r.structuredContent).slice(0, 400)}`);
  return r.structuredContent.error;
};

// The kernel frees programs and maps after an RCU grace period / from a
// work queue, so "gone" is polled for (GONE_MS at most).
async function assertGone(progs, maps) {
  const deadline = Date.now() + GONE_MS;
  for (;;) {
    const p = progIds(), m = mapIds();
    const left = [...progs.filter((id) => p.has(id)).map((id) => `program ${id}`),
      ...maps.filter((id) => m.has(id)).map((id) => `map ${id}`)];
    if (!left.length) return;
    if (Date.now() > deadline) assert.fail(`still in the kernel: ${left.join(', ')}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

// ---- loading and the witness ------------------------------------------------------

function compareWithBpftool(r, fns, reaches) {
  const ours = new Map(r.maps.map((m) => [m.id, m]));
  for (const m of r.maps) {
    const w = btOne('map', m.id);
    assert.equal(w.name, m.name);
    assert.equal(w.type, m.type);
    assert.equal(w.bytes_key, m.key_size);
    assert.equal(w.bytes_value, m.value_size);
    assert.equal(w.max_entries, m.max_entries);
  }
  for (const p of r.programs) {
    const w = btOne('prog', p.id);
    assert.equal(w.name, p.name);
    assert.equal(w.type, p.type);
    assert.equal(w.bytes_xlated, p.xlated_bytes);
    assert.equal(w.bytes_jited, p.jited_bytes);
    for (const id of w.map_ids ?? []) assert.ok(ours.has(id), `prog ${p.id} uses map ${id} not reported`);
    // what libbpf loads: the program plus the subprograms it calls (readelf)
    const want = reaches[p.name].reduce((n, f) => n + fns.get(f).size, 0);
    assert.equal(p.insns, want, `${p.name} insns`);
    const pol = r.policy.programs.find((x) => x.name === p.name);
    assert.equal(pol.insns, want, `${p.name} policy insns`);
    assert.equal(pol.functions, reaches[p.name].length);
    assert.equal(pol.type, p.type);
    const helpers = Object.fromEntries(pol.helpers.map((h) => [h.id, h.count]));
    assert.deepEqual(helpers, helperCounts(fns, reaches[p.name]), `${p.name} helper calls`);
  }
}

test('load from --object-dir: programs and maps equal bpftool, owned, unloaded', async () => {
  const fns = elfFunctions(obj('load_basic'));
  await withServer(full(), async (s) => {
    const r = await s.ok('load_program', { path: obj('load_basic') });
    assert.ok(r.handle >= 1);
    assert.equal(r.object, 'load_basic');
    assert.deepEqual(r.programs.map((p) => p.name).sort(), ['lb_sock', 'lb_tp']);
    assert.deepEqual(r.maps.map((m) => m.name).sort(), ['lb_array', 'lb_hash']);
    compareWithBpftool(r, fns, { lb_tp: ['lb_tp', 'lb_bump'], lb_sock: ['lb_sock', 'lb_bump'] });
    const tp = btOne('prog', r.programs.find((p) => p.name === 'lb_tp').id);
    assert.deepEqual([...tp.map_ids].sort(), r.maps.map((m) => m.id).sort());
    // helper names are the kernel's (BTF), ids the ELF's
    const names = Object.fromEntries(r.policy.programs[0].helpers.map((h) => [h.name, h.id]));
    assert.equal(names.bpf_get_current_pid_tgid, 14);
    assert.equal(r.policy.insn_cap, 131072);
    assert.ok(r.policy.blocked.some((b) => b.name === 'bpf_probe_write_user'));
    assert.ok(r.policy.allowed_types.includes('tracepoint') && !r.policy.allowed_types.includes('lsm'));
    assert.equal(r.verifier_log, undefined);   // log_level 0: no log on success

    // inspect_state marks them ours
    for (const p of r.programs) {
      const st = await s.ok('inspect_state', { kinds: ['program'], id: p.id });
      assert.equal(st.programs.items[0].owned, true);
    }
    const st = await s.ok('inspect_state', { kinds: ['map'], id: r.maps[0].id });
    assert.equal(st.maps.items[0].owned, true);
    assert.equal(st.owned.programs, 2);
    assert.equal(st.owned.maps, 2);

    const u = await s.ok('unload_program', { handle: r.handle });
    assert.deepEqual(u.released.filter((x) => x.kind === 'program').map((x) => x.id).sort(),
      r.programs.map((p) => p.id).sort());
    await assertGone(r.programs.map((p) => p.id), r.maps.map((m) => m.id));
    const again = errOf(await s.call('unload_program', { handle: r.handle }));
    assert.equal(again.code, 'NO_SUCH_HANDLE');
    const none = errOf(await s.call('unload_program', { handle: 4000000 }));
    assert.equal(none.code, 'NO_SUCH_HANDLE');
    assert.equal((await s.ok('inspect_state', { kinds: ['program'] })).owned.programs, 0);
  });
});

test('inline base64, one program chosen', async () => {
  const data = readFileSync(obj('load_basic')).toString('base64');
  const fns = elfFunctions(obj('load_basic'));
  await withServer(full(), async (s) => {
    const r = await s.ok('load_program', { data, programs: ['lb_sock'] });
    assert.equal(r.object, 'inline');
    assert.deepEqual(r.programs.map((p) => p.name), ['lb_sock']);
    assert.deepEqual(r.policy.programs.map((p) => p.name), ['lb_sock']);
    compareWithBpftool(r, fns, { lb_sock: ['lb_sock', 'lb_bump'] });
    assert.ok(!progNames().has('lb_tp'), 'the program left out was loaded');
    const e = errOf(await s.call('load_program', { data, programs: ['nope'] }));
    assert.equal(e.code, 'NO_SUCH_PROGRAM');
    assert.equal(e.context.pointer, '/programs/0');
    await s.ok('unload_program', { handle: r.handle });
    await assertGone(r.programs.map((p) => p.id), r.maps.map((m) => m.id));
  });
});

test('verify_only: statistics reported, then nothing is left', async () => {
  await withServer(full(), async (s) => {
    const r = await s.ok('load_program', { path: obj('load_basic'), verify_only: true });
    assert.equal(r.handle, undefined);
    assert.equal(r.programs.length, 2);
    for (const p of r.programs) {
      assert.ok(p.id > 0 && p.verified_insns > 0);
      assert.equal(p.verification.processed_insns, p.verified_insns);
      assert.equal(p.verification.insn_limit, 1000000);
      assert.ok(p.verification.stack_depth.length > 0);
    }
    await assertGone(r.programs.map((p) => p.id), r.maps.map((m) => m.id));
    assert.equal((await s.ok('inspect_state', { kinds: ['program'] })).owned.programs, 0);
  });
});

test('log_level: the verifier log on success, cut to verifier_log_bytes', async () => {
  await withServer(full(), async (s) => {
    const r = await s.ok('load_program', { path: obj('load_basic'), verify_only: true, log_level: 1 });
    assert.match(r.verifier_log, /^-- program lb_tp --\n/);
    assert.match(r.verifier_log, /-- program lb_sock --\n/);
    assert.match(r.verifier_log, /processed \d+ insns/);
    assert.equal(r.verifier_log_cut, false);
  });
  // level 2 of a 2052-instruction program does not fit 4 KiB: the kernel
  // refuses such a load, the server keeps the tail and loads again
  await withServer(full('--limit', 'verifier_log_bytes=4096'), async (s) => {
    const r = await s.ok('load_program', { path: obj('load_big'), verify_only: true, log_level: 2 });
    assert.equal(r.verifier_log_cut, true);
    assert.ok(Buffer.byteLength(r.verifier_log) <= 4096 + 64, `log of ${r.verifier_log.length} bytes`);
    assert.match(r.verifier_log, /^-- program big_unrolled --\n/);
    const last = `\nprocessed ${r.programs[0].verified_insns} insns `;
    assert.ok(r.verifier_log.includes(last) && r.verifier_log.endsWith('\n'), 'the tail ends with the last line');
    assert.equal(r.programs[0].verification.processed_insns, r.programs[0].verified_insns);
    await assertGone(r.programs.map((p) => p.id), []);
  });
});

test('verifier rejection: the log in the error, nothing left behind', async () => {
  await withServer(full(), async (s) => {
    const e = errOf(await s.call('load_program', { path: obj('load_reject') }));
    assert.equal(e.category, 'kernel');
    assert.equal(e.code, 'VERIFIER_REJECTED');
    assert.equal(e.context.program, 'lr_oob');
    assert.equal(e.context.errno, 13);
    assert.match(e.context.verifier_log, /invalid access to map value, value_size=8 off=8 size=8/);
    assert.match(e.context.verifier_log, /^arg#0|^0: /);   // the whole log, from its start
    assert.equal(e.context.verifier_log_cut, false);
    assert.ok(!progNames().has('lr_oob'));
    const v = errOf(await s.call('load_program', { path: obj('load_reject'), verify_only: true }));
    assert.match(v.context.verifier_log, /invalid access to map value/);
    await s.ok('info');
  });
  await withServer(full('--limit', 'verifier_log_bytes=4096'), async (s) => {
    const e = errOf(await s.call('load_program', { path: obj('load_reject') }));
    assert.equal(e.code, 'VERIFIER_REJECTED');
    assert.equal(e.context.verifier_log_cut, true);
    assert.ok(Buffer.byteLength(e.context.verifier_log) < 4096);
    assert.match(e.context.verifier_log, /^\d+: /);   // cut to a line start
    assert.match(e.context.verifier_log, /invalid access to map value/);   // the tail holds the reason
    assert.ok(!progNames().has('lr_oob'));
  });
  await assertNoneNamed(['lr_oob'], ['lr_array']);   // its map was created, then closed
});

test('blocked helpers are refused before the kernel is asked', async () => {
  const blocked = elfFunctions(obj('load_blocked'));
  const reach = elfFunctions(obj('policy_reach'));
  const insnOf = (fns, fn, id) => fns.get(fn).calls.find((c) => c.src === 0 && c.imm === id).insn;
  const cases = [
    { file: 'load_blocked', args: {}, prog: 'bl_signal', fn: 'bl_signal', helper: 'bpf_send_signal', id: 109, fns: blocked },
    { file: 'load_blocked', args: { programs: ['bl_nested'] }, prog: 'bl_nested', fn: 'bl_kill', helper: 'bpf_send_signal', id: 109, fns: blocked },
    { file: 'load_blocked', args: { programs: ['bl_write'] }, prog: 'bl_write', fn: 'bl_write', helper: 'bpf_probe_write_user', id: 36, fns: blocked },
    { file: 'policy_reach', args: { programs: ['pr_loop'] }, prog: 'pr_loop', fn: 'pr_loop_cb', helper: 'bpf_send_signal', id: 109, fns: reach },
    { file: 'policy_reach', args: { programs: ['pr_throw'] }, prog: 'pr_throw', fn: 'pr_exc_cb', helper: 'bpf_send_signal_thread', id: 117, fns: reach },
  ];
  await withServer(full(), async (s) => {
    const trace = bpfSyscalls(s.proc.pid);
    try {
      for (const c of cases) {
        const e = errOf(await s.call('load_program', { path: obj(c.file), ...c.args }));
        assert.equal(e.category, 'permission', c.prog);
        assert.equal(e.code, 'HELPER_BLOCKED', c.prog);
        assert.equal(e.context.program, c.prog);
        assert.equal(e.context.function, c.fn);
        assert.equal(e.context.helper, c.helper);
        assert.equal(e.context.helper_id, c.id);
        assert.equal(e.context.insn, insnOf(c.fns, c.fn, c.id), `${c.prog}: instruction index`);
        // inline too: the same check on the same bytes
        const d = errOf(await s.call('load_program', { data: readFileSync(obj(c.file)).toString('base64'), ...c.args }));
        assert.equal(d.code, 'HELPER_BLOCKED');
      }
      const lsm = errOf(await s.call('load_program', { path: obj('load_lsm') }));
      assert.equal(lsm.code, 'PROG_TYPE_NOT_ALLOWED');
      assert.equal(lsm.category, 'permission');
      assert.deepEqual([lsm.context.program, lsm.context.type], ['lsm_open', 'lsm']);
      assert.deepEqual(trace.cmds(), [], 'the server made bpf() calls for refused objects');
      // the witness can fail: a load that reaches the kernel shows up
      await s.ok('load_program', { path: obj('load_basic'), verify_only: true });
      assert.ok(trace.cmds().includes(BPF_PROG_LOAD));
    } finally {
      trace.close();
    }
    const names = progNames();
    for (const n of ['bl_signal', 'bl_nested', 'bl_write', 'pr_loop', 'pr_throw', 'lsm_open']) assert.ok(!names.has(n), n);
  });
});

test('policy flags move the defaults', async () => {
  await withServer(full('--allow-helper', 'send_signal', '--block-prog-type', 'socket_filter'), async (s) => {
    const r = await s.ok('load_program', { path: obj('load_blocked'), programs: ['bl_signal'], verify_only: true });
    const pol = r.policy.programs[0];
    assert.equal(pol.helpers.find((h) => h.name === 'bpf_send_signal').count, 1);
    assert.ok(!r.policy.blocked.some((b) => b.name === 'bpf_send_signal'));
    assert.ok(r.policy.blocked.some((b) => b.name === 'bpf_send_signal_thread'));
    assert.ok(!r.policy.allowed_types.includes('socket_filter'));
    const e = errOf(await s.call('load_program', { path: obj('load_basic') }));
    assert.equal(e.code, 'PROG_TYPE_NOT_ALLOWED');
    assert.equal(e.context.program, 'lb_sock');
    await s.ok('load_program', { path: obj('load_basic'), programs: ['lb_tp'], verify_only: true });
  });
  // kfuncs: reported by name with their vmlinux BTF id; blockable by name
  const btfId = (name) => Number(sh(`${BPFTOOL} btf dump file /sys/kernel/btf/vmlinux | grep -E "^\\[[0-9]+\\] FUNC '${name}' "`).match(/^\[(\d+)\]/)[1]);
  await withServer(full(), async (s) => {
    const r = await s.ok('load_program', { path: obj('load_kfunc'), verify_only: true });
    const k = Object.fromEntries(r.policy.programs[0].kfuncs.map((x) => [x.name, x]));
    assert.deepEqual(Object.keys(k).sort(), ['bpf_rcu_read_lock', 'bpf_rcu_read_unlock']);
    assert.equal(k.bpf_rcu_read_lock.btf_id, btfId('bpf_rcu_read_lock'));
    assert.equal(k.bpf_rcu_read_unlock.count, 1);
  });
  const fns = elfFunctions(obj('load_kfunc'));
  await withServer(full('--block-helper', 'bpf_rcu_read_unlock', '--allow-prog-type', 'lsm'), async (s) => {
    const e = errOf(await s.call('load_program', { path: obj('load_kfunc') }));
    assert.equal(e.code, 'HELPER_BLOCKED');
    assert.equal(e.context.kind, 'kfunc');
    assert.equal(e.context.helper, 'bpf_rcu_read_unlock');
    assert.equal(e.context.insn, fns.get('kf_rcu').calls.filter((c) => c.src === 1)[1].insn);
    assert.equal(e.context.helper_id, undefined);
    // lsm is past the policy now: whatever the kernel answers, it is not the policy's refusal
    const r = await s.call('load_program', { path: obj('load_lsm'), verify_only: true });
    if (r.isError) assert.notEqual(r.structuredContent.error.code, 'PROG_TYPE_NOT_ALLOWED');
    await assertNoneNamed(['lsm_open']);
  });
});

test('paths outside --object-dir and bad inline data are refused', async () => {
  copyFileSync(obj('load_basic'), path.join(root, 'outside.bpf.o'));
  mkdirSync(`${dir}-evil`);
  copyFileSync(obj('load_basic'), `${dir}-evil/load_basic.bpf.o`);
  symlinkSync('../outside.bpf.o', path.join(dir, 'link.bpf.o'));
  symlinkSync('/dev/zero', path.join(dir, 'zero.bpf.o'));
  mkdirSync(path.join(dir, 'sub.bpf.o'));
  sh(`mkfifo ${path.join(dir, 'fifo.bpf.o')}`);
  writeFileSync(path.join(dir, 'over.bpf.o'), Buffer.alloc(4097, 1));
  writeFileSync(path.join(dir, 'at.bpf.o'), Buffer.alloc(4096, 1));
  const cases = [
    [`${dir}/../outside.bpf.o`, 'PATH_NOT_ALLOWED'],
    [path.join(dir, 'link.bpf.o'), 'PATH_NOT_ALLOWED'],
    [`${dir}-evil/load_basic.bpf.o`, 'PATH_NOT_ALLOWED'],
    [path.join(dir, 'zero.bpf.o'), 'PATH_NOT_ALLOWED'],
    ['/dev/zero', 'PATH_NOT_ALLOWED'],
    [path.join(dir, 'sub.bpf.o'), 'NOT_REGULAR_FILE'],
    [path.join(dir, 'fifo.bpf.o'), 'NOT_REGULAR_FILE'],
    [path.join(dir, 'absent.bpf.o'), 'ENOENT'],
    [path.join(dir, 'over.bpf.o'), 'LIMIT_OBJECT_BYTES'],
    [path.join(dir, 'at.bpf.o'), 'BAD_OBJECT'],   // at the cap: read, then not an ELF
  ];
  await withServer(full('--limit', 'object_bytes=4096'), async (s) => {
    for (const [p, code] of cases) {
      const e = errOf(await s.call('load_program', { path: p }));
      assert.equal(e.code, code, p);
      if (code === 'PATH_NOT_ALLOWED') {
        assert.equal(e.category, 'permission');
        assert.equal(e.context.pointer, '/path');
      }
    }
    const big = errOf(await s.call('load_program', { data: Buffer.alloc(4100, 7).toString('base64') }));
    assert.equal(big.code, 'LIMIT_OBJECT_BYTES');
    await s.ok('info');
  });
  await withServer(full(), async (s) => {
    const bad = errOf(await s.call('load_program', { data: 'AAA!' }));
    assert.equal(bad.code, 'BAD_BASE64');
    assert.equal(bad.context.pointer, '/data');
    // only canonical base64: no stray bits before the padding, no padding
    // but at the end, quads only
    for (const [data, at] of [['Zh==', 1], ['Zm9=', 2], ['Zg==Zg==', 2], ['Z===', 1], ['Zm9vY', 5]]) {
      const e = errOf(await s.call('load_program', { data }));
      assert.equal(e.code, 'BAD_BASE64', data);
      assert.match(e.message, new RegExp(`problem at character ${at}\\b`), data);
    }
    const notElf = errOf(await s.call('load_program', { data: Buffer.from('not an ELF object').toString('base64') }));
    assert.equal(notElf.code, 'BAD_OBJECT');
    const both = errOf(await s.call('load_program', { path: obj('load_basic'), data: 'AAAA' }));
    assert.equal(both.code, 'SCHEMA');
    await s.ok('info');
  });
  await withServer(['--profile', 'full'], async (s) => {   // no --object-dir at all
    const e = errOf(await s.call('load_program', { path: obj('load_basic') }));
    assert.equal(e.code, 'PATH_NOT_ALLOWED');
    const r = await s.ok('load_program', { data: readFileSync(obj('load_basic')).toString('base64'), verify_only: true });
    assert.equal(r.programs.length, 2);
  });
  await assertNoneNamed(['lb_tp', 'lb_sock'], ['lb_hash', 'lb_array']);
});

test('caps hold at exactly their value', async () => {
  await withServer(full('--limit', 'programs=2'), async (s) => {
    const a = await s.ok('load_program', { path: obj('load_basic') });   // 2 programs: at the cap
    const e = errOf(await s.call('load_program', { path: obj('load_big') }));
    assert.equal(e.code, 'LIMIT_PROGRAMS');
    assert.equal(e.category, 'resource');
    assert.equal(e.context.limit, 'programs');
    assert.equal(e.context.value, 2);
    assert.ok(!progNames().has('big_unrolled'));
    for (const p of a.programs) btOne('prog', p.id);   // still loaded
    await s.ok('unload_program', { handle: a.handle });
    const b = await s.ok('load_program', { path: obj('load_big') });
    assert.equal(btOne('prog', b.programs[0].id).name, 'big_unrolled');
  });
  await withServer(full('--limit', 'maps=2'), async (s) => {
    const a = await s.ok('load_program', { path: obj('load_basic') });
    assert.equal(a.maps.length, 2);
    const e = errOf(await s.call('load_program', { path: obj('load_mapmem') }));
    assert.equal(e.code, 'LIMIT_MAPS');
    assert.ok(!bt('map').some((m) => m.name === 'mm_array'));
  });
  // (4-byte key + 60-byte value) x 1024 entries = 65536 bytes
  await withServer(full('--limit', 'map_memory_bytes=65536'), async (s) => {
    const a = await s.ok('load_program', { path: obj('load_mapmem') });
    const w = btOne('map', a.maps[0].id);
    assert.equal((w.bytes_key + w.bytes_value) * w.max_entries, 65536);
    const e = errOf(await s.call('load_program', { path: obj('load_mapmem') }));
    assert.equal(e.code, 'LIMIT_MAP_MEMORY_BYTES');
    assert.equal(bt('map').filter((m) => m.name === 'mm_array').length, 1);
  });
  const n = elfFunctions(obj('load_big')).get('big_unrolled').size;
  await withServer(full('--limit', `prog_insns=${n}`), async (s) => {
    const r = await s.ok('load_program', { path: obj('load_big'), verify_only: true });
    assert.equal(r.programs[0].insns, n);
    assert.equal(r.policy.insn_cap, n);
  });
  await withServer(full('--limit', `prog_insns=${n - 1}`), async (s) => {
    const trace = bpfSyscalls(s.proc.pid);
    try {
      const e = errOf(await s.call('load_program', { path: obj('load_big') }));
      assert.equal(e.code, 'LIMIT_PROG_INSNS');
      assert.equal(e.context.program, 'big_unrolled');
      assert.equal(e.context.insns, n);
      assert.equal(e.context.value, n - 1);
      assert.deepEqual(trace.cmds(), []);
    } finally {
      trace.close();
    }
    await s.ok('info');
  });
  await assertNoneNamed(['big_unrolled', 'mm_sock', 'lb_tp', 'lb_sock'], ['mm_array', 'lb_hash', 'lb_array']);
});

test('load_program is not offered below the full profile', async () => {
  for (const profile of [[], ['--profile', 'observe'], ['--profile', 'readonly']]) {
    await withServer([...profile, '--object-dir', dir], async (s) => {
      const list = await s.request('tools/list', {});
      const names = list.result.tools.map((t) => t.name);
      assert.ok(!names.includes('load_program') && !names.includes('unload_program'), names.join());
      const r = await s.request('tools/call', { name: 'load_program', arguments: { path: obj('load_basic') } });
      assert.equal(r.error.code, -32602);
      assert.match(r.error.message, /load_program/);
      const u = await s.request('tools/call', { name: 'unload_program', arguments: { handle: 1 } });
      assert.equal(u.error.code, -32602);
    });
  }
  await assertNoneNamed(['lb_tp', 'lb_sock']);
  await withServer(full(), async (s) => {
    const names = (await s.request('tools/list', {})).result.tools.map((t) => t.name);
    assert.ok(names.includes('load_program') && names.includes('unload_program'));
  });
});

test('unknown policy flags stop the server at start-up', () => {
  for (const args of [['--allow-prog-type', 'nosuch'], ['--block-helper', 'bad-name'], ['--allow-helper']]) {
    let status = 0, stderr = '';
    try {
      sh(`${path.join(BUILD, '..', 'bin/ebpf-mcp')} ${args.join(' ')} </dev/null`);
    } catch (e) {
      status = e.status;
      stderr = e.stderr;
    }
    assert.equal(status, 2, args.join(' '));
    assert.match(stderr, new RegExp(args[0]));
  }
  assert.ok(existsSync(dir));
});

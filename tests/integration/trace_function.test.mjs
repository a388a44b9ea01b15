// trace_function on this host's kernel, which offers neither kprobes nor
// fentry (DESIGN.md: kprobes are configured out, fentry programs are
// refused with EPERM): the call must fail cleanly, saying why for each
// mechanism, leave nothing behind, and keep the server serving. Where a
// kernel does offer one, the same test traces the test's own opens instead.
// The checks before anything loads are proven here too, each against the
// kernel's own lists: /proc/kallsyms, BTF as bpftool reads it, and tracefs.
// The traces themselves are proven in the 6.1 guest (tests/guest/trace_function.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, withServer, ensureMounts, sh } from '../lib/mcp.mjs';
import { BPFTOOL, OBJ_DIR, fails } from '../lib/kern.mjs';

ensureMounts();

const TEST = { timeout: 120000 };

// What this kernel offers, as the kernel itself shows it.
const KPROBES = existsSync('/sys/bus/event_source/devices/kprobe') || existsSync('/sys/kernel/tracing/kprobe_events');
function fentryLoads() {
  const pin = `/sys/fs/bpf/tf_probe_${process.pid}`;
  try {
    sh(`${BPFTOOL} prog loadall ${path.join(OBJ_DIR, 'attach_fentry.bpf.o')} ${pin}`);
    return true;
  } catch (e) {
    return false;
  } finally {
    sh(`rm -rf ${pin}`);
  }
}
const FENTRY = fentryLoads();

// vmlinux BTF's FUNCs as bpftool reads them: name -> return type id.
let funcs;
function btfFuncs() {
  if (funcs) return funcs;
  const text = sh(`${BPFTOOL} btf dump file /sys/kernel/btf/vmlinux format raw`);
  const protoRet = new Map();
  for (const m of text.matchAll(/^\[(\d+)\] FUNC_PROTO '\(anon\)' ret_type_id=(\d+)/gm)) protoRet.set(m[1], +m[2]);
  funcs = new Map();
  for (const m of text.matchAll(/^\[\d+\] FUNC '([^']+)' type_id=(\d+)/gm)) funcs.set(m[1], protoRet.get(m[2]));
  return funcs;
}

function kallsymsText() {
  const out = new Map();   // core kernel text symbols: name -> count
  for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
    const [, type, name, mod] = line.split(/\s+/);
    if (!name || mod || !/^[tTwW]$/.test(type)) continue;
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}

// available_filter_functions, or null where the kernel does not let it be read.
function traceable() {
  try {
    return new Set(readFileSync('/sys/kernel/tracing/available_filter_functions', 'utf8').split('\n').map((l) => l.split(' ')[0]));
  } catch { return null; }
}

// The server's BPF objects and descriptors (/proc), and any tf_ program in
// the kernel (bpftool): what a run may leave behind.
function footprint(pid) {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const progs = JSON.parse(sh(`${BPFTOOL} -j prog show`)).filter((p) => p.name?.startsWith('tf_'));
  return { fds, progs: progs.map((p) => p.id) };
}

test('no kprobes and fentry refused: the call fails saying why for each, and leaves nothing behind', TEST, async () => {
  if (KPROBES || FENTRY) return tracesHere();
  await withServer([], async (s) => {
    const pid = s.proc.pid;
    await s.ok('info');   // warm up what the server opens once
    const before = footprint(pid);
    let e = await fails(s, 'trace_function', { function: 'do_sys_openat2', duration_ms: 1000 });
    assert.equal(e.code, 'NO_FUNCTION_TRACING');
    assert.equal(e.category, 'kernel');
    assert.equal(e.recoverable, false);
    assert.match(e.message, /neither fentry\/fexit nor kprobes work on this kernel for 'do_sys_openat2'/);
    assert.equal(e.context.function, 'do_sys_openat2');
    // bpftool could not load an fentry program either: the kernel refuses it
    assert.match(e.context.fentry, /^loading fentry\/fexit for do_sys_openat2 failed: EPERM \(Operation not permitted\)/);
    assert.match(e.context.fentry, /a minimal fentry program fails alike/);
    // and there is no kprobe PMU nor kprobe_events
    assert.match(e.context.kprobe, /^no kprobe support: no kprobe PMU in \/sys\/bus\/event_source\/devices/);
    for (const [mechanism, other] of [['fentry', 'kprobe'], ['kprobe', 'fentry']]) {
      e = await fails(s, 'trace_function', { function: 'do_sys_openat2', mechanism });
      assert.equal(e.code, 'NO_FUNCTION_TRACING');
      assert.match(e.message, new RegExp(`^${mechanism} does not work here for 'do_sys_openat2'`));
      assert.equal(e.context[other], `not tried: mechanism "${mechanism}" was asked for`);
    }
    assert.deepEqual(footprint(pid), before, 'no program, map or descriptor left');
    assert.deepEqual((await s.request('ping')).result, {}, 'the server keeps serving');
  });
});

// A kernel that can trace: the test's own opens of a file of its own.
async function tracesHere() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-'));
  const file = path.join(dir, 'opened');
  writeFileSync(file, 'x');
  try {
    await withServer([], async (s) => {
      const pending = s.request('tools/call', { name: 'trace_function', arguments: {
        function: 'do_sys_openat2', duration_ms: 3000, pid: process.pid, max_events: 1000,
      }, _meta: { progressToken: 'tf' } });
      while (!s.notifications.some((n) => n.params?.progressToken === 'tf')) await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 3; i++) closeSync(openSync(file, 'r'));
      for (let i = 0; i < 2; i++) assert.throws(() => openSync(`${file}.missing`, 'r'), { code: 'ENOENT' });
      const { result } = await pending;
      const r = result.structuredContent;
      assert.ok(!result.isError, JSON.stringify(r));
      const at = (p) => r.events.filter((e) => e.args[1].value === p);
      assert.equal(at(file).length, 3);
      assert.equal(at(`${file}.missing`).length, 2);
      for (const e of at(`${file}.missing`)) assert.equal(e.ret.errno, 'ENOENT');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a function that does not exist or has no BTF: the error names the check and suggests neighbours', TEST, async () => {
  const syms = kallsymsText(), btf = btfFuncs(), aff = traceable();
  await withServer([], async (s) => {
    // 1. kallsyms
    assert.equal(syms.has('do_sys_openat3'), false);
    assert.equal(syms.has('do_sys_openat2'), true);
    let e = await fails(s, 'trace_function', { function: 'do_sys_openat3' });
    assert.equal(e.code, 'NO_SUCH_FUNCTION');
    assert.equal(e.context.check, 'kallsyms');
    assert.equal(e.context.pointer, '/function');
    assert.ok(e.context.suggestions.includes('do_sys_openat2'), JSON.stringify(e.context.suggestions));
    assert.ok(e.context.suggestions.length <= 5);
    for (const n of e.context.suggestions) assert.ok(syms.has(n), `${n} is in /proc/kallsyms`);
    assert.ok(e.context.searched.candidates > 1000, 'every text symbol was a candidate');

    // 3. BTF: a compiler-made copy (name.isra.0, ...) of a function BTF describes
    const copy = [...syms.keys()].find((n) => /^[a-z_][a-z0-9_]*\.(isra|constprop|part)\.0$/.test(n) &&
      syms.get(n) === 1 && !btf.has(n) && btf.has(n.split('.')[0]) && (!aff || aff.has(n)));
    assert.ok(copy, 'this kernel has such a copy');
    e = await fails(s, 'trace_function', { function: copy });
    assert.equal(e.code, 'NOT_IN_BTF');
    assert.equal(e.context.check, 'btf');
    assert.equal(e.context.copy_of, copy.split('.')[0]);
    assert.match(e.message, /compiler specialized/);

    // 2. available_filter_functions, where this kernel lets it be read
    if (aff) {
      const notrace = [...syms.keys()].find((n) => btf.has(n) && !aff.has(n) && syms.get(n) === 1);
      e = await fails(s, 'trace_function', { function: notrace });
      assert.equal(e.code, 'FUNCTION_NOT_TRACEABLE');
      assert.equal(e.context.check, 'available_filter_functions');
    }

    e = await fails(s, 'trace_function', { function: 'do_sys;openat2' });
    assert.equal(e.code, 'BAD_TARGET');
    assert.equal(e.context.pointer, '/function');
    assert.deepEqual((await s.request('ping')).result, {});
  });
});

test('errors_only on a function that returns nothing is refused, naming its prototype', TEST, async () => {
  assert.equal(btfFuncs().get('msleep'), 0, 'bpftool: msleep returns void');
  await withServer([], async (s) => {
    const e = await fails(s, 'trace_function', { function: 'msleep', errors_only: true });
    assert.equal(e.code, 'CONFLICTING_ARGS');
    assert.equal(e.context.pointer, '/errors_only');
    assert.equal(e.context.prototype, 'void msleep(unsigned int msecs)');
  });
});

test('the policy: both program types blocked is a permission error; one blocked is named as the reason', TEST, async () => {
  await withServer(['--block-prog-type', 'tracing', '--block-prog-type', 'kprobe'], async (s) => {
    const e = await fails(s, 'trace_function', { function: 'do_sys_openat2' });
    assert.equal(e.code, 'FUNCTION_TRACING_DENIED');
    assert.equal(e.category, 'permission');
    assert.equal(e.context.fentry, 'the policy does not load tracing programs (--allow-prog-type tracing)');
    assert.equal(e.context.kprobe, 'the policy does not load kprobe programs (--allow-prog-type kprobe)');
  });
  await withServer(['--block-helper', 'bpf_get_func_arg'], async (s) => {
    const r = await s.call('trace_function', { function: 'do_sys_openat2', duration_ms: 500, mechanism: 'fentry' });
    const e = r.structuredContent.error;
    assert.equal(e.code, 'FUNCTION_TRACING_DENIED');
    assert.equal(e.context.fentry, 'the policy blocks the helper bpf_get_func_arg, which the fentry programs call');
  });
  if (KPROBES || FENTRY) return;
  await withServer(['--block-prog-type', 'kprobe'], async (s) => {
    const e = await fails(s, 'trace_function', { function: 'do_sys_openat2' });
    assert.equal(e.code, 'NO_FUNCTION_TRACING', 'fentry was tried and refused by the kernel');
    assert.match(e.context.fentry, /EPERM/);
    assert.equal(e.context.kprobe, 'the policy does not load kprobe programs (--allow-prog-type kprobe)');
  });
});

test('max_events and limit: at the caps taken, just over them refused naming the limit', TEST, async () => {
  await withServer(['--limit', 'stream_events=10', '--limit', 'list_items=5'], async (s) => {
    let e = await fails(s, 'trace_function', { function: 'do_sys_openat2', max_events: 11 });
    assert.equal(e.code, 'LIMIT_STREAM_EVENTS');
    e = await fails(s, 'trace_function', { function: 'do_sys_openat2', max_events: 10, limit: 6 });
    assert.equal(e.code, 'LIMIT_LIST_ITEMS');
    // at the caps the arguments pass, and the call goes on to the kernel
    const r = await s.call('trace_function', { function: 'do_sys_openat2', max_events: 10, limit: 5, duration_ms: 200 });
    assert.doesNotMatch(r.structuredContent.error?.code ?? 'none', /^LIMIT_/);
  });
});

test('the tool is listed in the observe profile, not in readonly', TEST, async () => {
  for (const [profile, listed] of [['observe', true], ['readonly', false]]) {
    const s = new Server(['--profile', profile]);
    try {
      await s.init();
      const r = await s.request('tools/list', {});
      assert.equal(r.result.tools.some((t) => t.name === 'trace_function'), listed, profile);
    } finally {
      await s.close();
    }
  }
});

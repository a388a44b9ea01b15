// trace_function on a kernel that can run it: the pinned Debian 6.1 guest
// (tests/lib/guest.mjs), where fentry/fexit and kprobes both work (this
// host has neither). The guest has no other process: the workload is the
// server's own (pid 1, comm "init") doing what the test asks of it, so the
// test knows every call it caused.
//
// Witnesses: the test's own workload (which files it made the guest open,
// which map keys it looked up, and what those calls answered); the guest
// kernel's BTF read on the host with bpftool (function ids and parameter
// names); the guest kernel's own list of programs and links while a trace
// runs (inspect_state: the program type, attach_btf_id, the link kind), and
// after it (nothing left). One guest boots for the whole file; under TCG a
// trace takes seconds to load, so durations are generous.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD } from '../lib/mcp.mjs';
import { bootGuest, GUEST } from '../lib/guest.mjs';

const TRACE_MS = 20000;             // the workload takes about a second of it under TCG
const FORMAT = 'tracefs://events/sched/sched_switch/format';
const FORMAT_PATH = '/sys/kernel/tracing/events/sched/sched_switch/format';
const MISSING = 'tracefs://events/nosuch_tf/nosuch/format';
const MISSING_PATH = '/sys/kernel/tracing/events/nosuch_tf/nosuch/format';
const KERNEL_HALF = 0xffff800000000000n;

let g;
let btf;   // the guest kernel's BTF as bpftool reads it on the host
before(async () => {
  btf = guestBtf();
  g = await bootGuest({ args: ['--profile', 'full', '--validate-output', '--limit', 'call_ms=120000'] });
});
after(async () => { if (g) await g.kill(); });

// FUNC name -> { id, params: [names] } from `bpftool btf dump file vmlinux`
// (or a module's .ko, split on vmlinux).
function guestBtf(module) {
  const file = module ? ['-B', path.join(GUEST, 'vmlinux'), 'btf', 'dump', 'file', path.join(GUEST, 'modules', `${module}.ko`)]
    : ['btf', 'dump', 'file', path.join(GUEST, 'vmlinux')];
  const text = execFileSync('bpftool', [...file, 'format', 'raw'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const protos = new Map(), funcs = new Map();
  let cur = null;
  for (const line of text.split('\n')) {
    let m;
    if ((m = /^\[(\d+)\] FUNC_PROTO /.exec(line))) protos.set(+m[1], cur = []);
    else if ((m = /^\t'([^']*)' type_id=/.exec(line)) && cur) cur.push(m[1]);
    else if ((m = /^\[(\d+)\] FUNC '([^']+)' type_id=(\d+)/.exec(line))) funcs.set(m[2], { id: +m[1], proto: +m[3] }), cur = null;
    else cur = null;
  }
  return (name) => {
    const f = funcs.get(name);
    return f && { id: f.id, params: protos.get(f.proto) };
  };
}

// Runs trace_function while work() runs inside its duration; returns the
// result and what work() returned.
async function traced(args, work) {
  const token = `tf-${Math.random()}`;
  const pending = g.server.request('tools/call', {
    name: 'trace_function', arguments: { duration_ms: TRACE_MS, pid: 1, ...args }, _meta: { progressToken: token },
  }, { timeoutMs: 180000 });
  let early;
  pending.then((r) => { early = r; });
  // the first progress comes once the programs are attached
  while (!g.server.notifications.some((n) => n.params?.progressToken === token)) {
    if (early) assert.fail(`trace_function ended before it started: ${JSON.stringify(early)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  const t0 = Date.now();
  const got = await work();
  const workMs = Date.now() - t0;
  assert.ok(workMs < TRACE_MS / 2, `the workload took ${workMs} ms of the ${TRACE_MS} ms traced`);
  const { result, error } = await pending;
  assert.ok(!error && !result.isError, JSON.stringify(error ?? result.structuredContent));
  return { r: result.structuredContent, got };
}

// Opens the guest makes for resources/read of a tracepoint format file: the
// file itself (and /proc/self/mounts on the way, which the test ignores).
async function readFormat(uri, n) {
  for (let i = 0; i < n; i++) await g.server.request('resources/read', { uri });
}

async function kernelObjects() {
  const st = await g.server.ok('inspect_state', { kinds: ['program', 'link'] });
  const progs = st.programs.items.filter((p) => p.name.startsWith('tf_'));
  const ids = new Set(progs.map((p) => p.id));
  return { progs, links: st.links.items.filter((l) => ids.has(l.prog_id)) };
}

// The job releases its objects on a worker once the reply is out: wait
// for them to go (bounded), then none may be left.
async function noneLeft() {
  const deadline = Date.now() + 30000;
  let left;
  while ((left = (await kernelObjects()).progs).length && Date.now() < deadline)
    await new Promise((res) => setTimeout(res, 100));
  assert.deepEqual(left, [], 'nothing left in the kernel after the run');
}

const byPath = (r, p) => r.events.filter((e) => e.args?.[1]?.value === p);

test('do_sys_openat2 over fentry: the path argument read as a string, the fd or ENOENT returned', async (t) => {
  const want = btf('do_sys_openat2');
  assert.deepEqual(want?.params, ['dfd', 'filename', 'how'], 'the guest BTF, as bpftool reads it');
  let during;
  const { r } = await traced({ function: 'do_sys_openat2' }, async () => {
    during = await kernelObjects();
    await readFormat(FORMAT, 3);
    await readFormat(MISSING, 2);
  });
  t.diagnostic(`calls ${JSON.stringify(r.calls)}, p50 ${r.latency.p50_ns} ns, returns ${JSON.stringify(r.returns)}`);
  // what was attached, as the guest kernel shows it
  assert.equal(r.mechanism, 'fentry');
  assert.equal(r.not_used.mechanism, 'kprobe');
  assert.match(r.not_used.why, /not needed: fentry\/fexit attached/);
  assert.deepEqual(during.progs.map((p) => [p.name, p.type]).sort(), [['tf_fentry', 'tracing'], ['tf_fexit', 'tracing']]);
  for (const p of during.progs) assert.equal(p.attach_btf_id, want.id, `${p.name} loaded with attach_btf_id`);
  assert.equal(r.btf_id, want.id);
  assert.deepEqual(during.links.map((l) => l.type), ['tracing', 'tracing']);
  await noneLeft();
  assert.equal(r.prototype, 'long int do_sys_openat2(int dfd, const char *filename, struct open_how *how)');

  // the opens the test caused, read back from the samples
  const opened = byPath(r, FORMAT_PATH), missing = byPath(r, MISSING_PATH);
  assert.equal(opened.length, 3, 'one sample per read of the format file');
  assert.equal(missing.length, 2, 'one sample per read of the missing one');
  for (const e of [...opened, ...missing]) {
    assert.equal(e.pid, 1);
    assert.equal(e.comm, 'init');
    assert.deepEqual(e.args.map((a) => a.name), want.params);
    assert.deepEqual(e.args[0], { name: 'dfd', type: 'int', value: -100 }, 'AT_FDCWD, sign and width from BTF');
    assert.ok(BigInt(e.args[1].address) < KERNEL_HALF, 'the path is a user pointer, read from user memory');
    assert.ok(BigInt(e.args[2].value) >= KERNEL_HALF, 'struct open_how * as a kernel address');
    assert.ok(e.latency_ns > 0);
  }
  for (const e of opened) {
    assert.ok(Number.isInteger(e.ret.value) && e.ret.value >= 0, `an fd: ${JSON.stringify(e.ret)}`);
    assert.equal(e.ret.errno, undefined);
  }
  for (const e of missing) assert.deepEqual(e.ret, { type: 'long int', value: -2, errno: 'ENOENT' });

  // aggregates agree with each other and with the samples
  assert.equal(r.events_not_sent, 0);
  assert.equal(r.count, r.calls.counted, 'every counted call was sampled');
  assert.equal(r.latency.count, r.calls.counted);
  assert.equal(r.returns.reduce((s, x) => s + x.count, 0), r.calls.counted);
  const enoent = r.returns.find((x) => x.errno === 'ENOENT');
  assert.equal(enoent?.value, -2);
  assert.equal(enoent.count, r.events.filter((e) => e.ret.errno === 'ENOENT').length);
  assert.ok(enoent.count >= 2);
});

test('do_sys_openat2 over kprobe/kretprobe when asked, with errors_only: only the failed opens', async () => {
  let during;
  const { r } = await traced({ function: 'do_sys_openat2', mechanism: 'kprobe', errors_only: true }, async () => {
    during = await kernelObjects();
    await readFormat(FORMAT, 2);
    await readFormat(MISSING, 2);
  });
  assert.equal(r.mechanism, 'kprobe');
  assert.deepEqual(r.not_used, { mechanism: 'fentry', why: 'not tried: mechanism "kprobe" was asked for' });
  assert.deepEqual(during.progs.map((p) => [p.name, p.type]).sort(), [['tf_kprobe', 'kprobe'], ['tf_kretprobe', 'kprobe']]);
  assert.deepEqual(during.links.map((l) => l.type), ['perf_event', 'perf_event'], '6.1 shows kprobe links as perf_event');
  await noneLeft();
  const missing = byPath(r, MISSING_PATH);
  assert.equal(missing.length, 2);
  for (const e of missing) assert.deepEqual(e.ret, { type: 'long int', value: -2, errno: 'ENOENT' });
  assert.equal(byPath(r, FORMAT_PATH).length, 0, 'the opens that succeeded were left out');
  for (const e of r.events) assert.ok(e.ret.errno, `only errors: ${JSON.stringify(e.ret)}`);
  assert.ok(r.calls.filtered_errors >= 2, 'the two format opens were seen and left out');
  assert.equal(r.calls.counted, r.count);
});

test('bpf_map_copy_value: a struct bpf_map * shows as an address; calls and returns are the lookups the test made', async (t) => {
  const want = btf('bpf_map_copy_value');
  assert.deepEqual(want?.params, ['map', 'key', 'value', 'flags']);
  const data = readFileSync(path.join(BUILD, 'bpf/maps.bpf.o')).toString('base64');
  const o = await g.server.ok('load_program', { data });
  try {
    const map = o.maps.find((m) => m.name === 'mt_hash');
    await g.server.ok('map_update', { map_id: map.id, entries: [{ key: 7, value: 42 }] });
    const { r, got } = await traced({ function: 'bpf_map_copy_value', stack: true }, async () => {
      const found = [], lost = [];
      for (let i = 0; i < 3; i++) found.push(...(await g.server.ok('map_lookup', { map_id: map.id, keys: [7] })).results);
      for (let i = 0; i < 2; i++) lost.push(...(await g.server.ok('map_lookup', { map_id: map.id, keys: [8] })).results);
      return { found, lost };
    });
    // the workload's own answers: three hits, two misses
    assert.deepEqual(got.found.map((x) => x.value), [42, 42, 42]);
    assert.deepEqual(got.lost.map((x) => x.found), [false, false]);
    assert.equal(r.calls.counted, 5, 'one call per lookup');
    assert.deepEqual(r.returns, [{ value: 0, count: 3 }, { value: -2, errno: 'ENOENT', count: 2 }]);
    assert.equal(r.btf_id, want.id);
    assert.equal(r.events.length, 5);
    const maps = new Set(r.events.map((e) => e.args[0].value));
    assert.equal(maps.size, 1, 'one map, one address');
    for (const e of r.events) {
      assert.deepEqual(e.args.map((a) => [a.name, a.type]), [['map', 'struct bpf_map *'], ['key', 'void *'],
        ['value', 'void *'], ['flags', '__u64']]);
      assert.match(e.args[0].value, /^0x[0-9a-f]+$/);
      assert.ok(BigInt(e.args[0].value) >= KERNEL_HALF, 'a kernel address');
      assert.equal(e.args[3].value, 0);
      assert.ok(r.stacks.some((s) => s.stack_id === e.stack_id));
    }
    assert.equal(r.stacks.reduce((s, x) => s + x.count, 0), 5);
    for (const s of r.stacks) {
      t.diagnostic(s.frames.slice(0, 4).join(' < '));
      assert.match(s.frames[0], /^bpf_map_copy_value\+0x/, 'the stack starts at the traced function');
      assert.ok(s.frames.some((f) => /^__sys_bpf\+0x/.test(f)), 'called from the bpf() syscall');
    }
  } finally {
    await g.server.ok('unload_program', { handle: o.handle });
  }
  await noneLeft();
});

test('bpf_obj_name_cpy: kernel strings read as strings, the length returned; the names are the loaded objects\'', async () => {
  assert.deepEqual(btf('bpf_obj_name_cpy')?.params, ['dst', 'src', 'size']);
  const data = readFileSync(path.join(BUILD, 'bpf/maps.bpf.o')).toString('base64');
  let o;
  const { r } = await traced({ function: 'bpf_obj_name_cpy', max_events: 1000 }, async () => {
    o = await g.server.ok('load_program', { data });
  });
  try {
    // the kernel's own names for what the load made
    const st = await g.server.ok('inspect_state', { kinds: ['map', 'program'] });
    const mine = new Set([...o.maps.map((m) => m.id), ...o.programs.map((p) => p.id)]);
    const names = [...st.maps.items, ...st.programs.items].filter((x) => mine.has(x.id)).map((x) => x.name);
    assert.ok(names.length >= 7, JSON.stringify(names));
    const src = r.events.map((e) => e.args[1].value);
    for (const n of names) assert.ok(src.includes(n), `${n} was copied: ${JSON.stringify(src)}`);
    for (const e of r.events) {
      assert.deepEqual(e.args.map((a) => [a.name, a.type]), [['dst', 'char *'], ['src', 'const char *'], ['size', 'unsigned int']]);
      assert.ok(BigInt(e.args[1].address) >= KERNEL_HALF, 'a kernel string (the copy of bpf_attr), read from kernel memory');
      assert.equal(e.args[2].value, 16, 'BPF_OBJ_NAME_LEN');
      assert.equal(e.ret.value, e.args[1].value.length, 'it returns the name\'s length');
    }
  } finally {
    await g.server.ok('unload_program', { handle: o.handle });
  }
  await noneLeft();
});

test('a module function: port_fops_write of virtio_console, through the module\'s BTF, sees the replies the test reads', async () => {
  const want = guestBtf('virtio_console')('port_fops_write');
  assert.deepEqual(want?.params, ['filp', 'ubuf', 'count', 'offp'], 'the module\'s BTF, as bpftool reads the .ko');
  let during, btfObjs;
  const { r } = await traced({ function: 'port_fops_write', max_events: 1000 }, async () => {
    during = await kernelObjects();
    btfObjs = (await g.server.ok('inspect_state', { kinds: ['btf'] })).btf.items;
    for (let i = 0; i < 3; i++) assert.deepEqual((await g.server.request('ping')).result, {});
  });
  assert.equal(r.module, 'virtio_console');
  assert.equal(r.btf, 'virtio_console');
  assert.equal(r.btf_id, want.id);
  assert.equal(r.prototype, 'ssize_t port_fops_write(struct file *filp, const char *ubuf, size_t count, loff_t *offp)');
  assert.equal(r.mechanism, 'fentry');
  // the kernel's view: attached through the module's BTF object
  const modBtf = btfObjs.find((b) => b.name === 'virtio_console');
  assert.ok(modBtf, 'the guest kernel holds virtio_console\'s BTF');
  for (const p of during.progs) {
    assert.equal(p.attach_btf_obj_id, modBtf.id, `${p.name}: attach_btf_obj_id is the module's BTF`);
    assert.equal(p.attach_btf_id, want.id);
  }
  await noneLeft();
  // every write is a piece of what reached the test on the port
  const port = g.portText();
  assert.ok(r.events.length >= 4, `the three pings' replies and inspect_state's at least: ${r.events.length}`);
  for (const e of r.events) {
    const [, ubuf, count] = e.args;
    assert.ok(e.ret.value > 0 && e.ret.value <= count.value, JSON.stringify(e.ret));
    assert.ok(port.includes(ubuf.value.slice(0, e.ret.value)), `written and received: ${ubuf.value}`);
    assert.ok(BigInt(ubuf.address) < KERNEL_HALF, 'a user buffer');
  }
  assert.ok(r.events.some((e) => /^\{"jsonrpc":"2.0","id":\d+,"result":\{\}\}/.test(e.args[1].value)), 'a ping reply');
});

test('trace_function in the background: trace_start, each trace_read the opens since the last, trace_stop the end', async () => {
  const st = await g.server.ok('trace_start', {
    tracer: 'trace_function', arguments: { function: 'do_sys_openat2', pid: 1, duration_ms: 120000 },
  });
  await readFormat(MISSING, 2);
  const first = await g.server.ok('trace_read', { handle: st.handle });
  await readFormat(MISSING, 3);
  const last = await g.server.ok('trace_stop', { handle: st.handle });
  assert.equal(first.running, true);
  assert.equal(first.mechanism, 'fentry');
  assert.equal(byPath(first, MISSING_PATH).length, 2, 'the first read: the first two');
  assert.equal(last.running, false);
  assert.equal(last.stopped_by, 'trace_stop');
  assert.equal(byPath(last, MISSING_PATH).length, 3, 'the last read: the three since');
  const enoent = (r) => r.returns.find((x) => x.errno === 'ENOENT')?.count ?? 0;
  assert.ok(enoent(first) >= 2 && enoent(last) >= enoent(first) + 3, 'the counts are the whole run\'s');
  assert.equal(last.latency.count, last.calls.counted);
  await noneLeft();
});

test('a function that cannot be traced: the error names the check and suggests neighbours', async () => {
  const fails = async (fn) => {
    const r = await g.server.call('trace_function', { function: fn, duration_ms: 1000 });
    assert.equal(r.isError, true, fn);
    return r.structuredContent.error;
  };
  let e = await fails('do_sys_openat3');
  assert.equal(e.code, 'NO_SUCH_FUNCTION');
  assert.equal(e.context.check, 'kallsyms');
  assert.ok(e.context.suggestions.includes('do_sys_openat2'), JSON.stringify(e.context.suggestions));
  assert.ok(e.context.suggestions.length <= 5);

  // kernel/trace is built without ftrace hooks: in kallsyms and BTF, not traceable
  assert.ok(btf('trace_format_open'), 'the guest BTF describes trace_format_open');
  const lk = await g.server.ok('list_kernel_functions', { pattern: 'trace_format_open' });
  assert.deepEqual(lk.functions.map((f) => [f.name, f.traceable, f.btf]), [['trace_format_open', false, true]]);
  e = await fails('trace_format_open');
  assert.equal(e.code, 'FUNCTION_NOT_TRACEABLE');
  assert.equal(e.context.check, 'available_filter_functions');
  assert.match(e.message, /notrace/);

  // a compiler-made copy: traceable, but no BTF describes it
  let copy;
  for (const pattern of ['*.isra.0', '*.constprop.0', '*.part.0']) {
    const l = await g.server.ok('list_kernel_functions', { pattern, module: 'vmlinux', limit: 1000 });
    copy ??= l.functions.find((f) => f.traceable && !f.btf && btf(f.name.split('.')[0]));
  }
  assert.ok(copy, 'a traceable .isra/.constprop/.part copy of a function BTF describes');
  assert.equal(btf(copy.name), undefined, 'bpftool finds no FUNC of that name');
  e = await fails(copy.name);
  assert.equal(e.code, 'NOT_IN_BTF');
  assert.equal(e.context.check, 'btf');
  assert.equal(e.context.copy_of, copy.name.split('.')[0]);
  await noneLeft();
});

// Last: init's stderr is the guest console, where the sandbox logs each call it refused.
test('the sandbox refused no call the guest\'s tests made', () => {
  assert.doesNotMatch(g.console(), /sandbox: refused.*$/m);
  assert.match(g.console(), /serving MCP|ebpf-mcp/, 'the console holds init\'s own lines');
});

// prog_dump against bpftool on this kernel. Every test object in tests/bpf
// that the kernel loads (through load_program) and every built-in tracer
// (run through the server, its programs dumped while it runs) is dumped by
// both, and instruction for instruction the text (opcode, registers,
// immediates, jump offsets, call and map names), the function names and
// signatures, the source lines (text, file, line, column) and the raw bytes
// must equal `bpftool -j prog dump xlated id N` (with linum, and with
// opcodes). The maps, calls and functions listed once per program are
// checked against bpftool's prog/map show and its own text, and a dump
// leaves the server's descriptors as they were. Then paging (limit, offset,
// next_offset, the reply cap), the JIT image against the bytes the bare
// bpf() syscall returns, the errors, the profile, and a server without
// CAP_SYSLOG (the kernel hides addresses, from bpftool alike) or without
// CAP_SYS_ADMIN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { withServer, sh, ensureMounts, ROOT, BUILD } from '../lib/mcp.mjs';
import { BPFTOOL, OBJ_DIR, bpftool, sleep, progExists } from '../lib/kern.mjs';

// Objects the kernel refuses by design, or that need what this kernel may
// lack; any other object must load. Those that do load here are compared.
const MAY_BE_REFUSED = {
  load_reject: 'the verifier rejects it (reads past a map value)',
  helper_denied: 'the verifier rejects it (a socket filter writing packet bytes)',
  attach_fentry: 'kernels that refuse fentry refuse to load it (this one does; the 6.1 guest does not)',
  load_lsm: 'LSM programs need the bpf LSM enabled at boot',
};
// load_blocked's bl_write calls bpf_probe_write_user, which the verifier
// refuses in tracepoint programs: its other programs load.
const LOAD_ARGS = { load_blocked: { programs: ['bl_signal', 'bl_nested'] } };
// What lets the policy pass the objects the tests keep for its refusals.
const POLICY = ['--allow-helper', 'bpf_send_signal', '--allow-helper', 'bpf_send_signal_thread',
  '--allow-helper', 'bpf_probe_write_user', '--allow-prog-type', 'lsm'];
const FULL = ['--profile', 'full', '--object-dir', OBJ_DIR, ...POLICY];
const JIT_IMAGE = path.join(BUILD, 'test/tools/jit_image');
const ALL = ['--limit', 'list_items=100000', '--limit', 'response_bytes=64M'];

const OBJECTS = readdirSync(path.join(ROOT, 'tests/bpf')).filter((f) => f.endsWith('.bpf.c'))
  .map((f) => f.replace(/\.bpf\.c$/, '')).sort();
const TRACERS = readdirSync(path.join(ROOT, 'bpf')).filter((f) => f.endsWith('.bpf.c'))
  .map((f) => f.replace(/\.bpf\.c$/, '')).sort();

const stats = { programs: 0, insns: 0, normalized: { percpu_mov: 0, alias: 0 }, names: [] };
before(() => ensureMounts());
after(() => {
  console.log(`prog_dump == bpftool: ${stats.programs} programs, ${stats.insns} instructions compared ` +
    `(${stats.normalized.percpu_mov} per-CPU address moves and ${stats.normalized.alias} same-address ` +
    `symbol names normalized): ${stats.names.join(', ')}`);
});

// ---- the witness -------------------------------------------------------------

// bpftool's JSON opcodes as the instruction's bytes: code, regs (src high
// nibble), off and imm as stored (12 imm bytes for a 64-bit load: the rest
// of the second slot).
function bytesHex(op) {
  const b = [parseInt(op.code, 16), (parseInt(op.src_reg, 16) << 4) | parseInt(op.dst_reg, 16),
    ...op.off.map((x) => parseInt(x, 16)), ...op.imm.map((x) => parseInt(x, 16))];
  return b.map((x) => x.toString(16).padStart(2, '0')).join('');
}

// Symbols by name from /proc/kallsyms, read once when first needed.
let kallsyms;
function addressesOf(name) {
  if (!kallsyms) {
    kallsyms = new Map();
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const [addr, , sym] = line.split(/\s+/);
      if (!sym) continue;
      if (!kallsyms.has(sym)) kallsyms.set(sym, new Set());
      kallsyms.get(sym).add(addr);
    }
  }
  return kallsyms.get(name) ?? new Set();
}

// What bpftool's text may legitimately differ in, given our raw fields:
// - bpftool 7.1 (Debian 12) carries kernel 6.1's printer, which predates the
//   verifier's per-CPU address form (ALU64 MOV X with off -1, emitted where
//   it inlines bpf_get_smp_processor_id or per-CPU map lookups on newer
//   kernels) and prints it as a plain move;
// - bpftool names a call target by a binary search over kallsyms sorted by
//   address, so of two symbols at one address it may show either: equal when
//   both names sit at one address.
function normalized(ours, theirs) {
  if (ours.text === theirs) return theirs;
  const op = ours.opcodes;
  const plain = `(bf) r${op.dst_reg} = r${op.src_reg}`;
  if (op.code === 0xbf && op.off === -1 && theirs === plain &&
      ours.text === `(bf) r${op.dst_reg} = &(void __percpu *)(r${op.src_reg})`) {
    stats.normalized.percpu_mov++;
    return ours.text;
  }
  const a = ours.text.match(/^\(85\) call (\S+)#(-?\d+)$/), b = theirs.match(/^\(85\) call (\S+)#(-?\d+)$/);
  if (a && b && a[2] === b[2] && [...addressesOf(a[1])].some((x) => addressesOf(b[1]).has(x))) {
    stats.normalized.alias++;
    return ours.text;
  }
  return theirs;
}

// Every page of prog_dump for id, following next_offset: one list.
async function dumpAll(s, id, args = {}) {
  const pages = [];
  let offset = 0;
  for (;;) {
    const r = await s.ok('prog_dump', { program_id: id, opcodes: true, offset, ...args });
    pages.push(r);
    assert.equal(r.offset, offset);
    assert.equal(r.returned, r.insns.length);
    if (!r.truncated) {
      assert.equal(r.stopped_by, 'end');
      assert.equal(r.next_offset, undefined);
      break;
    }
    assert.ok(r.next_offset > offset, 'pages move on');
    offset = r.next_offset;
  }
  return { ...pages[0], insns: pages.flatMap((p) => p.insns), pages: pages.length };
}

// What a process holds open: fd -> target.
const fdsOf = (pid) => Object.fromEntries(readdirSync(`/proc/${pid}/fd`).map((fd) => {
  try { return [fd, readlinkSync(`/proc/${pid}/fd/${fd}`)]; } catch { return [fd, '']; }
}));

// bpftool, run under `wrap` (the same privileges as the server it witnesses).
const bt = (cmd, wrap = '') => JSON.parse(sh(`${wrap}${BPFTOOL} -j ${cmd}`));

// prog_dump of id equals bpftool, instruction for instruction.
async function compare(s, id, label, { args, wrap, quiet } = {}) {
  const fds = quiet ? fdsOf(s.proc.pid) : null;
  const ours = await dumpAll(s, id, args);
  if (quiet) assert.deepEqual(fdsOf(s.proc.pid), fds, `${label}: the server holds no new descriptor`);
  const lin = bt(`prog dump xlated id ${id} linum`, wrap);
  const ops = bt(`prog dump xlated id ${id} opcodes`, wrap);
  const show = bt(`prog show id ${id}`, wrap);
  assert.equal(ours.insns.length, lin.length, `${label}: instructions`);
  assert.equal(ops.length, lin.length);
  assert.equal(ours.total * 8, show.bytes_xlated, `${label}: slots`);
  assert.equal(ours.program.name, show.name);
  assert.equal(ours.program.tag, show.tag);
  assert.equal(ours.program.jited_bytes, show.bytes_jited ?? 0);
  let pc = 0;
  const protoAt = new Map();
  ours.insns.forEach((a, i) => {
    const b = lin[i], where = `${label} pc ${pc}`;
    assert.equal(a.pc, pc, `${where}: pc`);
    assert.equal(a.opcodes.hex, bytesHex(ops[i].opcodes), `${where}: bytes`);
    assert.equal(a.text, normalized(a, b.disasm), `${where}: text`);
    assert.equal(a.proto, b.proto, `${where}: proto`);
    assert.equal(a.src, b.src, `${where}: src`);
    assert.equal(a.file, b.file, `${where}: file`);
    assert.equal(a.line, b.line_num, `${where}: line`);
    assert.equal(a.col, b.line_col, `${where}: col`);
    if (b.proto) {
      assert.equal(a.function, b.proto.match(/(\w+)\(/)[1], `${where}: function name`);
      protoAt.set(pc, a.function);
    }
    const jump = a.text.match(/\) (?:if .* )?(?:goto|gotol|may_goto|call) pc([+-]\d+)/);
    assert.equal(a.target, jump ? pc + 1 + Number(jump[1]) : undefined, `${where}: target`);
    pc += a.opcodes.hex.length / 16;
  });
  checkSummary(ours, show, protoAt, label);
  stats.programs++;
  stats.insns += ours.insns.length;
  return ours;
}

// Maps, functions and calls listed once: from bpftool's prog/map show and
// from the (compared) text.
function checkSummary(ours, show, protoAt, label) {
  assert.deepEqual(ours.maps.map((m) => m.id).sort((x, y) => x - y), [...(show.map_ids ?? [])].sort((x, y) => x - y),
    `${label}: map ids`);
  for (const m of ours.maps) {
    const bm = bpftool(`map show id ${m.id}`);
    assert.equal(m.name, bm.name);
    assert.equal(m.type, bm.type);
    assert.equal(m.refs, ours.insns.filter((i) => i.text.includes(`map[id:${m.id}]`)).length, `${label}: refs of ${m.id}`);
  }
  assert.deepEqual(ours.functions.map((f) => [f.pc, f.name]), [...protoAt.entries()], `${label}: functions`);
  const want = new Map();
  for (const i of ours.insns) {
    const c = i.text.match(/^\(85\) call (\S+?)(?:#(-?\d+))?$/);
    if (!c) continue;
    const kind = { 0: 'helper', 1: 'subprog', 2: 'kfunc' }[i.opcodes.src_reg];
    const name = kind === 'subprog' ? protoAt.get(i.target) : c[1];
    const key = `${kind} ${name}`;
    want.set(key, (want.get(key) ?? 0) + 1);
  }
  assert.deepEqual(new Map(ours.calls.map((c) => [`${c.kind} ${c.name}`, c.count])), want, `${label}: calls`);
}

// ---- every test object ---------------------------------------------------------

test('every test object the kernel loads: prog_dump equals bpftool instruction for instruction', async () => {
  const refused = [];
  await withServer([...FULL, ...ALL], async (s) => {
    for (const name of OBJECTS) {
      const r = await s.call('load_program', { path: path.join(OBJ_DIR, `${name}.bpf.o`), ...LOAD_ARGS[name] });
      if (r.isError) {
        const e = r.structuredContent.error;
        assert.ok(name in MAY_BE_REFUSED, `${name} must load: ${JSON.stringify(e)}`);
        assert.equal(e.category, 'kernel', `${name} is refused by the kernel, not the server: ${e.message}`);
        refused.push(name);
        continue;
      }
      const o = r.structuredContent;
      assert.ok(o.programs.length > 0);
      // nothing else runs in this server: every dump must leave its descriptors as they were
      for (const p of o.programs) await compare(s, p.id, `${name}/${p.name}`, { quiet: true });
      stats.names.push(name);
      await s.ok('unload_program', { handle: o.handle });
    }
  });
  console.log(`objects not loadable here: ${refused.map((n) => `${n} (${MAY_BE_REFUSED[n]})`).join('; ') || 'none'}`);
  assert.ok(stats.names.length >= OBJECTS.length - Object.keys(MAY_BE_REFUSED).length);
});

// ---- every built-in tracer, while it runs --------------------------------------

// The ids of the programs process pid holds (its bpf-prog fds).
function heldPrograms(pid) {
  const ids = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link;
    try { link = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    if (link !== 'anon_inode:bpf-prog') continue;
    const m = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').match(/^prog_id:\s*(\d+)/m);
    if (m) ids.push(Number(m[1]));
  }
  return [...new Set(ids)].sort((a, b) => a - b);
}

// Each tracer runs until cancelled: its duration and call_ms are long, and
// where it takes a pid it traces a process that sleeps, so no burst of
// events elsewhere on the machine fills max_events and ends it early.
test('every built-in tracer: its programs, dumped while it runs, equal bpftool', async (t) => {
  const idle = spawn('sleep', ['600'], { stdio: 'ignore' });
  t.after(() => idle.kill());
  await withServer(['--profile', 'observe', '--limit', 'call_ms=600000', ...ALL], async (s) => {
    const schemas = Object.fromEntries((await s.request('tools/list', {})).result.tools.map((x) => [x.name, x.inputSchema]));
    for (const tracer of TRACERS) {
      const id = `run-${tracer}`, token = `p-${tracer}`;
      const args = { duration_ms: 120000, ...(schemas[tracer].properties.pid ? { pid: idle.pid } : {}) };
      if (tracer === 'trace_function') {
        // fentry or kprobes: a kernel with neither has no program to dump
        args.function = 'do_sys_openat2';
        const r = await s.call(tracer, { ...args, duration_ms: 100 });
        if (r.isError) {
          assert.equal(r.structuredContent.error.code, 'NO_FUNCTION_TRACING', JSON.stringify(r.structuredContent));
          stats.names.push(`${tracer} (not on this kernel)`);
          continue;
        }
      }
      let answered = null;
      s.pending.set(JSON.stringify(id), (m) => { answered = m; });
      s.send({ jsonrpc: '2.0', id, method: 'tools/call',
        params: { name: tracer, arguments: args, _meta: { progressToken: token } } });
      const deadline = Date.now() + 30000;
      while (!s.notifications.some((n) => n.params?.progressToken === token)) {
        assert.equal(answered, null, `${tracer} ended before it ran: ${JSON.stringify(answered)}`);
        assert.ok(Date.now() < deadline, `${tracer} never ran`);
        await sleep(20);
      }
      const ids = heldPrograms(s.proc.pid);
      assert.ok(ids.length > 0, `${tracer} holds programs`);
      for (const pid of ids) await compare(s, pid, `${tracer}/${pid}`);
      stats.names.push(`${tracer} (${ids.length})`);
      s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } });
      const gone = Date.now() + 20000;
      while (ids.some(progExists)) {
        assert.ok(Date.now() < gone, `${tracer}'s programs are released on cancel`);
        await sleep(50);
      }
      assert.equal(answered, null, `${tracer} answered after its cancel`);
    }
  });
});

// ---- paging, the reply cap, the JIT image ----------------------------------------

test('pages: limit, offset and next_offset cover every instruction once; the reply cap ends a page early', async () => {
  await withServer([...FULL, '--limit', 'response_bytes=64K'], async (s) => {
    const o = await s.ok('load_program', { path: path.join(OBJ_DIR, 'load_big.bpf.o') });
    const id = o.programs[0].id;
    const whole = bpftool(`prog dump xlated id ${id}`).map((x) => x.disasm);
    // 64 KiB holds a few hundred instructions with their source lines: the
    // page ends there (stopped_by response_bytes) and the next picks up
    const first = await s.ok('prog_dump', { program_id: id, opcodes: true });
    assert.equal(first.stopped_by, 'response_bytes');
    assert.ok(first.truncated && first.returned > 0 && first.returned < whole.length);
    const last = first.insns.at(-1);
    assert.equal(first.next_offset, last.pc + last.opcodes.hex.length / 16);
    const all = await dumpAll(s, id);
    assert.ok(all.pages > 1);
    assert.deepEqual(all.insns.map((i) => i.text), whole);
    // small pages: limit counts slots; a 64-bit load (two slots) is one entry
    const lb = await s.ok('load_program', { path: path.join(OBJ_DIR, 'load_basic.bpf.o') });
    const sock = lb.programs.find((p) => p.name === 'lb_sock').id;
    const ref = bpftool(`prog dump xlated id ${sock}`).map((x) => x.disasm);
    const paged = await dumpAll(s, sock, { limit: 3 });
    assert.deepEqual(paged.insns.map((i) => i.text), ref);
    assert.ok(paged.pages >= Math.ceil(paged.total / 3));
    const wide = paged.insns.find((i) => i.text.includes(' = map['));
    const inside = await s.ok('prog_dump', { program_id: sock, offset: wide.pc + 1, limit: 2 });
    assert.equal(inside.insns[0].pc, wide.pc + 2, 'an offset inside a 64-bit load starts after it');
    const tail = await s.ok('prog_dump', { program_id: sock, offset: paged.total + 5 });
    assert.deepEqual([tail.returned, tail.truncated, tail.stopped_by], [0, false, 'end']);
    const over = await s.call('prog_dump', { program_id: sock, limit: 1001 });
    assert.equal(over.structuredContent.error.code, 'LIMIT_LIST_ITEMS');
  });
});

// The witness of the JIT bytes is a fixture reading them with the bare bpf()
// syscall: this bpftool refuses `prog dump jited` (built without a
// disassembler) and this kernel has no /proc/kcore.
test('jited_hex: the JIT image equals the kernel\'s, paged by jited_offset under the jited_bytes limit', async () => {
  await withServer([...FULL, '--limit', 'jited_bytes=64'], async (s) => {
    const o = await s.ok('load_program', { path: path.join(OBJ_DIR, 'load_basic.bpf.o') });
    for (const p of o.programs) {
      const want = sh(`${JIT_IMAGE} ${p.id}`).trim();
      assert.equal(want.length / 2, bpftool(`prog show id ${p.id}`).bytes_jited);
      let hex = '', off = 0, r;
      do {
        r = (await s.ok('prog_dump', { program_id: p.id, limit: 1, jited_hex: true, jited_offset: off })).jited;
        assert.equal(r.bytes, want.length / 2);
        assert.equal(r.offset, off);
        assert.ok(r.returned <= 64);
        hex += r.hex;
        off += r.returned;
      } while (r.truncated);
      assert.equal(hex, want, `program ${p.id}'s image`);
      assert.ok(want.length / 2 > 64, 'more than one page');
    }
  });
});

// ---- errors, profile, privilege --------------------------------------------------

test('a program id that does not exist is named; prog_dump is reflection, offered from readonly on', async () => {
  await withServer(['--profile', 'readonly'], async (s) => {
    const ids = new Set(bpftool('prog show').map((p) => p.id));
    let missing = 4000000000;
    while (ids.has(missing)) missing++;
    const r = await s.call('prog_dump', { program_id: missing });
    const e = r.structuredContent.error;
    assert.equal(e.code, 'NO_SUCH_PROGRAM');
    assert.match(e.message, new RegExp(`no program with id ${missing}`));
    assert.deepEqual(e.context, { pointer: '/program_id', program_id: missing });
    const bad = await s.call('prog_dump', { program_id: 0 });
    assert.equal(bad.structuredContent.error.code, 'SCHEMA');
    assert.ok((await s.request('tools/list', {})).result.tools.some((t) => t.name === 'prog_dump'));
  });
});

const NO_SYSLOG = 'setpriv --bounding-set -syslog -- ';

test('without CAP_SYSLOG the kernel hides addresses (as from bpftool); without CAP_SYS_ADMIN nothing opens', async () => {
  const pins = path.join('/sys/fs/bpf', `pd${process.pid}`);
  sh(`${BPFTOOL} prog loadall ${path.join(OBJ_DIR, 'load_basic.bpf.o')} ${pins}`);
  try {
    const id = bpftool(`prog show pinned ${pins}/lb_sock`).id;
    await withServer(['--profile', 'readonly'], async (s) => {
      const r = await compare(s, id, 'lb_sock without CAP_SYSLOG', { args: { jited_hex: true }, wrap: NO_SYSLOG });
      assert.equal(r.kernel_addresses, false);
      assert.ok(r.insns.filter((i) => i.text.startsWith('(85) call')).every((i) => /^\(85\) call (bpf_unspec#0|pc[+-]\d+#0x0)$/.test(i.text)));
      assert.deepEqual([r.jited.returned, r.jited.hex], [0, '']);
      assert.ok(r.notes.some((n) => /hides kernel addresses/.test(n)));
    }, { wrap: NO_SYSLOG.trim().split(' ') });
    await withServer(['--profile', 'readonly'], async (s) => {
      const e = (await s.call('prog_dump', { program_id: id })).structuredContent.error;
      assert.equal(e.code, 'MISSING_CAPABILITY');
      assert.equal(e.context.capability, 'CAP_SYS_ADMIN');
    }, { wrap: ['setpriv', '--bounding-set', '-sys_admin', '--'] });
  } finally {
    rmSync(pins, { recursive: true, force: true });
  }
});

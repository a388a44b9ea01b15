// get_btf_types against bpftool: every type, member offset, enum value,
// prototype and C declaration we report is compared with
// `bpftool -j btf dump file /sys/kernel/btf/vmlinux` (raw JSON) or
// `bpftool btf dump ... format c` (libbpf's C printer, run by bpftool), and
// counts with the same filters applied to bpftool's full list.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { withServer, sh, ensureMounts, ROOT, BUILD } from '../lib/mcp.mjs';
import { matcher, checkEmpty } from '../lib/search.mjs';

const BPFTOOL = '/usr/sbin/bpftool';
const VMLINUX = '/sys/kernel/btf/vmlinux';
const OBJ = path.join(BUILD, 'bpf/btf_types.bpf.o');
const KINDS = ['struct', 'union', 'enum', 'enum64', 'typedef', 'func', 'func_proto', 'int', 'ptr', 'array',
  'var', 'datasec', 'fwd', 'const', 'volatile', 'restrict', 'float', 'decl_tag', 'type_tag'];

let W;       // bpftool's types, in id order
let byId;    // id -> bpftool type
let C;       // bpftool's C dump of vmlinux

before(() => {
  W = JSON.parse(sh(`${BPFTOOL} -j btf dump file ${VMLINUX}`)).types;
  byId = new Map(W.map((t) => [t.id, t]));
  C = sh(`${BPFTOOL} btf dump file ${VMLINUX} format c`);
});

const anon = (n) => (n === '(anon)' ? '' : n);
const kindOf = (w) => w.kind.toLowerCase();
const named = (name, kind) => W.filter((t) => t.name === name && (!kind || kindOf(t) === kind));
// The types a pattern (substring or glob, tests/lib/search.mjs) and kind select.
const witnessMatches = (pattern, kind) => {
  const m = matcher(pattern);
  return W.filter((t) => (!kind || kindOf(t) === kind) && (!pattern || (t.name !== '(anon)' && m(t.name))));
};

// Bytes of a type, computed from bpftool's JSON alone.
function sizeOf(id, types = byId) {
  for (let k = 0; k < 64; k++) {
    const t = types.get(id);
    switch (t.kind) {
      case 'PTR': return 8;
      case 'ARRAY': return t.nr_elems * sizeOf(t.type_id, types);
      case 'TYPEDEF': case 'CONST': case 'VOLATILE': case 'RESTRICT': case 'TYPE_TAG': id = t.type_id; break;
      default: return t.size;
    }
  }
  throw new Error(`type chain too long at ${id}`);
}

// A member declaration as C prints it, from our type string and its name.
function declOf(type, name) {
  if (type.includes('(*)')) return type.replace('(*)', `(*${name})`);
  const b = type.indexOf('[');
  if (b >= 0) {
    const head = type.slice(0, b);
    return head + (head.endsWith('*') ? '' : ' ') + name + type.slice(b);
  }
  return type + (type.endsWith('*') ? '' : ' ') + name;
}

// The text of `struct NAME { ... };` in bpftool's C dump.
function cBlock(kind, name) {
  const m = C.match(new RegExp(`^${kind} ${name} \\{\\n[\\s\\S]*?^\\};$`, 'm'));
  assert.ok(m, `bpftool's C has ${kind} ${name}`);
  return m[0];
}

function compareMembers(ours, w, types = byId) {
  assert.equal(ours.members.length, w.members.length, `${w.name} member count`);
  w.members.forEach((wm, i) => {
    const m = ours.members[i];
    const tag = `${w.name}.${wm.name}`;
    assert.equal(m.name, anon(wm.name), tag);
    assert.equal(m.type_id, wm.type_id, tag);
    assert.equal(m.bits_offset, wm.bits_offset, tag);
    assert.equal(m.offset, Math.floor(wm.bits_offset / 8), tag);
    assert.equal(m.bitfield_size, wm.bitfield_size, tag);
    assert.equal(m.size, sizeOf(wm.type_id, types), tag);
  });
}

test('task_struct: id, size and every member equal bpftool', async () => {
  const [w] = named('task_struct', 'struct');
  await withServer([], async (s) => {
    const r = await s.ok('get_btf_types', { name: 'task_struct', kind: 'struct' });
    assert.equal(r.total, 1);
    assert.equal(r.detail, true);
    const t = r.types[0];
    assert.equal(t.id, w.id);
    assert.equal(t.kind, 'struct');
    assert.equal(t.size, w.size);
    compareMembers(t, w);
  });
});

test('member type strings read as in bpftool\'s C for task_struct', async () => {
  const block = cBlock('struct', 'task_struct');
  // Top-level member lines only (one tab); alignment attributes are C
  // decoration that BTF does not spell out.
  const lines = new Set(block.split('\n').filter((l) => /^\t[^\t}]/.test(l))
    .map((l) => l.replace(/ __attribute__\(\(aligned\(\d+\)\)\)/, '')));
  await withServer([], async (s) => {
    const t = (await s.ok('get_btf_types', { name: 'task_struct', kind: 'struct' })).types[0];
    let checked = 0;
    for (const m of t.members) {
      if (!m.name || m.type.endsWith('{...}')) continue;   // anonymous aggregates print inline
      const line = `\t${declOf(m.type, m.name)}${m.bitfield_size ? `: ${m.bitfield_size}` : ''};`;
      assert.ok(lines.has(line), `bpftool's C has ${JSON.stringify(line)}`);
      checked++;
    }
    assert.ok(checked > 200, `checked ${checked} members`);
    const fp = t.members.find((m) => m.type.includes('(*)'));
    const ptr = t.members.find((m) => m.name === 'last_wakee');
    const arr = t.members.find((m) => m.name === 'comm');
    assert.equal(ptr.type, 'struct task_struct *');
    assert.match(arr.type, /^char\[\d+\]$/);
    assert.ok(fp || t.members.some((m) => m.type.endsWith('*')), 'pointer members present');
  });
});

test('bitfield members: bit offset and width equal bpftool', async () => {
  const [w] = named('task_struct', 'struct');
  const wbits = w.members.filter((m) => m.bitfield_size);
  assert.ok(wbits.length > 0, 'task_struct has bitfields here');
  await withServer([], async (s) => {
    const t = (await s.ok('get_btf_types', { type_id: w.id })).types[0];
    const ours = t.members.filter((m) => m.bitfield_size);
    assert.deepEqual(ours.map((m) => [m.name, m.bits_offset, m.bitfield_size, m.offset]),
      wbits.map((m) => [m.name, m.bits_offset, m.bitfield_size, Math.floor(m.bits_offset / 8)]));
  });
});

test('enum and enum64 values equal bpftool', async () => {
  const [we] = named('bpf_prog_type', 'enum');
  const w64 = W.find((t) => t.kind === 'ENUM64');
  await withServer([], async (s) => {
    const e = (await s.ok('get_btf_types', { name: 'bpf_prog_type' })).types.find((t) => t.kind === 'enum');
    assert.equal(e.id, we.id);
    assert.equal(e.size, we.size);
    assert.equal(e.signed, we.encoding === 'SIGNED');
    assert.deepEqual(e.values, we.values.map((v) => ({ name: v.name, value: v.val })));
    assert.ok(e.values.some((v) => v.name === 'BPF_PROG_TYPE_XDP'));
    if (w64) {
      const e64 = (await s.ok('get_btf_types', { type_id: w64.id })).types[0];
      assert.equal(e64.kind, 'enum64');
      assert.equal(e64.size, w64.size);
      assert.deepEqual(e64.values, w64.values.map((v) => ({ name: v.name, value: v.val })));
    }
  });
});

test('function and prototype: return type, params and linkage equal bpftool', async () => {
  const [wf] = named('vfs_read', 'func').length ? named('vfs_read', 'func')
    : [W.find((t) => t.kind === 'FUNC' && byId.get(t.type_id).params.length >= 3)];
  const wp = byId.get(wf.type_id);
  const wparams = wp.params.map((p) => ({ name: anon(p.name), type_id: p.type_id }));
  await withServer([], async (s) => {
    const f = (await s.ok('get_btf_types', { name: wf.name, kind: 'func' })).types[0];
    assert.equal(f.id, wf.id);
    assert.equal(f.linkage, wf.linkage);
    assert.equal(f.type_id, wf.type_id);
    assert.equal(f.return_type_id, wp.ret_type_id);
    assert.deepEqual(f.params.map((p) => ({ name: p.name, type_id: p.type_id })), wparams);
    assert.equal(f.variadic, false);
    const p = (await s.ok('get_btf_types', { type_id: wf.type_id })).types[0];
    assert.equal(p.kind, 'func_proto');
    assert.equal(p.return_type_id, wp.ret_type_id);
    assert.deepEqual(p.params.map((x) => ({ name: x.name, type_id: x.type_id })), wparams);
    // The C text of the function's declaration names each parameter.
    const d = (await s.ok('get_btf_types', { type_id: wf.id, c_decl: true, detail: false })).types[0].c_decl;
    for (const x of wparams) assert.match(d, new RegExp(`\\b${x.name}\\b`));
    assert.match(d, new RegExp(`\\b${wf.name}\\(`));
  });
});

test('pattern and kind totals equal the count in bpftool\'s dump', async () => {
  const cases = [{ pattern: 'bpf_*' }, { pattern: '*_ops', kind: 'struct' }, { pattern: 'task_?truct' },
    { pattern: '*sk_buff*', kind: 'func' }, { pattern: 'sk_buff', kind: 'struct' }, { pattern: 'bpf_[d-m]*_ops' },
    { pattern: 'task_[!s]*', kind: 'struct' }, { pattern: '_ops', kind: 'struct' }];
  await withServer([], async (s) => {
    for (const c of cases) {
      const w = witnessMatches(c.pattern, c.kind);
      if (c.pattern !== '*sk_buff*') assert.ok(w.length > 0, `bpftool has matches for ${JSON.stringify(c)}`);
      const r = await s.ok('get_btf_types', { ...c, limit: 1000 });
      assert.equal(r.total, w.length, JSON.stringify(c));
      assert.equal(r.detail, w.length <= 8, `detail by default for at most 8 matches: ${JSON.stringify(c)}`);
      assert.deepEqual(r.types.map((t) => [t.id, t.kind, t.name]),
        w.slice(0, 1000).map((t) => [t.id, kindOf(t), t.name]), JSON.stringify(c));
    }
    // Every kind, with no pattern: anonymous types count too.
    for (const kind of KINDS) {
      const r = await s.ok('get_btf_types', { kind, limit: 1 });
      assert.equal(r.total, witnessMatches(null, kind).length, kind);
    }
    const all = await s.ok('get_btf_types', { limit: 1 });
    assert.equal(all.total, W.length);
    assert.equal(all.source.type_count, W.length);
  });
});

test('paging: every match exactly once, in id order', async () => {
  const w = witnessMatches('tcp_*', 'func').map((t) => t.id);
  assert.ok(w.length > 100, `tcp_* functions here: ${w.length}`);
  const limit = 37;
  await withServer([], async (s) => {
    const seen = [];
    for (let offset = 0; ; offset += limit) {
      const r = await s.ok('get_btf_types', { pattern: 'tcp_*', kind: 'func', limit, offset });
      assert.equal(r.total, w.length);
      assert.equal(r.offset, offset);
      assert.equal(r.returned, Math.min(limit, w.length - offset));
      assert.equal(r.returned, r.types.length);
      assert.equal(r.truncated, offset + r.returned < w.length);
      seen.push(...r.types.map((t) => t.id));
      if (!r.truncated) break;
    }
    assert.deepEqual(seen, w);
    const past = await s.ok('get_btf_types', { pattern: 'tcp_*', kind: 'func', offset: w.length + 5 });
    assert.deepEqual([past.returned, past.truncated, past.total], [0, false, w.length]);
  });
});

test('a name that does not exist is an empty result, not an error', async () => {
  const missing = `no_such_type_${process.pid}`;
  assert.equal(named(missing).length, 0);
  await withServer([], async (s) => {
    const r = await s.ok('get_btf_types', { name: missing });
    assert.deepEqual([r.total, r.returned, r.types.length, r.truncated], [0, 0, 0, false]);
    const k = await s.ok('get_btf_types', { name: 'task_struct', kind: 'enum' });
    assert.equal(k.total, 0);
    assert.deepEqual(k.searched, { what: "exact name 'task_struct' in names of enum types in vmlinux", match: 'exact',
      pattern: 'task_struct', candidates: W.filter((t) => t.kind === 'ENUM' && t.name !== '(anon)').length });
    const id = await s.ok('get_btf_types', { type_id: named('task_struct', 'struct')[0].id, kind: 'union' });
    assert.deepEqual([id.total, id.searched.match, id.searched.candidates, id.suggestions], [0, 'any', 1, []]);
  });
});

test('pattern "task" is a substring: exactly the type names holding it, as bpftool lists them', async () => {
  const want = W.filter((t) => t.name !== '(anon)' && t.name.includes('task'));
  assert.ok(want.length > 50, `${want.length} types hold "task"`);
  await withServer([], async (s) => {
    const got = [];
    const limit = 200;
    for (let offset = 0; ; offset += limit) {
      const r = await s.ok('get_btf_types', { pattern: 'task', limit, offset });
      assert.equal(r.total, want.length);
      assert.equal(r.detail, false, 'more than 8 match');
      got.push(...r.types);
      if (!r.truncated) break;
    }
    assert.deepEqual(new Set(got.map((t) => t.name)), new Set(want.map((t) => t.name)));
    assert.deepEqual(got.map((t) => [t.id, t.kind, t.name]), want.map((t) => [t.id, kindOf(t), t.name]));
    assert.equal((await s.ok('get_btf_types', { pattern: 'TASK' })).total,
      W.filter((t) => t.name.includes('TASK')).length, 'case-sensitive');
  });
});

test('pattern "task_struct": the struct in full, the others by name when over 8 types match', async () => {
  const w = witnessMatches('task_struct');
  const [ws] = named('task_struct', 'struct');
  await withServer([], async (s) => {
    const r = await s.ok('get_btf_types', { pattern: 'task_struct', limit: 50 });
    assert.deepEqual(r.types.map((t) => [t.id, t.name]), w.map((t) => [t.id, t.name]));
    // The default follows the count bpftool gives: on a kernel with more than
    // 8 names holding "task_struct" (put_task_struct and its kin) it is off.
    assert.equal(r.detail, w.length <= 8, `${w.length} types hold "task_struct" here`);
    // the type named exactly the pattern comes in full either way
    compareMembers(r.types.find((t) => t.id === ws.id), ws);
    if (w.length > 8) {
      console.log(`# pattern task_struct matches ${w.length} types here: ${w.map((t) => t.name).join(' ')}`);
      const others = r.types.filter((t) => t.name !== 'task_struct');
      assert.ok(others.every((t) => t.members === undefined && t.params === undefined), 'the other matches by name only');
    }
    // With kind, the struct and its kin: at most 8, so members come by default.
    const k = await s.ok('get_btf_types', { pattern: 'task_struct', kind: 'struct' });
    const wk = witnessMatches('task_struct', 'struct');
    assert.ok(wk.length <= 8);
    assert.equal(k.detail, true);
    assert.deepEqual(k.types.map((t) => t.id), wk.map((t) => t.id));
    compareMembers(k.types.find((t) => t.id === ws.id), ws);
    // an explicit detail: false wins
    const off = await s.ok('get_btf_types', { pattern: 'task_struct', kind: 'struct', detail: false });
    assert.equal(off.detail, false);
    assert.equal(off.types[0].members, undefined);
  });
});

test('detail by default: just under, at and over 8 matches (by pattern, by kind)', async () => {
  // Prefixes of function names that exactly 7, 8 and 9 functions share, from bpftool.
  const byPrefix = new Map();
  for (const t of W) {
    if (t.kind !== 'FUNC') continue;
    for (let n = 4; n <= Math.min(t.name.length, 24); n++) byPrefix.set(t.name.slice(0, n), (byPrefix.get(t.name.slice(0, n)) ?? 0) + 1);
  }
  const kinds = new Map(KINDS.map((k) => [k, witnessMatches(null, k).length]));
  await withServer([], async (s) => {
    for (const count of [7, 8, 9]) {
      const prefix = [...byPrefix].find(([p, n]) => n === count && !/[*?[]/.test(p))[0];
      const pattern = `${prefix}*`;
      const w = witnessMatches(pattern, 'func');
      assert.equal(w.length, count, pattern);
      const r = await s.ok('get_btf_types', { pattern, kind: 'func', limit: 3 });
      assert.deepEqual([r.total, r.detail], [count, count <= 8], pattern);
      assert.equal(r.returned, 3);
      if (r.detail) assert.ok(r.types.every((t) => Array.isArray(t.params)), 'prototypes come with detail');
    }
    for (const [kind, n] of kinds) {
      if (!n) continue;
      const r = await s.ok('get_btf_types', { kind, limit: 1 });
      assert.deepEqual([r.total, r.detail], [n, n <= 8], kind);
    }
  });
});

test('an empty search says what it searched and suggests the closest names', async () => {
  const namedOf = (kind) => W.filter((t) => t.name !== '(anon)' && (!kind || kindOf(t) === kind))
    .map((t) => ({ key: t.name, shown: t.name }));
  await withServer([], async (s) => {
    await s.ok('get_btf_types', { name: 'task_struct', detail: false });   // BTF loaded
    const t0 = performance.now();
    const r = await s.ok('get_btf_types', { pattern: 'tsak_struct' });
    const t1 = performance.now();
    await s.ok('get_btf_types', { pattern: 'task_struct' });
    console.log(`# get_btf_types empty (${namedOf().length} named types ranked) ${(t1 - t0).toFixed(1)} ms, `
      + `matching ${(performance.now() - t1).toFixed(1)} ms (round trips)`);
    checkEmpty(r, { what: "substring 'tsak_struct' in type names in vmlinux", match: 'substring', pattern: 'tsak_struct',
      candidates: namedOf() });
    assert.equal(r.suggestions[0], 'task_struct');
    assert.equal(r.detail, true, 'zero types match: at most 8');

    const k = await s.ok('get_btf_types', { pattern: 'tsak', kind: 'struct' });
    checkEmpty(k, { what: "substring 'tsak' in names of struct types in vmlinux", match: 'substring', pattern: 'tsak',
      candidates: namedOf('struct') });
    assert.ok(k.suggestions.length > 0 && k.suggestions.every((n) => named(n, 'struct').length), 'struct names only');

    const n = await s.ok('get_btf_types', { name: 'task_strcut' });
    checkEmpty(n, { what: "exact name 'task_strcut' in type names in vmlinux", match: 'exact', pattern: 'task_strcut',
      candidates: namedOf(), exact: true });
    assert.deepEqual(n.suggestions, ['task_struct']);

    const g = await s.ok('get_btf_types', { pattern: 'vfs_re?dd', kind: 'func', detail: true });
    checkEmpty(g, { what: "glob 'vfs_re?dd' in names of func types in vmlinux", match: 'glob', pattern: 'vfs_re?dd',
      candidates: namedOf('func') });
    assert.ok(g.suggestions.includes('vfs_read'), JSON.stringify(g.suggestions));
  });
});

test('name matches every kind carrying it; type_id returns that one type', async () => {
  // A name several types share (e.g. a struct and its typedef, or clashing statics).
  const counts = new Map();
  for (const t of W) if (t.name !== '(anon)') counts.set(t.name, (counts.get(t.name) || 0) + 1);
  const shared = [...counts].find(([, n]) => n >= 2 && n <= 8)[0];
  const lw = named('task_struct', 'struct')[0].members.find((m) => m.name === 'last_wakee');
  const wptr = byId.get(lw.type_id);
  await withServer([], async (s) => {
    const r = await s.ok('get_btf_types', { name: shared });
    assert.deepEqual(r.types.map((t) => [t.id, t.kind]), named(shared).map((t) => [t.id, kindOf(t)]));
    assert.equal(r.detail, true);
    const p = (await s.ok('get_btf_types', { type_id: lw.type_id })).types[0];
    assert.deepEqual([p.id, p.kind, p.type_id, p.c_type], [lw.type_id, 'ptr', wptr.type_id, 'struct task_struct *']);
    const bad = await s.call('get_btf_types', { type_id: W.length + 10 });
    assert.equal(bad.isError, true);
    assert.equal(bad.structuredContent.error.code, 'NO_SUCH_TYPE');
  });
});

test('c_decl of small structs is bpftool\'s C for them', async () => {
  await withServer([], async (s) => {
    for (const name of ['callback_head', 'list_head', 'hlist_node', 'rcu_work']) {
      if (!named(name, 'struct').length) continue;
      const t = (await s.ok('get_btf_types', { name, kind: 'struct', c_decl: true })).types[0];
      assert.equal(t.c_decl, cBlock('struct', name), name);
    }
    // A typedef's declaration, checked against bpftool's line for it.
    const td = (await s.ok('get_btf_types', { name: 'pid_t', kind: 'typedef', c_decl: true })).types[0];
    assert.ok(C.includes(`\n${td.c_decl}\n`), td.c_decl);
  });
});

test('module BTF, or a clean error when there is none', async () => {
  const mods = readdirSync('/sys/kernel/btf').filter((m) => m !== 'vmlinux');
  await withServer([], async (s) => {
    if (mods.length) {
      const m = mods[0];
      const w = JSON.parse(sh(`${BPFTOOL} -j -B ${VMLINUX} btf dump file /sys/kernel/btf/${m}`)).types;
      const r = await s.ok('get_btf_types', { module: m, limit: 1000 });
      assert.equal(r.source.kind, 'module');
      assert.equal(r.total, w.length);
      assert.equal(r.source.first_type_id, w[0].id);
      assert.deepEqual(r.types.map((t) => t.id), w.slice(0, 1000).map((t) => t.id));
    }
    const r = await s.call('get_btf_types', { module: `no_such_module_${process.pid}`, name: 'x' });
    assert.equal(r.isError, true);
    assert.deepEqual([r.structuredContent.error.category, r.structuredContent.error.code], ['validation', 'NO_MODULE_BTF']);
    const bad = await s.call('get_btf_types', { module: '..' });
    assert.equal(bad.structuredContent.error.code, 'BAD_MODULE_NAME');
    await s.ok('get_btf_types', { name: 'task_struct', detail: false });   // still serving
  });
});

test('btf_id: a loaded program\'s BTF and the kernel\'s vmlinux object', async () => {
  ensureMounts();
  if (!existsSync(OBJ)) sh(`make -s ${path.relative(ROOT, OBJ)}`, { cwd: ROOT });
  const pin = `/sys/fs/bpf/t_btf_${process.pid}`;
  try {
    sh(`${BPFTOOL} prog load ${OBJ} ${pin}`);
    const btfId = JSON.parse(sh(`${BPFTOOL} -j prog show pinned ${pin}`)).btf_id;
    const wt = JSON.parse(sh(`${BPFTOOL} -j btf dump id ${btfId}`)).types;
    const wmap = new Map(wt.map((t) => [t.id, t]));
    const vmlinuxId = JSON.parse(sh(`${BPFTOOL} -j btf list`)).find((b) => b.name === 'vmlinux' && b.kernel).id;
    await withServer([], async (s) => {
      const r = await s.ok('get_btf_types', { btf_id: btfId, name: 'btft_val' });
      assert.deepEqual([r.source.kind, r.source.btf_id, r.source.type_count], ['btf_id', btfId, wt.length]);
      const [w] = wt.filter((t) => t.name === 'btft_val');
      compareMembers(r.types[0], w, wmap);
      const bits = r.types[0].members.filter((m) => m.bitfield_size).map((m) => [m.name, m.bitfield_size]);
      assert.deepEqual(bits, [['flags', 3], ['level', 5]]);
      const tag = r.types[0].members.find((m) => m.name === 'tag');
      assert.deepEqual([tag.type, tag.size], ['char[12]', 12]);
      const e = (await s.ok('get_btf_types', { btf_id: btfId, kind: 'enum', pattern: 'btft_*' })).types;
      assert.equal(e.length, 1);
      // bpftool's JSON sign-extends unsigned 32-bit enum values (-1 shows as
      // 2^64-1); its C text prints the value BTF holds.
      const cEnum = sh(`${BPFTOOL} btf dump id ${btfId} format c`).match(/^enum btft_mode \{\n([\s\S]*?)^\};$/m)[1];
      const wvals = [...cEnum.matchAll(/^\t(\w+) = (-?\d+),$/gm)].map((m) => ({ name: m[1], value: Number(m[2]) }));
      const full = (await s.ok('get_btf_types', { btf_id: btfId, type_id: e[0].id })).types[0];
      assert.equal(wvals.length, 3);
      assert.deepEqual(full.values, wvals);
      const all = await s.ok('get_btf_types', { btf_id: btfId, limit: 1000 });
      assert.deepEqual(all.types.map((t) => [t.id, t.kind, t.name]), wt.map((t) => [t.id, kindOf(t), anon(t.name)]));
      const v = await s.ok('get_btf_types', { btf_id: vmlinuxId, name: 'task_struct', kind: 'struct' });
      assert.equal(v.types[0].id, named('task_struct', 'struct')[0].id);
      const gone = await s.call('get_btf_types', { btf_id: 0x7ffffff0 });
      assert.equal(gone.structuredContent.error.code, 'NO_SUCH_BTF');
    });
  } finally {
    sh(`rm -f ${pin}`);
  }
});

test('bad combinations and limits are validation/limit errors', async () => {
  await withServer(['--limit', 'list_items=10'], async (s) => {
    const both = await s.call('get_btf_types', { name: 'a', pattern: 'b*' });
    assert.equal(both.structuredContent.error.code, 'CONFLICTING_ARGS');
    const big = await s.call('get_btf_types', { pattern: 'bpf_*', limit: 11 });
    assert.deepEqual([big.structuredContent.error.category, big.structuredContent.error.code],
      ['resource', 'LIMIT_LIST_ITEMS']);
    const ok = await s.ok('get_btf_types', { pattern: 'bpf_*', limit: 10 });
    assert.equal(ok.returned, 10);
  });
});

test('heap cap: loading vmlinux BTF fails as a resource error, server keeps serving', async () => {
  await withServer(['--limit', 'heap_bytes=4M'], async (s) => {
    for (let k = 0; k < 2; k++) {
      const r = await s.call('get_btf_types', { name: 'task_struct' });
      assert.equal(r.isError, true);
      const e = r.structuredContent.error;
      assert.deepEqual([e.category, e.code, e.context.limit], ['resource', 'LIMIT_HEAP_BYTES', 'heap_bytes']);
      assert.match(e.message, /heap_bytes/);
    }
    const ping = await s.request('ping');
    assert.deepEqual(ping.result, {});
    const info = await s.ok('info');
    assert.ok(info.memory.heap_refusals >= 2);
    assert.equal(info.memory.heap_cap_bytes, 4 * 1024 * 1024);
  });
});

test('timing (cold incl. loading vmlinux BTF, warm) and memory of task_struct detail', async (t) => {
  await withServer([], async (s) => {
    const call = async () => {
      const t0 = process.hrtime.bigint();
      await s.ok('get_btf_types', { name: 'task_struct' });
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const cold = await call();
    const warm = [];
    for (let k = 0; k < 30; k++) warm.push(await call());
    warm.sort((a, b) => a - b);
    const med = warm[warm.length >> 1];
    const status = readFileSync(`/proc/${s.proc.pid}/status`, 'utf8');
    const hwm = Number(status.match(/VmHWM:\s+(\d+) kB/)[1]) * 1024;
    t.diagnostic(`cold ${cold.toFixed(2)} ms, warm median ${med.toFixed(2)} ms (round trip, output validated), `
      + `VmHWM ${(hwm / 1048576).toFixed(1)} MiB`);
    // Loose bounds: this catches a pathological regression, not jitter.
    assert.ok(cold < 250, `cold ${cold} ms`);
    assert.ok(med < 20, `warm ${med} ms`);
    assert.ok(hwm < 16 * 1024 * 1024, `peak RSS ${hwm}`);
  });
});

// list_bpf_program_types / list_bpf_map_types against independent witnesses:
// `bpftool feature probe kernel` for the supported flags, the kernel's own
// BTF (enum bpf_prog_type / bpf_map_type / bpf_func_id, dumped by bpftool)
// for names and ids, and bpftool loading real objects for helper verdicts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { withServer, sh, ensureMounts, BUILD } from '../lib/mcp.mjs';

const BPFTOOL = '/usr/sbin/bpftool';
let feature;      // bpftool -j feature probe kernel
let enums;        // enum name -> Map(enumerator -> value), from vmlinux BTF

// "[12] ENUM 'bpf_prog_type' ... vlen=34" then "\t'BPF_PROG_TYPE_X' val=N" lines.
function parseEnums(raw, wanted) {
  const out = {};
  let cur = null;
  for (const line of raw.split('\n')) {
    const head = line.match(/^\[\d+\] ENUM '([^']+)'/);
    if (head) { cur = wanted.includes(head[1]) ? (out[head[1]] = new Map()) : null; continue; }
    if (!line.startsWith('\t')) { cur = null; continue; }
    const m = cur && line.match(/^\t'([^']+)' val=(\d+)/);
    if (m) cur.set(m[1], Number(m[2]));
  }
  return out;
}

before(() => {
  ensureMounts();
  feature = JSON.parse(sh(`${BPFTOOL} -j feature probe kernel`));
  enums = parseEnums(sh(`${BPFTOOL} btf dump file /sys/kernel/btf/vmlinux format raw`),
    ['bpf_prog_type', 'bpf_map_type', 'bpf_func_id']);
  for (const e of ['bpf_prog_type', 'bpf_map_type', 'bpf_func_id']) assert.ok(enums[e]?.size > 10, e);
});

// Our supported flags equal bpftool's for every type both know; ids equal
// the kernel's enum values; a refusal carries errno + reason, support not.
function checkTypes(r, { section, suffix, prefix }) {
  const witness = feature[section];
  const kernelEnum = enums[prefix === 'BPF_PROG_TYPE_' ? 'bpf_prog_type' : 'bpf_map_type'];
  assert.equal(r.total, r.types.length);
  assert.equal(r.truncated, false);
  let compared = 0;
  for (const t of r.types) {
    const key = `have_${t.name}_${suffix}`;
    if (key in witness) {
      assert.equal(t.supported, witness[key], `${t.name}: ours ${t.supported}, bpftool ${witness[key]}`);
      compared++;
    }
    assert.equal(t.id, kernelEnum.get(prefix + t.name.toUpperCase()), `${t.name} id vs kernel BTF`);
    assert.ok(t.description.length > 10, t.name);
    if (t.supported === true) {
      assert.equal(t.errno, undefined);
      assert.equal(t.reason, undefined);
    } else {
      assert.ok(t.reason.length > 0, `${t.name} has a reason`);
      assert.ok('errno' in t, `${t.name} has errno`);
    }
  }
  // bpftool names every type it knows; we know at least those.
  for (const key of Object.keys(witness)) {
    const name = key.slice('have_'.length, -(suffix.length + 1));
    assert.ok(r.types.some((t) => t.name === name), `bpftool's ${name} is listed`);
  }
  assert.ok(compared >= 25, `compared ${compared} types`);
  assert.equal(r.supported_count, r.types.filter((t) => t.supported === true).length);
}

test('program types: supported flags equal bpftool, ids equal kernel BTF, cached', async () => {
  await withServer([], async (s) => {
    const t0 = process.hrtime.bigint();
    const r = await s.ok('list_bpf_program_types');
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    checkTypes(r, { section: 'program_types', suffix: 'prog_type', prefix: 'BPF_PROG_TYPE_' });
    assert.equal(r.probe.cached, false);
    assert.match(r.probe.libbpf, /^\d+\.\d+$/);
    const again = await s.ok('list_bpf_program_types');
    assert.equal(again.probe.cached, true);
    assert.equal(again.probe.duration_us, r.probe.duration_us);
    assert.deepEqual(again.types, r.types);
    console.log(`program types: ${r.total} probed in ${r.probe.duration_us} us (call ${ms.toFixed(1)} ms)`);
  });
});

test('map types: supported flags equal bpftool, ids equal kernel BTF', async () => {
  await withServer([], async (s) => {
    const r = await s.ok('list_bpf_map_types');
    checkTypes(r, { section: 'map_types', suffix: 'map_type', prefix: 'BPF_MAP_TYPE_' });
    console.log(`map types: ${r.total} probed in ${r.probe.duration_us} us`);
  });
});

test('type filter and paging', async () => {
  await withServer([], async (s) => {
    const all = await s.ok('list_bpf_map_types');
    const one = await s.ok('list_bpf_map_types', { type: 'ringbuf' });
    assert.deepEqual(one.types, all.types.filter((t) => t.name === 'ringbuf'));
    assert.equal(one.total, 1);
    const p1 = await s.ok('list_bpf_program_types', { limit: 5 });
    const p2 = await s.ok('list_bpf_program_types', { limit: 5, offset: 5 });
    assert.equal(p1.returned, 5);
    assert.equal(p1.truncated, true);
    assert.equal(p1.total, p2.total);
    const full = await s.ok('list_bpf_program_types');
    assert.deepEqual([...p1.types, ...p2.types], full.types.slice(0, 10));
    const end = await s.ok('list_bpf_program_types', { offset: full.total });
    assert.equal(end.returned, 0);
    assert.equal(end.truncated, false);
  });
});

const helperName = (enumerator) => 'bpf_' + enumerator.slice('BPF_FUNC_'.length);

test('helpers: names and ids from kernel BTF, verdicts match real loads', async () => {
  ensureMounts();
  const pinA = '/sys/fs/bpf/t_probes_allowed';
  const pinD = '/sys/fs/bpf/t_probes_denied';
  try {
    await withServer([], async (s) => {
      const t0 = process.hrtime.bigint();
      const r = await s.ok('list_bpf_program_types', { type: 'socket_filter', helpers: true, limit: 1000 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const h = r.helpers;
      assert.equal(r.types.length, 1);
      assert.equal(r.types[0].name, 'socket_filter');
      const btfHelpers = [...enums.bpf_func_id].filter(([n, v]) => n.startsWith('BPF_FUNC_') && v > 0);
      assert.equal(h.known, btfHelpers.length);
      assert.equal(h.usable, h.list.length);
      assert.equal(h.total, h.usable);
      assert.ok(h.usable > 20 && h.usable < h.known, `usable ${h.usable} of ${h.known}`);
      const byName = new Map(btfHelpers.map(([n, v]) => [helperName(n), v]));
      for (const { name, id } of h.list) assert.equal(byName.get(name), id, `${name} id`);
      const names = new Set(h.list.map((x) => x.name));

      // Witness: the kernel loads a socket filter calling these two...
      sh(`${BPFTOOL} prog load ${path.join(BUILD, 'bpf/helper_allowed.bpf.o')} ${pinA}`);
      assert.ok(names.has('bpf_get_socket_cookie'));
      assert.ok(names.has('bpf_ktime_get_ns'));
      // ...and refuses one calling bpf_skb_store_bytes for that very reason.
      let log = '';
      try {
        sh(`${BPFTOOL} prog load ${path.join(BUILD, 'bpf/helper_denied.bpf.o')} ${pinD}`);
      } catch (e) { log = String(e.stderr) + String(e.stdout); }
      assert.match(log, /cannot use helper bpf_skb_store_bytes/);
      assert.ok(!names.has('bpf_skb_store_bytes'));
      // xdp may write packets: the same helper is usable there.
      const x = await s.ok('list_bpf_program_types', { type: 'xdp', helpers: true, limit: 1000 });
      assert.ok(!x.helpers.list.some((e) => e.name === 'bpf_skb_store_bytes'));
      assert.ok(x.helpers.list.some((e) => e.name === 'bpf_xdp_adjust_head'));
      assert.ok(!names.has('bpf_xdp_adjust_head'));

      // Cached on the second ask, and paged by limit/offset.
      const p1 = await s.ok('list_bpf_program_types', { type: 'socket_filter', helpers: true, limit: 10 });
      const p2 = await s.ok('list_bpf_program_types', { type: 'socket_filter', helpers: true, limit: 10, offset: 10 });
      assert.equal(p1.helpers.cached, true);
      assert.equal(p1.helpers.truncated, true);
      assert.deepEqual([...p1.helpers.list, ...p2.helpers.list], h.list.slice(0, 20));
      console.log(`helpers of socket_filter: ${h.usable}/${h.known} usable, probed in ${h.duration_us} us (call ${ms.toFixed(1)} ms)`);
    });
  } finally {
    rmSync(pinA, { force: true });
    rmSync(pinD, { force: true });
  }
});

test('helpers: refusals are structured errors', async () => {
  await withServer(['--limit', 'list_items=5'], async (s) => {
    const noType = await s.call('list_bpf_program_types', { helpers: true });
    assert.equal(noType.isError, true);
    assert.equal(noType.structuredContent.error.code, 'TYPE_REQUIRED');
    assert.equal(noType.structuredContent.error.context.pointer, '/type');

    const unknown = await s.call('list_bpf_program_types', { type: 'no_such_type' });
    assert.equal(unknown.structuredContent.error.code, 'UNKNOWN_PROGRAM_TYPE');
    const unknownMap = await s.call('list_bpf_map_types', { type: 'no_such_type' });
    assert.equal(unknownMap.structuredContent.error.code, 'UNKNOWN_MAP_TYPE');

    // A type bpftool also finds unsupported cannot have its helpers probed.
    const off = Object.entries(feature.program_types).find(([, v]) => v === false);
    if (off) {
      const name = off[0].slice('have_'.length, -'_prog_type'.length);
      const r = await s.call('list_bpf_program_types', { type: name, helpers: true });
      assert.equal(r.isError, true);
      assert.equal(r.structuredContent.error.code, 'PROGRAM_TYPE_UNSUPPORTED');
    }

    const over = await s.call('list_bpf_map_types', { limit: 6 });
    assert.equal(over.structuredContent.error.code, 'LIMIT_LIST_ITEMS');
    const at = await s.ok('list_bpf_map_types', { limit: 5 });
    assert.equal(at.returned, 5);
  });
});

// map_dump, map_lookup, map_update and map_delete against bpftool: the maps of
// tests/bpf/maps.bpf.c (loaded and pinned with `bpftool prog loadall`), a map
// bpftool creates without BTF, and large maps made by tests/tools/map_fill.
// Every decoded value is compared with `bpftool -j map dump|lookup` field by
// field ("formatted"), and every byte with bpftool's raw bytes (our hex
// encoding). Writes are checked by reading them back with bpftool.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { withServer, sh, ensureMounts, BUILD } from '../lib/mcp.mjs';

const BPFTOOL = '/usr/sbin/bpftool';
const OBJ = path.join(BUILD, 'bpf/maps.bpf.o');
const FILL = path.join(BUILD, 'test/tools/map_fill');
const TAG = `t_maps_${process.pid}`;
const PROGS = `/sys/fs/bpf/${TAG}`;
const PINS = `/sys/fs/bpf/${TAG}_m`;
const NOBTF = `/sys/fs/bpf/${TAG}_nobtf`;
const BIG = `/sys/fs/bpf/${TAG}_big`;
const PCPU = `/sys/fs/bpf/${TAG}_pcpu`;
const FULL = ['--profile', 'full', '--allow-foreign'];

const bt = (args) => JSON.parse(sh(`${BPFTOOL} -j ${args}`));
const pin = (name) => `${PINS}/${name}`;
const hexOf = (arr) => arr.map((b) => b.slice(2)).join('');
const bytesArg = (hex) => hex.match(/../g).map((b) => parseInt(b, 16)).join(' ');
const u32hex = (n) => Buffer.from(new Uint32Array([n]).buffer).toString('hex');
const u64hex = (n) => Buffer.from(new BigUint64Array([BigInt(n)]).buffer).toString('hex');
const NCPUS = cpusPossible();

function cpusPossible() {
  // "0-1" or "0,2-3": the same count libbpf_num_possible_cpus() reads.
  return sh('cat /sys/devices/system/cpu/possible').trim().split(',')
    .map((r) => r.split('-').map(Number)).reduce((n, [a, b]) => n + (b === undefined ? 1 : b - a + 1), 0);
}

// bpftool lookup; null when the key is absent (bpftool exits non-zero).
function lookup(p, keyHex) {
  try {
    return bt(`map lookup pinned ${p} key hex ${keyHex.match(/../g).join(' ')}`);
  } catch {
    return null;
  }
}

// struct mt_val (80 bytes) packed as clang lays it out (tests/bpf/maps.bpf.c).
function packVal(v) {
  const b = Buffer.alloc(80);
  b.write(v.name, 0, 'utf8');
  b.writeUInt32LE({ MT_RED: 0, MT_GREEN: 1, MT_BLUE: 7 }[v.color] ?? v.color, 16);
  b.writeUInt8(v.stats.count, 24);
  b.writeInt16LE(v.stats.delta, 26);
  b.writeBigUInt64LE(BigInt(v.stats.bytes), 32);
  b.writeUInt32LE((v.lo | (v.mid << 3) | (v.hi << 12)) >>> 0, 40);
  b.writeUInt32LE(((v.neg & 0x3f) | (v.pad_bits << 6)) >>> 0, 44);
  v.hist.forEach((h, i) => b.writeUInt16LE(h, 48 + 2 * i));
  b.writeBigInt64LE(BigInt(v.signed_big), 56);
  b.writeUInt8(v.on ? 1 : 0, 64);
  b.writeUInt32LE(v.u.as_u32, 68);
  b.writeBigUInt64LE(BigInt(v.ptr), 72);
  return b.toString('hex');
}

const VALS = [
  { name: 'alpha', color: 'MT_BLUE', stats: { count: 200, delta: -5, bytes: 1 << 30 }, lo: 5, mid: 300, hi: 703710,
    neg: -3, pad_bits: 12345, hist: [1, 2, 3, 65535], signed_big: -4611686018427387904n, on: true, u: { as_u32: 67305985 },
    ptr: 4096 },
  { name: 'beta gamma', color: 'MT_GREEN', stats: { count: 0, delta: 32767, bytes: 7 }, lo: 0, mid: 511, hi: 1,
    neg: 31, pad_bits: 0, hist: [0, 0, 0, 0], signed_big: 5, on: false, u: { as_u32: 0 }, ptr: 0 },
  { name: '', color: 3, stats: { count: 1, delta: -32768, bytes: 0 }, lo: 7, mid: 0, hi: 0, neg: -32,
    pad_bits: 67108863, hist: [9, 8, 7, 6], signed_big: 0, on: true, u: { as_u32: 4294967295 }, ptr: 1 },
];

// Bitfield widths of struct mt_val: bpftool prints bitfields as unsigned hex.
const BITS = { lo: 3, mid: 9, hi: 20, neg: 6, pad_bits: 26 };

// Our decoded JSON against bpftool's "formatted" JSON, field by field.
function sameFormatted(ours, theirs, where) {
  const last = where.split('/').pop();
  if (typeof ours === 'string' && Array.isArray(theirs)) {
    // a char array without a NUL: bpftool shows its bytes, we show the text
    const b = Buffer.alloc(theirs.length);
    Buffer.from(ours, 'utf8').copy(b);
    assert.deepEqual([...b], theirs.map((x) => x & 0xff), where);
  } else if (typeof theirs === 'string' && /^0x[0-9a-f]+$/.test(theirs) && BITS[last]) {
    assert.equal(typeof ours, 'number', where);
    assert.equal(BigInt.asUintN(BITS[last], BigInt(ours)), BigInt(theirs), where);
  } else if (Array.isArray(theirs)) {
    assert.ok(Array.isArray(ours), where);
    assert.equal(ours.length, theirs.length, where);
    theirs.forEach((t, i) => sameFormatted(ours[i], t, `${where}/${i}`));
  } else if (theirs !== null && typeof theirs === 'object') {
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), where);
    for (const k of Object.keys(theirs)) sameFormatted(ours[k], theirs[k], `${where}/${k}`);
  } else {
    assert.equal(ours, theirs, where);
  }
}

// bpftool shows a DATASEC as {".data":[{var: value}, ...]}; ours is {var: value}.
const flatSec = (f) => Object.assign({}, ...Object.values(f)[0]);

async function dumpAll(s, args) {
  const pages = [];
  let cursor;
  for (let k = 0; k < 100000; k++) {
    const r = await s.ok('map_dump', cursor ? { ...args, cursor } : args);
    pages.push(r);
    if (r.done) break;
    assert.ok(r.next_cursor, 'a page that is not the last has a cursor');
    cursor = r.next_cursor;
  }
  return pages;
}

before(() => {
  ensureMounts();
  sh(`rm -rf ${PROGS} ${PINS} ${NOBTF} ${BIG} ${PCPU}`);
  sh(`${BPFTOOL} prog loadall ${OBJ} ${PROGS} pinmaps ${PINS}`);
  sh(`${BPFTOOL} map create ${NOBTF} type hash key 4 value 8 entries 16 name t_nobtf`);
  const cmds = [];
  for (let k = 0; k < 250; k++) cmds.push(`map update pinned ${pin('mt_hash')} key ${bytesArg(u32hex(k * 7919))} value ${bytesArg(u64hex(k * 1000 + 7))}`);
  cmds.push(`map update pinned ${pin('mt_hash')} key ${bytesArg(u32hex(0))} value hex ff ff ff ff ff ff ff ff`);
  for (let k = 0; k < 8; k++) cmds.push(`map update pinned ${pin('mt_array')} key ${bytesArg(u32hex(k))} value ${bytesArg(u64hex(k * k))}`);
  for (let k = 0; k < 5; k++) cmds.push(`map update pinned ${pin('mt_pcpu_hash')} key ${bytesArg(u32hex(k + 100))} value ${bytesArg(u32hex(k * 3))}`);
  VALS.forEach((v, k) => cmds.push(`map update pinned ${pin('mt_struct')} key ${bytesArg(u32hex(k + 1))} value hex ${packVal(v).match(/../g).join(' ')}`));
  cmds.push(`map update pinned ${pin('mt_skey')} key 1 0 0 0 0x61 0x62 0 0 value 0xfe 0xff 0xff 0xff`);
  cmds.push(`map update pinned ${pin('mt_skey')} key 2 0 0 0 0x78 0x79 0x7a 0x77 value 5 0 0 0`);
  for (const [k, v] of [[-1, -1n], [-2147483648, -9223372036854775808n], [2147483647, 9223372036854775807n], [0, -300n]])
    cmds.push(`map update pinned ${pin('mt_signed')} key hex ${Buffer.from(new Int32Array([k]).buffer).toString('hex').match(/../g).join(' ')} value hex ${Buffer.from(new BigInt64Array([v]).buffer).toString('hex').match(/../g).join(' ')}`);
  cmds.push(`map update pinned ${NOBTF} key 1 2 3 4 value 1 2 3 4 5 6 7 8`);
  cmds.push(`map update pinned ${NOBTF} key 0xff 0 0 0 value 0 0 0 0 0 0 0 0x80`);
  sh(`printf '%s\\n' ${cmds.map((c) => `'${c}'`).join(' ')} | ${BPFTOOL} batch file -`);
});

after(() => sh(`rm -rf ${PROGS} ${PINS} ${NOBTF} ${BIG} ${PCPU}`));

test('map_dump equals bpftool entry for entry: decoded fields and raw bytes, every map kind', async () => {
  const names = readdirSync(PINS);
  assert.deepEqual(names.sort(), ['maps_data', 'mt_array', 'mt_hash', 'mt_pcpu_array', 'mt_pcpu_hash', 'mt_signed', 'mt_skey', 'mt_struct']);
  await withServer(['--limit', 'map_entries=1000'], async (s) => {
    for (const p of [...names.map(pin), NOBTF]) {
      const show = bt(`map show pinned ${p}`);
      const witness = bt(`map dump pinned ${p}`);
      const [ours] = await dumpAll(s, { pin_path: p });
      const [raw] = await dumpAll(s, { pin_path: p, encoding: 'hex' });
      assert.equal(ours.done, true, p);
      assert.equal(ours.count, witness.length, `${p}: entry count`);
      assert.equal(raw.count, witness.length, p);
      assert.equal(ours.read, 'batch', p);
      const m = ours.map;
      assert.equal(m.id, show.id, p);
      assert.equal(m.name, show.name, p);
      assert.equal(m.type, show.type, p);
      assert.equal(m.key_size, show.bytes_key, p);
      assert.equal(m.value_size, show.bytes_value, p);
      assert.equal(m.max_entries, show.max_entries, p);
      assert.equal(m.btf_id, show.btf_id ?? 0, p);
      assert.equal(m.owned, false);
      assert.equal(raw.map.key_encoding, 'hex');
      assert.equal(raw.map.value_encoding, 'hex');

      // Raw bytes: our hex keys/values are bpftool's bytes, per CPU too.
      const rawByKey = new Map(raw.entries.map((e) => [e.key, e]));
      const oursByKey = new Map(raw.entries.map((e, i) => [e.key, ours.entries[i]]));
      for (const w of witness) {
        const key = hexOf(w.key);
        const r = rawByKey.get(key);
        assert.ok(r, `${p}: key ${key} dumped`);
        if (m.percpu) {
          assert.equal(m.cpus, NCPUS);
          assert.deepEqual(r.value, w.values.map((v) => hexOf(v.value)), `${p} ${key}`);
        } else {
          assert.equal(r.value, hexOf(w.value), `${p} ${key}`);
        }
        // Decoded: every field as bpftool formats it.
        const o = oursByKey.get(key);
        if (!w.formatted) {
          assert.equal(m.value_encoding, 'hex', p);
          assert.equal(m.hex_reason, 'the map has no BTF');
          assert.equal(o.key, key);
          continue;
        }
        if ('key' in w.formatted) sameFormatted(o.key, w.formatted.key, `${p}:${key}/key`);
        else assert.equal(o.key, key, `${p}: a key without BTF type is hex`);
        if (m.percpu) sameFormatted(o.value, w.formatted.values.map((v) => v.value), `${p}:${key}/value`);
        else if (m.value_type?.startsWith('.')) sameFormatted(o.value, flatSec(w.formatted.value), `${p}:${key}/value`);
        else sameFormatted(o.value, w.formatted.value, `${p}:${key}/value`);
      }
    }
  });
});

test('decoding: struct members, enums, bitfields, char arrays, unions and u64 above 2^53 exactly', async () => {
  await withServer([], async (s) => {
    const r = await s.call('map_dump', { pin_path: pin('mt_struct') });
    const byKey = new Map(r.structuredContent.entries.map((e) => [e.key, e.value]));
    assert.equal(r.structuredContent.map.value_type, 'struct mt_val');
    const v1 = byKey.get(1);
    assert.equal(v1.name, 'alpha');
    assert.equal(v1.color, 'MT_BLUE');
    assert.equal(byKey.get(3).color, 3, 'an enum value without a name is its number');
    assert.deepEqual([v1.lo, v1.mid, v1.hi, v1.neg, v1.pad_bits], [5, 300, 703710, -3, 12345]);
    assert.equal(byKey.get(3).neg, -32, 'signed bitfields are sign-extended');
    assert.deepEqual(v1.u, { as_u32: 67305985, as_bytes: [1, 2, 3, 4] }, 'a union shows every member');
    assert.equal(byKey.get(2).name, 'beta gamma');
    // Exact digits in the text (JSON.parse would round them).
    const text = r.content[0].text;
    assert.match(text, /"signed_big":-4611686018427387904[,}]/);
    const h = await s.call('map_lookup', { pin_path: pin('mt_hash'), keys: [0] });
    assert.match(h.content[0].text, /"value":18446744073709551615[,}]/);
    // signed 32/64-bit keys and values at their extremes, exact
    const sg = (await s.call('map_dump', { pin_path: pin('mt_signed') })).content[0].text;
    for (const [k, v] of [['-1', '-1'], ['-2147483648', '-9223372036854775808'], ['2147483647', '9223372036854775807'], ['0', '-300']])
      assert.ok(sg.includes(`{"key":${k},"value":${v}}`), `${k} -> ${v} in ${sg.slice(0, 300)}`);
  });
});

test('pagination: small pages return every entry exactly once (batch with buckets split, and iterate)', async () => {
  const want = bt(`map dump pinned ${pin('mt_hash')}`).map((w) => w.formatted.key).sort((a, b) => a - b);
  assert.ok(want.length >= 250);
  await withServer([], async (s) => {
    for (const read of ['batch', 'iterate']) {
      for (const limit of [1, 2, 7, 1000]) {
        const pages = await dumpAll(s, { pin_path: pin('mt_hash'), limit, read });
        const keys = pages.flatMap((p) => p.entries.map((e) => e.key)).sort((a, b) => a - b);
        assert.deepEqual(keys, want, `${read} limit ${limit}`);
        for (const p of pages) {
          assert.equal(p.read, read);
          assert.ok(p.count <= limit);
          assert.equal(p.count, p.entries.length);
          if (!p.done) assert.equal(p.stopped_by, 'limit');
        }
        assert.ok(pages.length >= Math.ceil(want.length / limit), `${read} limit ${limit}: pages`);
        // (white-box) the bucket-splitting path ran: a page ended inside a kernel batch
        if (read === 'batch' && limit === 1)
          assert.ok(pages.some((p) => p.next_cursor && !/^b\.\d+\.0\./.test(p.next_cursor)), 'a page ended inside a batch');
      }
    }
    // Per-CPU values page too, every CPU's value (map_fill: k*1000+7+cpu).
    sh(`${FILL} ${PCPU} percpu_hash 64 50`);
    const pages = await dumpAll(s, { pin_path: PCPU, limit: 3 });
    const entries = pages.flatMap((p) => p.entries);
    assert.equal(entries.length, 50);
    assert.deepEqual(entries.map((e) => e.key).sort((a, b) => a - b), [...Array(50).keys()]);
    for (const e of entries) assert.deepEqual(e.value, [...Array(NCPUS).keys()].map((c) => e.key * 1000 + 7 + c));
    const w = bt(`map dump pinned ${PCPU}`);
    for (const x of w) assert.deepEqual(entries.find((e) => e.key === x.formatted.key).value, x.formatted.values.map((v) => v.value));
  });
});

test('limit: default, under, at and over map_entries; keys per call likewise', async () => {
  await withServer(['--limit', 'map_entries=5', ...FULL], async (s) => {
    const p = pin('mt_hash');
    assert.equal((await s.ok('map_dump', { pin_path: p })).count, 5, 'default limit is map_entries');
    assert.equal((await s.ok('map_dump', { pin_path: p, limit: 4 })).count, 4);
    assert.equal((await s.ok('map_dump', { pin_path: p, limit: 5 })).count, 5);
    const over = await s.call('map_dump', { pin_path: p, limit: 6 });
    assert.equal(over.isError, true);
    assert.equal(over.structuredContent.error.code, 'LIMIT_MAP_ENTRIES');
    assert.equal(over.structuredContent.error.context.limit, 'map_entries');
    assert.equal(over.structuredContent.error.context.value, 5);
    assert.equal((await s.ok('map_lookup', { pin_path: p, keys: [0, 1, 2, 3, 4] })).count, 5);
    const six = await s.call('map_lookup', { pin_path: p, keys: [0, 1, 2, 3, 4, 5] });
    assert.equal(six.structuredContent.error.code, 'LIMIT_MAP_ENTRIES');
    const e6 = [...Array(6).keys()].map((k) => ({ key: 5000 + k, value: k }));
    assert.equal((await s.call('map_update', { pin_path: p, entries: e6 })).structuredContent.error.code, 'LIMIT_MAP_ENTRIES');
    assert.equal(lookup(p, u32hex(5000)), null, 'nothing written');
    assert.equal((await s.call('map_delete', { pin_path: p, keys: [0, 1, 2, 3, 4, 5] })).structuredContent.error.code, 'LIMIT_MAP_ENTRIES');
    assert.notEqual(lookup(p, u32hex(0)), null, 'nothing deleted');
  });
});

test('response_bytes: a page stops early with a cursor and the reply stays under the cap', async () => {
  const N = 20000;
  const id = Number(sh(`${FILL} ${BIG} hash ${N} ${N}`).trim());
  await withServer(['--limit', 'response_bytes=64K', '--limit', `map_entries=${N}`], async (s) => {
    const seen = new Map();
    let cursor, pages = 0;
    for (;;) {
      const args = cursor ? { map_id: id, limit: N, cursor } : { map_id: id, limit: N };
      const r = await s.ok('map_dump', args);
      const line = JSON.stringify(s.lines[s.lines.length - 1]);
      assert.ok(line.length <= 64 * 1024, `reply of ${line.length} bytes`);
      pages++;
      for (const e of r.entries) {
        assert.ok(!seen.has(e.key), `key ${e.key} once`);
        seen.set(e.key, e.value);
      }
      if (r.done) break;
      assert.equal(r.stopped_by, 'response_bytes');
      assert.ok(r.count > 100, 'pages are filled, not cut short');
      cursor = r.next_cursor;
    }
    assert.ok(pages > 5);
    assert.equal(seen.size, N);
    for (const [k, v] of seen) assert.equal(v, k * 1000 + 7);
    // The same pages by pin path: the map id in the cursor must match.
    const first = await s.ok('map_dump', { pin_path: BIG, limit: 10 });
    const other = await s.call('map_dump', { pin_path: pin('mt_hash'), cursor: first.next_cursor });
    assert.equal(other.structuredContent.error.code, 'BAD_CURSOR');
  });
});

test('call_ms: a slow page stops at the deadline with a cursor, and paging still returns everything once', async () => {
  const N = 150000;
  const slow = `${BIG}_slow`;
  try {
    sh(`${FILL} ${slow} hash ${N} ${N}`);
    await withServer(['--limit', 'call_ms=100', '--limit', 'map_entries=100000', '--limit', 'response_bytes=64M'], async (s) => {
      const seen = new Set();
      let cursor, deadlines = 0;
      for (let k = 0; k < 1000; k++) {
        const r = await s.ok('map_dump', { pin_path: slow, read: 'iterate', limit: 100000, ...(cursor ? { cursor } : {}) });
        for (const e of r.entries) {
          assert.ok(!seen.has(e.key));
          seen.add(e.key);
        }
        if (r.done) break;
        deadlines += r.stopped_by === 'deadline';
        cursor = r.next_cursor;
      }
      assert.equal(seen.size, N);
      assert.ok(deadlines > 0, 'some page hit the 100 ms deadline');
    });
  } finally {
    sh(`rm -f ${slow}`);
  }
});

test('map_lookup: found and missing keys, struct keys, hex keys, per-CPU values (bpftool agrees)', async () => {
  await withServer([], async (s) => {
    const r = await s.ok('map_lookup', { pin_path: pin('mt_struct'), keys: [1, 99, '2'] });
    assert.deepEqual(r.results.map((x) => [x.key, x.found]), [[1, true], [99, false], [2, true]]);
    assert.equal(r.found, 2);
    sameFormatted(r.results[0].value, bt(`map lookup pinned ${pin('mt_struct')} key 1 0 0 0`).formatted.value, 'key 1');
    assert.equal('value' in r.results[1], false);

    const k = await s.ok('map_lookup', { pin_path: pin('mt_skey'), keys: [{ id: 1, tag: 'ab' }, { id: 2, tag: 'xyzw' }] });
    assert.deepEqual(k.results.map((x) => x.value), [-2, 5]);
    assert.deepEqual(k.results[1].key, { id: 2, tag: 'xyzw' });

    const h = await s.ok('map_lookup', { pin_path: pin('mt_hash'), keys: [u32hex(7919), '00000001'], encoding: 'hex' });
    assert.deepEqual(h.results.map((x) => x.found), [true, false]);
    assert.equal(h.results[0].value, hexOf(bt(`map lookup pinned ${pin('mt_hash')} key hex ${u32hex(7919).match(/../g).join(' ')}`).value));

    const nb = await s.ok('map_lookup', { pin_path: NOBTF, keys: ['01020304'] });
    assert.equal(nb.results[0].value, '0102030405060708');

    const pc = await s.ok('map_lookup', { pin_path: pin('mt_pcpu_hash'), keys: [102] });
    const w = bt(`map lookup pinned ${pin('mt_pcpu_hash')} key 102 0 0 0`);
    assert.deepEqual(pc.results[0].value, w.formatted.values.map((v) => v.value));
  });
});

test('map_update: what is written is what bpftool reads back (struct, per-CPU, struct key, hex, u64 max)', async () => {
  await withServer(FULL, async (s) => {
    const v = { ...VALS[0], name: 'written', signed_big: '-9223372036854775808', u: { as_bytes: [9, 8, 7, 6] } };
    const r = await s.ok('map_update', { pin_path: pin('mt_struct'), entries: [{ key: 40, value: v }] });
    assert.deepEqual(r.results, [{ index: 0, key: 40, status: 'written' }]);
    assert.deepEqual([r.written, r.failed, r.skipped], [1, 0, 0]);
    const w = lookup(pin('mt_struct'), u32hex(40));
    assert.equal(hexOf(w.value), packVal({ ...v, signed_big: -9223372036854775808n, u: { as_u32: 0x06070809 } }));
    assert.equal(w.formatted.value.name, 'written');
    assert.equal(w.formatted.value.color, 'MT_BLUE');

    const per = [...Array(NCPUS).keys()].map((c) => ({ count: c + 1, delta: c ? -c : 0, bytes: 1000 * c }));
    await s.ok('map_update', { pin_path: pin('mt_pcpu_array'), entries: [{ key: 2, value: per }] });
    const pw = bt(`map lookup pinned ${pin('mt_pcpu_array')} key 2 0 0 0`);
    assert.deepEqual(pw.formatted.values.map((x) => x.value), per);

    await s.ok('map_update', { pin_path: pin('mt_skey'), entries: [{ key: { id: 9, tag: 'q' }, value: -42 }] });
    assert.equal(lookup(pin('mt_skey'), '0900000071000000').formatted.value, -42);

    await s.ok('map_update', { pin_path: NOBTF, entries: [{ key: '0a000000', value: '1122334455667788' }] });
    assert.equal(hexOf(lookup(NOBTF, '0a000000').value), '1122334455667788');

    await s.ok('map_update', { pin_path: pin('mt_hash'), entries: [{ key: '2a000000', value: '0100000000000000' }], encoding: 'hex' });
    assert.equal(lookup(pin('mt_hash'), '2a000000').formatted.value, 1);
    await s.ok('map_update', { pin_path: pin('mt_hash'), entries: [{ key: 43, value: '18446744073709551615' }] });
    assert.equal(hexOf(lookup(pin('mt_hash'), '2b000000').value), 'ffffffffffffffff');

    // .data globals: the section's variables by name (the key has no BTF: hex).
    await s.ok('map_update', { pin_path: pin('maps_data'), entries: [{ key: '00000000', value: { mt_global_counter: 77, mt_global_name: 'set' } }] });
    assert.deepEqual(flatSec(bt(`map dump pinned ${pin('maps_data')}`)[0].formatted.value), { mt_global_counter: 77, mt_global_name: 'set' });
  });
});

test('map_update flags and failures: per entry status, stop or continue, exactly what was written', async () => {
  await withServer(FULL, async (s) => {
    const p = pin('mt_hash');
    const entries = [{ key: 600, value: 1 }, { key: 7919, value: 2 }, { key: 601, value: 3 }];
    const stop = await s.ok('map_update', { pin_path: p, entries, flags: 'noexist' });
    assert.deepEqual(stop.results.map((x) => x.status), ['written', 'failed', 'skipped']);
    assert.equal(stop.results[1].code, 'EEXIST');
    assert.equal(stop.results[1].errno, 17);
    assert.deepEqual([stop.written, stop.failed, stop.skipped], [1, 1, 1]);
    assert.equal(lookup(p, u32hex(600)).formatted.value, 1);
    assert.equal(lookup(p, u32hex(7919)).formatted.value, 1007, 'the existing entry is untouched');
    assert.equal(lookup(p, u32hex(601)), null, 'skipped: not written');

    const go = await s.ok('map_update', { pin_path: p, entries: [{ key: 7919, value: 2 }, { key: 601, value: 3 }], flags: 'noexist', on_error: 'continue' });
    assert.deepEqual(go.results.map((x) => x.status), ['failed', 'written']);
    assert.equal(lookup(p, u32hex(601)).formatted.value, 3);

    const ex = await s.ok('map_update', { pin_path: p, entries: [{ key: 602, value: 1 }], flags: 'exist' });
    assert.equal(ex.results[0].code, 'ENOENT');
    assert.equal(lookup(p, u32hex(602)), null);
  });
});

test('encode errors name the field with a JSON pointer and write nothing', async () => {
  await withServer(FULL, async (s) => {
    const p = pin('mt_struct');
    const bad = async (args, code, pointer, msg) => {
      const r = await s.call('map_update', { pin_path: p, ...args });
      assert.equal(r.isError, true, pointer);
      const e = r.structuredContent.error;
      assert.equal(e.category, 'validation');
      assert.equal(e.code, code, pointer);
      assert.equal(e.context.pointer, pointer);
      assert.match(e.message, msg);
      return e;
    };
    const good = { key: 50, value: { ...VALS[1] } };
    await bad({ entries: [good, { key: 51, value: { ...VALS[1], stats: { count: 300, delta: 0, bytes: 0 } } }] },
      'BAD_VALUE', '/entries/1/value/stats/count', /^\/entries\/1\/value\/stats\/count: 300 does not fit __u8 \(unsigned 8-bit: 0\.\.255\)/);
    assert.equal(lookup(p, u32hex(50)), null, 'the valid first entry was not written either');
    const noHi = { ...VALS[1] };
    delete noHi.hi;
    await bad({ entries: [{ key: 51, value: noHi }] }, 'BAD_VALUE', '/entries/0/value/hi', /missing/);
    await bad({ entries: [{ key: 51, value: { ...VALS[1], extra: 1 } }] }, 'BAD_VALUE', '/entries/0/value/extra', /struct mt_val has no member by this name/);
    await bad({ entries: [{ key: 51, value: { ...VALS[1], color: 'MT_PINK' } }] }, 'BAD_VALUE', '/entries/0/value/color', /MT_RED, MT_GREEN, MT_BLUE/);
    await bad({ entries: [{ key: 51, value: { ...VALS[1], mid: 512 } }] }, 'BAD_VALUE', '/entries/0/value/mid', /unsigned 9-bit: 0\.\.511/);
    await bad({ entries: [{ key: 51, value: { ...VALS[1], hist: [1, 2, 3] } }] }, 'BAD_VALUE', '/entries/0/value/hist', /4 elements/);
    await bad({ entries: [{ key: 51, value: { ...VALS[1], name: 'x'.repeat(17) } }] }, 'BAD_VALUE', '/entries/0/value/name', /does not fit char\[16\]/);
    await bad({ entries: [{ key: 51, value: { ...VALS[1], u: { as_u32: 1, as_bytes: [0, 0, 0, 0] } } }] }, 'BAD_VALUE', '/entries/0/value/u', /exactly one member/);
    await bad({ entries: [{ key: -1, value: VALS[1] }] }, 'BAD_KEY', '/entries/0/key', /-1 does not fit __u32/);
    await bad({ entries: [{ key: '01000000', value: VALS[1] }] }, 'BAD_KEY', '/entries/0/key', /"01000000" is not an integer/);
    await bad({ pin_path: NOBTF, entries: [{ key: 1, value: '00' }] }, 'BAD_KEY', '/entries/0/key', /8 hex digits.*the map has no BTF/);
    await bad({ pin_path: pin('mt_pcpu_array'), entries: [{ key: 0, value: { count: 1, delta: 0, bytes: 0 } }] }, 'BAD_VALUE', '/entries/0/value', new RegExp(`array of ${NCPUS} values`));
    await bad({ pin_path: pin('mt_pcpu_array'), entries: [{ key: 0, value: Array(NCPUS).fill({ count: 1, delta: 0 }) }] }, 'BAD_VALUE', '/entries/0/value/0/bytes', /missing/);
    const lk = await s.call('map_lookup', { pin_path: pin('mt_skey'), keys: [{ id: 1 }] });
    assert.equal(lk.structuredContent.error.context.pointer, '/keys/0/tag');
  });
});

test('map_delete: deleted, not_found, array refusal; bpftool no longer finds them', async () => {
  await withServer(FULL, async (s) => {
    const p = pin('mt_hash');
    const r = await s.ok('map_delete', { pin_path: p, keys: [7919 * 2, 123456, 7919 * 3] });
    assert.deepEqual(r.results.map((x) => x.status), ['deleted', 'not_found', 'deleted']);
    assert.deepEqual([r.deleted, r.not_found, r.failed, r.skipped], [2, 1, 0, 0]);
    assert.equal(lookup(p, u32hex(7919 * 2)), null);
    assert.equal(lookup(p, u32hex(7919 * 3)), null);
    assert.notEqual(lookup(p, u32hex(7919 * 4)), null);
    const a = await s.ok('map_delete', { pin_path: pin('mt_array'), keys: [1, 2] });
    assert.deepEqual(a.results.map((x) => x.status), ['failed', 'skipped']);
    assert.equal(a.results[0].code, 'EINVAL');
    assert.match(a.results[0].message, /write zeros with map_update/);
    const nb = await s.ok('map_delete', { pin_path: NOBTF, keys: ['01020304'] });
    assert.equal(nb.deleted, 1);
    assert.equal(lookup(NOBTF, '01020304'), null);
  });
});

test('writes need ownership or --allow-foreign; readonly lists only the readers', async () => {
  await withServer(['--profile', 'full'], async (s) => {
    const p = pin('mt_hash');
    const prior = lookup(p, u32hex(7919 * 5));
    for (const [tool, args] of [['map_update', { entries: [{ key: 7919 * 5, value: 1 }] }], ['map_delete', { keys: [7919 * 5] }]]) {
      const r = await s.call(tool, { pin_path: p, ...args });
      assert.equal(r.isError, true);
      assert.equal(r.structuredContent.error.category, 'permission');
      assert.equal(r.structuredContent.error.code, 'NOT_OWNED');
      assert.match(r.structuredContent.error.message, /--allow-foreign/);
    }
    assert.deepEqual(lookup(p, u32hex(7919 * 5)), prior, 'unchanged');
  });
  await withServer(['--profile', 'readonly'], async (s) => {
    const names = (await s.request('tools/list', {})).result.tools.map((t) => t.name);
    assert.ok(names.includes('map_dump') && names.includes('map_lookup'));
    assert.ok(!names.includes('map_update') && !names.includes('map_delete'));
    const list = (await s.request('tools/list', {})).result.tools;
    assert.equal(list.find((t) => t.name === 'map_dump').annotations.readOnlyHint, true);
  });
});

test('a map type without batch reads falls back to iterating (prog_array: values are program ids)', async () => {
  const pa = `/sys/fs/bpf/${TAG}_pa`;
  const prog = `${PROGS}/${readdirSync(PROGS)[0]}`;
  try {
    sh(`${BPFTOOL} map create ${pa} type prog_array key 4 value 4 entries 4 name t_pa`);
    sh(`${BPFTOOL} map update pinned ${pa} key 2 0 0 0 value pinned ${prog}`);
    const progId = bt(`prog show pinned ${prog}`).id;
    await withServer([], async (s) => {
      const r = await s.ok('map_dump', { pin_path: pa });
      assert.equal(r.read, 'iterate');
      const w = bt(`map dump pinned ${pa}`);
      assert.deepEqual(r.entries, w.map((e) => ({ key: hexOf(e.key), value: hexOf(e.value) })));
      assert.deepEqual(r.entries, [{ key: '02000000', value: u32hex(progId) }]);
      const forced = await s.call('map_dump', { pin_path: pa, read: 'batch' });
      assert.equal(forced.structuredContent.error.code, 'NO_BATCH_OPS');
      assert.match(forced.structuredContent.error.message, /prog_array/);
    });
  } finally {
    sh(`rm -f ${pa}`);
  }
});

test('errors: unknown id, missing pin, a pin that is not a map, both or neither names, bad cursor', async () => {
  await withServer([], async (s) => {
    const code = async (args) => (await s.call('map_dump', args)).structuredContent.error;
    assert.equal((await code({ map_id: 4294967295 })).code, 'NO_SUCH_MAP');
    assert.equal((await code({ pin_path: `${PINS}/nope` })).code, 'NO_SUCH_PIN');
    const prog = readdirSync(PROGS)[0];
    const np = await code({ pin_path: `${PROGS}/${prog}` });
    assert.equal(np.code, 'NOT_A_MAP');
    assert.equal(np.context.pointer, '/pin_path');
    assert.equal((await code({})).code, 'MAP_REQUIRED');
    assert.equal((await code({ map_id: 1, pin_path: PINS })).code, 'CONFLICTING_ARGS');
    for (const cursor of ['x', 'b.1.0.', 'k.1.zz', 'b.999999.0.00000000'])
      assert.equal((await code({ pin_path: pin('mt_hash'), cursor })).code, 'BAD_CURSOR', cursor);
    const page = await s.ok('map_dump', { pin_path: pin('mt_hash'), limit: 2, read: 'iterate' });
    assert.match(page.next_cursor, /^k\./);
    assert.equal((await code({ pin_path: pin('mt_hash'), cursor: page.next_cursor, read: 'batch' })).code, 'CONFLICTING_ARGS');
  });
});

test('no fd is left open by any path (success and error)', async () => {
  await withServer(FULL, async (s) => {
    const fds = () => readdirSync(`/proc/${s.proc.pid}/fd`).length;
    await s.ok('map_dump', { pin_path: pin('mt_struct') });   // warm up lazily opened files
    const n0 = fds();
    for (let k = 0; k < 20; k++) {
      await s.ok('map_dump', { pin_path: pin('mt_hash'), limit: 3 });
      await s.ok('map_dump', { pin_path: pin('mt_pcpu_hash'), read: 'iterate' });
      await s.ok('map_lookup', { pin_path: pin('mt_struct'), keys: [1, 2] });
      await s.call('map_dump', { pin_path: `${PROGS}/${readdirSync(PROGS)[0]}` });
      await s.call('map_dump', { pin_path: pin('mt_hash'), cursor: 'bad' });
      await s.call('map_update', { pin_path: pin('mt_struct'), entries: [{ key: 1, value: {} }] });
      await s.ok('map_update', { pin_path: pin('mt_hash'), entries: [{ key: 777, value: k }] });
      await s.ok('map_delete', { pin_path: pin('mt_hash'), keys: [777] });
    }
    assert.equal(fds(), n0);
  });
});

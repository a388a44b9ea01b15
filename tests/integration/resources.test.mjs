// Resource contents against independent witnesses: what resources/read says
// about a program, a map and a link is what bpftool says about the same
// kernel ids; a tracepoint's format is the tracefs file, byte for byte; a
// kernel type is the block `bpftool btf dump ... format c` prints for it.
// The objects are loaded by the server under test (attach_trace.bpf.o, its
// raw_tracepoint program attached, and maps.bpf.o); the map entries compared
// are written by bpftool, not by the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Server, ensureMounts, sh } from '../lib/mcp.mjs';
import { BPFTOOL, OBJ_DIR, bpftool } from '../lib/kern.mjs';

const TRACEFS = '/sys/kernel/tracing';
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'resources-test', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

let s;
let trace;   // attach_trace's load_program result
let maps;    // maps.bpf.o's
let link;

// resources/read of uri in the legacy era (or the modern one): its one content.
async function read(uri, { modern = false } = {}) {
  const r = await s.request('resources/read', modern ? { uri, _meta: MODERN_META } : { uri });
  assert.ok(r.result, `${uri}: ${JSON.stringify(r.error)}`);
  assert.equal(r.result.contents.length, 1);
  assert.equal(r.result.contents[0].uri, uri);
  return r.result.contents[0];
}
const readJson = async (uri) => JSON.parse((await read(uri)).text);

const le = (v, n) => Array.from({ length: n }, (_, i) => String(Number((BigInt(v) >> BigInt(8 * i)) & 0xffn)));
const update = (id, key, value) => sh(`${BPFTOOL} map update id ${id} key ${le(key, 4).join(' ')} value ${le(value, 8).join(' ')}`);

before(async () => {
  ensureMounts();
  s = new Server(['--profile', 'full', '--object-dir', OBJ_DIR]);
  await s.init();
  trace = await s.ok('load_program', { path: path.join(OBJ_DIR, 'attach_trace.bpf.o') });
  maps = await s.ok('load_program', { path: path.join(OBJ_DIR, 'maps.bpf.o') });
  const raw = trace.programs.find((p) => p.name === 'count_raw');
  link = await s.ok('attach_program', { program_id: raw.id, type: 'raw_tracepoint', target: 'sys_enter' });
  const id = (name) => maps.maps.find((m) => m.name === name).id;
  for (const k of [1, 2, 3, 40, 500]) update(id('mt_hash'), k, 1000 * k + 7);
  update(id('mt_hash'), 9, 2n ** 63n + 5n);   // beyond 2^53: a JSON number either way, compared as text
  update(id('mt_array'), 3, 33);
  update(id('mt_array'), 7, 77);
});

after(async () => {
  await s?.close();
});

test('bpf://prog/{id} says what `bpftool prog show id N` says', async () => {
  for (const p of [...trace.programs, ...maps.programs]) {
    const v = await readJson(`bpf://prog/${p.id}`);
    assert.equal(v.programs.items.length, 1);
    const r = v.programs.items[0];
    const b = bpftool(`prog show id ${p.id}`);
    assert.equal(r.id, b.id);
    assert.equal(r.name, b.name);
    assert.equal(r.type, b.type, `${p.name}: type`);
    assert.equal(r.tag, b.tag, `${p.name}: tag`);
    assert.deepEqual(r.map_ids ?? [], b.map_ids ?? [], `${p.name}: map ids`);
    for (const k of ['btf_id', 'uid', 'gpl_compatible', 'bytes_xlated', 'jited', 'bytes_jited', 'bytes_memlock']) {
      assert.equal(r[k], b[k], `${p.name}: ${k}`);
    }
    // bpftool prints the load time in whole seconds since the epoch
    assert.ok(Math.abs(Math.floor(Date.parse(r.load_time) / 1000) - b.loaded_at) <= 1, `${r.load_time} vs ${b.loaded_at}`);
    assert.equal(r.owned, true);
  }
});

test('bpf://map/{id}: geometry as `bpftool map show`, entries as `bpftool map dump`', async () => {
  for (const m of [...trace.maps, ...maps.maps]) {
    const v = await readJson(`bpf://map/${m.id}`);
    const b = bpftool(`map show id ${m.id}`);
    const g = v.map;
    assert.equal(g.id, b.id);
    assert.equal(g.name, b.name);
    assert.equal(g.type, b.type, `${m.name}: type`);
    assert.equal(g.key_size, b.bytes_key, `${m.name}: key size`);
    assert.equal(g.value_size, b.bytes_value, `${m.name}: value size`);
    assert.equal(g.max_entries, b.max_entries, `${m.name}: max_entries`);
    assert.equal(g.flags, b.flags, `${m.name}: flags`);
    assert.equal(g.btf_id, b.btf_id, `${m.name}: btf id`);
    if (m.name === 'raw_counts') continue;   // the attached program counts into it all the time
    const dump = bpftool(`map dump id ${m.id}`);
    assert.equal(v.count, v.entries.length);
    assert.equal(v.entries.length, Math.min(dump.length, 100), `${m.name}: as many entries as bpftool dumps`);
    assert.equal(v.done, dump.length <= 100);
  }
  // the integer maps entry by entry, as bpftool's BTF-formatted dump has them
  // (compared as JSON text: 2^63+5 is no exact JavaScript number)
  for (const name of ['mt_hash', 'mt_array']) {
    const id = maps.maps.find((m) => m.name === name).id;
    const mine = (await read(`bpf://map/${id}`)).text;
    const theirs = sh(`${BPFTOOL} -j map dump id ${id}`);
    const pairs = (text, re) => [...text.matchAll(re)].map((x) => `${x[1]}=${x[2]}`).sort();
    const a = pairs(mine.slice(mine.indexOf('"entries"')), /\{"key":(\d+),"value":(\d+)\}/g);
    const b = pairs(theirs, /"formatted":\{"key":(\d+),"value":(\d+)\}/g);
    assert.ok(b.length > 0, `${name}: bpftool dumped ${theirs.slice(0, 200)}`);
    assert.deepEqual(a, b, name);
  }
  const hash = maps.maps.find((m) => m.name === 'mt_hash').id;
  assert.ok((await read(`bpf://map/${hash}`)).text.includes('{"key":9,"value":9223372036854775813}'));
});

test('bpf://link/{id} says what `bpftool link show id N` says', async () => {
  const v = await readJson(`bpf://link/${link.link_id}`);
  const b = bpftool(`link show id ${link.link_id}`);
  assert.equal(v.links.items.length, 1);
  const r = v.links.items[0];
  assert.equal(r.id, b.id);
  assert.equal(r.type, b.type);
  assert.equal(r.prog_id, b.prog_id);
  assert.equal(r.tp_name, b.tp_name);
  assert.equal(r.tp_name, 'sys_enter');
  assert.equal(r.owned, true);
});

test('tracefs://events/{category}/{name}/format is the tracefs file, byte for byte, in both eras', async () => {
  const events = [['sched', 'sched_switch'], ['syscalls', 'sys_enter_openat'], ['raw_syscalls', 'sys_enter']];
  // and the first event of a few more categories, whatever this kernel has
  const cats = readdirSync(`${TRACEFS}/events`).filter((c) => statSync(`${TRACEFS}/events/${c}`).isDirectory()).sort();
  for (const c of cats.filter((_, i) => i % 15 === 0)) {
    const ev = readdirSync(`${TRACEFS}/events/${c}`).filter((e) => statSync(`${TRACEFS}/events/${c}/${e}`).isDirectory()).sort();
    if (ev.length) events.push([c, ev[0]]);
  }
  for (const [c, e] of events) {
    const uri = `tracefs://events/${c}/${e}/format`;
    const file = readFileSync(`${TRACEFS}/events/${c}/${e}/format`);
    for (const modern of [false, true]) {
      const r = await read(uri, { modern });
      assert.equal(r.mimeType, 'text/plain');
      assert.ok(Buffer.from(r.text, 'utf8').equals(file), `${uri} (${modern ? 'modern' : 'legacy'}) differs from the file`);
    }
  }
});

test('btf://vmlinux/{type} holds the declaration `bpftool btf dump file /sys/kernel/btf/vmlinux format c` prints', async () => {
  const header = sh(`${BPFTOOL} btf dump file /sys/kernel/btf/vmlinux format c`);
  const block = (first) => {
    const i = header.indexOf(`\n${first}\n`);
    assert.ok(i >= 0, `bpftool prints ${first}`);
    return header.slice(i + 1, header.indexOf('\n};\n', i) + 3);
  };
  for (const [name, first] of [['task_struct', 'struct task_struct {'], ['bpf_attr', 'union bpf_attr {'],
    ['bpf_prog_type', 'enum bpf_prog_type {'], ['pt_regs', 'struct pt_regs {']]) {
    const legacy = await read(`btf://vmlinux/${name}`);
    assert.equal(legacy.mimeType, 'text/x-c');
    assert.equal(legacy.text, block(first), name);
    assert.equal((await read(`btf://vmlinux/${name}`, { modern: true })).text, legacy.text, `${name}: both eras`);
  }
});

// Lifecycle, audit log, profiles and config: what a session creates is gone
// when it ends (EOF, SIGINT, SIGTERM, SIGHUP, kill -9), with bpftool as the
// witness; every tool call leaves one audit line naming what it created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server, withServer, sh, ensureMounts, BUILD } from '../lib/mcp.mjs';
import { load, linkExists, bpftool } from '../lib/kern.mjs';
import { mkdirSync, existsSync } from 'node:fs';

ensureMounts();
const OBJ = 'inspect_objs.bpf.o';

function objDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'ebpf-mcp-life-'));
  copyFileSync(path.join(BUILD, 'bpf', OBJ), path.join(dir, OBJ));
  return dir;
}

// Ids bpftool can still see; the kernel frees objects after an RCU grace
// period, so absence is polled for up to 3 s before it counts as a leak.
function alive(kind, ids) {
  const all = new Set(JSON.parse(sh(`bpftool -j ${kind} show`)).map((o) => o.id));
  return ids.filter((id) => all.has(id));
}
async function gone(kind, ids) {
  for (let i = 0; i < 60 && alive(kind, ids).length; i++) await new Promise((r) => setTimeout(r, 50));
  return alive(kind, ids);
}

async function loadOne(s, dir) {
  const r = await s.ok('load_program', { path: path.join(dir, OBJ) });
  assert.ok(r.programs.length >= 3 && r.maps.length >= 2);
  return { progs: r.programs.map((p) => p.id), maps: r.maps.map((m) => m.id), handle: r.handle };
}

const ends = {
  eof: async (s) => s.close(),
  SIGINT: async (s) => { s.proc.kill('SIGINT'); return s.exited; },
  SIGTERM: async (s) => { s.proc.kill('SIGTERM'); return s.exited; },
  SIGHUP: async (s) => { s.proc.kill('SIGHUP'); return s.exited; },
};

for (const [how, end] of Object.entries(ends)) {
  test(`on ${how} the server releases every program and map it loaded, then exits 0`, async () => {
    const dir = objDir();
    const audit = path.join(dir, 'audit.log');
    const s = new Server(['--profile', 'full', '--object-dir', dir, '--audit-log', audit]);
    try {
      await s.init();
      const a = await loadOne(s, dir);
      const b = await loadOne(s, dir);
      const progs = [...a.progs, ...b.progs], maps = [...a.maps, ...b.maps];
      assert.deepEqual(alive('prog', progs), progs, 'loaded programs are in the kernel');
      assert.deepEqual(alive('map', maps), maps);
      const ex = await end(s);
      assert.equal(ex.code, 0, `exit status (${JSON.stringify(ex)}); stderr: ${s.stderr}`);
      assert.deepEqual(await gone('prog', progs), [], 'programs left after exit');
      assert.deepEqual(await gone('map', maps), [], 'maps left after exit');
      const last = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).at(-1);
      assert.equal(last.event, 'shutdown');
      assert.equal(last.reason, how === 'eof' ? 'eof' : how);
      assert.deepEqual(last.released, { programs: progs.length, maps: maps.length, links: 0 });
    } finally {
      s.proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('after kill -9 the kernel frees everything the session held (nothing was pinned)', async () => {
  const dir = objDir();
  const s = new Server(['--profile', 'full', '--object-dir', dir]);
  try {
    await s.init();
    const a = await loadOne(s, dir);
    assert.deepEqual(alive('prog', a.progs), a.progs);
    s.proc.kill('SIGKILL');
    const ex = await s.exited;
    assert.equal(ex.sig, 'SIGKILL');
    assert.deepEqual(await gone('prog', a.progs), []);
    assert.deepEqual(await gone('map', a.maps), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the audit log has one line per call: tool, arguments, outcome, code, duration, objects', async () => {
  const dir = objDir();
  const audit = path.join(dir, 'audit.log');
  let loaded;
  await withServer(['--profile', 'full', '--object-dir', dir, '--audit-log', audit], async (s) => {
    loaded = await loadOne(s, dir);
    const bad = await s.call('unload_program', { handle: 999 });
    assert.equal(bad.isError, true);
    await s.ok('unload_program', { handle: loaded.handle });
    await s.ok('info');
  });
  const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.event), ['tool_call', 'tool_call', 'tool_call', 'tool_call', 'shutdown']);
  const [load, bad, unload, info] = lines;
  const session = load.session;
  assert.ok(lines.every((l) => l.session === session), 'one session id throughout');
  assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.time))));
  assert.equal(load.tool, 'load_program');
  assert.deepEqual(load.arguments, { path: path.join(dir, OBJ) });
  assert.equal(load.outcome, 'ok');
  assert.ok(Number.isInteger(load.duration_us) && load.duration_us > 0);
  const created = (kind) => load.created.filter((o) => o.kind === kind).map((o) => o.id).sort((x, y) => x - y);
  assert.deepEqual(created('program'), [...loaded.progs].sort((x, y) => x - y));
  assert.deepEqual(created('map'), [...loaded.maps].sort((x, y) => x - y));
  assert.deepEqual(load.destroyed, []);
  assert.equal(bad.outcome, 'error');
  assert.equal(bad.error_code, 'NO_SUCH_HANDLE');
  assert.deepEqual(bad.created, []);
  const destroyed = unload.destroyed.map((o) => o.id).sort((x, y) => x - y);
  assert.deepEqual(destroyed, [...loaded.progs, ...loaded.maps].sort((x, y) => x - y));
  assert.equal(info.tool, 'info');
  assert.deepEqual(info.arguments, {});
  assert.deepEqual(lines[4].released, { programs: 0, maps: 0, links: 0 });
  rmSync(dir, { recursive: true, force: true });
});

test('a path holding U+0000 or a key named twice is refused before any tool runs: the audit log never disagrees', async () => {
  const dir = objDir();
  const audit = path.join(dir, 'audit.log');
  const real = path.join(dir, OBJ);
  await withServer(['--profile', 'full', '--object-dir', dir, '--audit-log', audit], async (s) => {
    // cut at the NUL, this path names a real object: the tool would load it
    // while the audit line recorded the whole text
    const nul = await s.request('tools/call', { name: 'load_program', arguments: { path: `${real}\0.not-this` } });
    assert.equal(nul.error.code, -32602);
    assert.match(nul.error.message, /^\/params\/arguments\/path: a string holds U\+0000/);
    const id = 900;
    const reply = new Promise((res) => s.pending.set(String(id), res));
    s.sendRaw(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"load_program",` +
      `"arguments":{"path":${JSON.stringify(path.join(dir, 'absent.o'))},"path":${JSON.stringify(real)}}}}\n`);
    const dup = await reply;
    assert.equal(dup.error.code, -32602);
    assert.match(dup.error.message, /^\/params\/arguments\/path: duplicate key/);
    assert.equal((await s.ok('inspect_state', { kinds: ['program'] })).owned.programs, 0, 'nothing was loaded');
  });
  const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.tool ?? l.event), ['inspect_state', 'shutdown'], 'no load_program line');
  rmSync(dir, { recursive: true, force: true });
});

test('audit arguments are bounded by audit_arg_bytes and marked when cut (at, just over)', async () => {
  const dir = objDir();
  const audit = path.join(dir, 'audit.log');
  // {"name":"<n chars>"} is n + 11 bytes: exactly 64 fits, 65 is cut
  await withServer(['--audit-log', audit, '--limit', 'audit_arg_bytes=64'], async (s) => {
    await s.call('get_btf_types', { name: 'a'.repeat(53) });
    await s.call('get_btf_types', { name: 'b'.repeat(54) });
    await s.call('get_btf_types', { name: 'é'.repeat(40) });
  });
  const [at, over, utf] = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(at.arguments, { name: 'a'.repeat(53) });
  assert.equal(over.arguments, undefined);
  assert.equal(over.arguments_bytes, 65);
  assert.equal(over.arguments_prefix, '{"name":"' + 'b'.repeat(54) + '"');
  assert.equal(Buffer.byteLength(over.arguments_prefix), 64);
  // a cut never splits a UTF-8 sequence
  assert.ok(Buffer.byteLength(utf.arguments_prefix) <= 64);
  assert.ok(utf.arguments_prefix.endsWith('é'));
  rmSync(dir, { recursive: true, force: true });
});

const MUTATING = ['load_program', 'unload_program'];

for (const profile of ['readonly', 'observe']) {
  test(`under --profile ${profile} the mutating tools are neither listed nor callable`, async () => {
    await withServer(['--profile', profile], async (s) => {
      const names = (await s.request('tools/list', {})).result.tools.map((t) => t.name);
      for (const m of MUTATING) {
        assert.ok(!names.includes(m), `${m} listed under ${profile}`);
        const r = await s.request('tools/call', { name: m, arguments: {} });
        assert.ok(r.error, `${m} callable under ${profile}`);
        assert.match(r.error.message, /not in this server's .* profile/);
      }
    });
  });
}

test('under --profile full the mutating tools are listed with truthful hints', async () => {
  await withServer(['--profile', 'full'], async (s) => {
    const tools = (await s.request('tools/list', {})).result.tools;
    const by = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const m of MUTATING) assert.ok(by[m], `${m} missing`);
    assert.equal(by.unload_program.annotations.destructiveHint, true);
    assert.equal(by.load_program.annotations.readOnlyHint, false);
    for (const t of tools.filter((x) => x.annotations.readOnlyHint))
      assert.equal(t.annotations.destructiveHint, false, `${t.name}: read-only yet destructive`);
  });
});

test('--config FILE sets profile, deny list and limits like the flags do', async () => {
  const dir = objDir();
  const conf = path.join(dir, 'ebpf-mcp.conf');
  writeFileSync(conf, '# comment\nprofile = full\n  deny-tools unload_program,info\nlimit programs=3\n\n');
  await withServer(['--config', conf], async (s) => {
    const names = (await s.request('tools/list', {})).result.tools.map((t) => t.name);
    assert.ok(names.includes('load_program'));
    assert.ok(!names.includes('unload_program') && !names.includes('info'));
  });
  await withServer(['--config', conf, '--allow-tools', 'info,inspect_state', '--deny-tools', 'get_btf_types'], async (s) => {
    const names = (await s.request('tools/list', {})).result.tools.map((t) => t.name);
    assert.deepEqual(names, ['inspect_state']);
  });
  writeFileSync(conf, 'profile = root\n');
  const s = new Server(['--config', conf], { validate: false });
  const ex = await s.exited;
  assert.equal(ex.code, 2);
  assert.match(s.stderr, /line 1: --profile takes readonly, observe or full, not 'root'/);
  rmSync(dir, { recursive: true, force: true });
});

test('without CAP_BPF and CAP_SYS_ADMIN load_program names the missing capability', async () => {
  const dir = objDir();
  const before = JSON.parse(sh('bpftool -j prog show')).length;
  const wrap = ['setpriv', '--inh-caps=-all', '--bounding-set=-bpf,-sys_admin', '--'];
  try {
    await withServer(['--profile', 'full', '--object-dir', dir], async (s) => {
      const r = await s.call('load_program', { path: path.join(dir, OBJ) });
      assert.equal(r.isError, true);
      assert.equal(r.structuredContent.error.code, 'MISSING_CAPABILITY');
      assert.equal(r.structuredContent.error.context.capability, 'CAP_BPF');
      assert.equal((await s.ok('info')).server.name, 'ebpf-mcp', 'still serving');
    }, { wrap });
    assert.equal(JSON.parse(sh('bpftool -j prog show')).length, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Links: the session's attachments go with it; a pinned one stays, is
// reported in the shutdown line, and bpftool still finds it by its pin.
async function attachTwo(s) {
  const o = await load(s, 'attach_trace');
  const tp = await s.ok('attach_program', { program_id: o.prog.count_tp, type: 'tracepoint', target: 'syscalls/sys_enter_getppid' });
  const raw = await s.ok('attach_program', { program_id: o.prog.count_raw, type: 'raw_tracepoint', target: 'sys_enter' });
  assert.ok(linkExists(tp.link_id) && linkExists(raw.link_id));
  return { o, links: [tp.link_id, raw.link_id] };
}

test('on SIGTERM every link is detached except the pinned one, which the shutdown line reports', async () => {
  const pins = `/sys/fs/bpf/ebpf_mcp_life_${process.pid}`;
  const dir = objDir();
  const audit = path.join(dir, 'audit.log');
  mkdirSync(pins, { recursive: true });
  const s = new Server(['--profile', 'full', '--object-dir', path.join(BUILD, 'bpf'), '--pin-dir', pins, '--audit-log', audit]);
  try {
    await s.init();
    const { o, links } = await attachTwo(s);
    await s.ok('pin_object', { kind: 'link', id: links[1], path: `${pins}/keep` });
    s.proc.kill('SIGTERM');
    assert.equal((await s.exited).code, 0);
    for (let i = 0; i < 60 && linkExists(links[0]); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(linkExists(links[0]), false, 'unpinned link detached');
    assert.equal(bpftool(`link show pinned ${pins}/keep`).id, links[1], 'pinned link stays');
    const last = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).at(-1);
    assert.equal(last.reason, 'SIGTERM');
    assert.equal(last.released.links, 2);
    assert.deepEqual(last.pinned, [{ kind: 'link', id: links[1], path: `${pins}/keep` }]);
    assert.match(s.stderr, new RegExp(`left pinned: link ${links[1]} at ${pins}/keep`));
    assert.deepEqual(await gone('prog', [o.prog.count_tp]), [], 'program of the unpinned link freed');
  } finally {
    s.proc.kill('SIGKILL');
    sh(`rm -rf ${pins}`);
    rmSync(dir, { recursive: true, force: true });
  }
  for (let i = 0; i < 60 && bpftool('link show').some((l) => l.prog_name === 'count_raw'); i++)
    await new Promise((r) => setTimeout(r, 50));
});

test('after kill -9 the kernel frees the session\'s links with its programs', async () => {
  const s = new Server(['--profile', 'full', '--object-dir', path.join(BUILD, 'bpf')]);
  await s.init();
  const { o, links } = await attachTwo(s);
  s.proc.kill('SIGKILL');
  await s.exited;
  for (let i = 0; i < 60 && links.some(linkExists); i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(links.filter(linkExists), []);
  assert.deepEqual(await gone('prog', Object.values(o.prog)), []);
});

test('without CAP_NET_ADMIN loading networking programs names the capability; tracing still loads', async () => {
  const wrap = ['setpriv', '--inh-caps=-all', '--bounding-set=-net_admin,-sys_admin', '--'];
  await withServer(['--profile', 'full', '--object-dir', path.join(BUILD, 'bpf')], async (s) => {
    const r = await s.call('load_program', { path: path.join(BUILD, 'bpf', 'attach_net.bpf.o'), programs: ['count_xdp'] });
    assert.equal(r.structuredContent.error?.code, 'MISSING_CAPABILITY');
    assert.equal(r.structuredContent.error.context.capability, 'CAP_NET_ADMIN');
    assert.match(r.structuredContent.error.message, /xdp program 'count_xdp'/);
    const o = await load(s, 'attach_trace');
    const a = await s.ok('attach_program', { program_id: o.prog.count_raw, type: 'raw_tracepoint', target: 'sys_enter' });
    assert.ok(linkExists(a.link_id));
  }, { wrap });
});

// `ebpf-mcp serve` and `ebpf-mcp connect`: one daemon, many sessions, each
// peer's profile from its credentials, each session owning what it made.
//
// Clients are `ebpf-mcp connect` run as unprivileged uids under setpriv
// (numbers with no passwd entry, 41001..41010, and the existing `nobody`).
// Witnesses: /proc/PID/status for who a client really is, bpftool for what
// is loaded, attached and pinned, a trigger process and bpftool's map reads
// for whether a link still runs, /proc/net/unix and stat for the socket, and
// the audit file for what the daemon recorded.
//
// Needs root, bpffs, bpftool, setpriv, and the test objects `make test`
// builds (build/bpf/attach_trace.bpf.o, bench_ring.bpf.o,
// build/test/tools/attach_trigger; built here when missing).
//
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, BUILD, ensureMounts } from '../lib/mcp.mjs';
import { bpftool, counts, trigger, fails, linkExists, progExists, TRIGGER } from '../lib/kern.mjs';
import {
  Daemon, publicDir, until, listening, socketInodes, credsOf, connectOnce, script, auditLines, isSocket,
} from '../lib/daemon.mjs';

const OBJ = 'attach_trace.bpf.o';
const TAG = `ebpf_mcp_serve_${process.pid}`;
// uids and gids (no passwd/group entry for any of them)
const FULL = 41001, OBSERVE = 41002, NORULE = 41003, MEMBER = 41004, GROUP = 41005, FOREIGN = 41007;
const SOCK_GROUP = 41010, GROUPIE = 41006;
const NOBODY = 65534;
// A key of the pid-keyed counter maps that no process can have (pid_max is at most 2^22).
const NOPID = 0xfffffff0;

// The test objects are built by `make test`; a plain `make` does not, so
// whatever is missing is built here (the same make rules).
before(() => {
  ensureMounts();
  const need = [path.join(BUILD, 'bpf', OBJ), path.join(BUILD, 'bpf', 'bench_ring.bpf.o'), TRIGGER];
  const missing = need.filter((f) => !existsSync(f));
  if (missing.length) {
    assert.equal(BUILD, path.join(ROOT, 'build'), `missing ${missing.join(' ')} (EBPF_MCP_BUILD is set: build them there)`);
    const r = spawnSync('make', ['-C', ROOT, ...missing.map((f) => path.relative(ROOT, f))], { encoding: 'utf8' });
    assert.equal(r.status, 0, `make ${missing.join(' ')}: ${r.stdout}${r.stderr}`);
  }
});

// ---- helpers ---------------------------------------------------------------------

// The tools a profile offers, from the schema files (each names the least
// profile that offers its tool), not from the server.
const RANK = { readonly: 0, observe: 1, full: 2 };
function toolsFor(profile) {
  const dir = path.join(ROOT, 'schemas');
  return readdirSync(dir).filter((f) => /^[a-z].*\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')))
    .filter((s) => RANK[s.profile] <= RANK[profile]).map((s) => s.name).sort();
}

async function listed(s) {
  const r = await s.request('tools/list');
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  return r.result.tools.map((t) => t.name).sort();
}

// A public temp dir (binary, socket, audit log) with a copy of the test
// object under obj/, and a fresh pin directory on bpffs. cleanup() removes
// both, pins included.
function workspace(name) {
  const pub = publicDir('serve');
  const objDir = path.join(pub.dir, 'obj');
  mkdirSync(objDir, { mode: 0o755 });
  copyFileSync(path.join(BUILD, 'bpf', OBJ), path.join(objDir, OBJ));
  chmodSync(path.join(objDir, OBJ), 0o644);
  const pinDir = `/sys/fs/bpf/${TAG}_${name}`;
  rmSync(pinDir, { recursive: true, force: true });
  mkdirSync(pinDir);
  return {
    pub, objDir, pinDir, obj: path.join(objDir, OBJ), audit: path.join(pub.dir, 'audit.log'),
    cleanup: () => { rmSync(pinDir, { recursive: true, force: true }); pub.cleanup(); },
  };
}

// load_program of the counter object (only the named programs).
async function loadCounters(s, w, programs = ['count_tp']) {
  const r = await s.ok('load_program', { path: w.obj, programs });
  return {
    handle: r.handle,
    progs: r.programs.map((p) => p.id),
    prog: Object.fromEntries(r.programs.map((p) => [p.name, p.id])),
    map: Object.fromEntries(r.maps.map((m) => [m.name, m.id])),
    maps: r.maps.map((m) => m.id),
  };
}

// load + attach count_tp to getppid's tracepoint; returns ids.
async function loadAttached(s, w) {
  const o = await loadCounters(s, w);
  const a = await s.ok('attach_program', { program_id: o.prog.count_tp, type: 'tracepoint', target: 'syscalls/sys_enter_getppid' });
  o.link = a.link_id;
  return o;
}

const pinnedMapId = (p) => { try { return bpftool(`map show pinned ${p}`).id; } catch { return null; } };

// Sessions a test opened: every connect process ends, whatever happened.
function tracker() {
  const open = [];
  return {
    add(s) { open.push(s); return s; },
    async closeAll() {
      for (const s of open) {
        if (s.child && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
        else if (s.socket) s.socket.destroy();
      }
      await Promise.all(open.map((s) => s.exited));
    },
  };
}

// ---- a. access rules and profiles ---------------------------------------------------

test('access rules: each unprivileged uid gets its own profile; a uid no rule admits gets one -32003 line and connect exits 3', async () => {
  const pub = publicDir('serve');
  const audit = path.join(pub.dir, 'audit.log');
  const ss = tracker();
  let d;
  try {
    d = await Daemon.start(['--socket-mode', '0666', '--audit-log', audit,
      '--access', `uid:${FULL}=full`, '--access', `uid:${OBSERVE}=observe`, '--access', `gid:${GROUP}=readonly`,
      '--access', 'uid:nobody=readonly'], { pub });
    const a = ss.add(d.as({ uid: FULL }));
    const b = ss.add(d.as({ uid: OBSERVE }));
    await a.init();
    await b.init();
    // who they really are, from /proc
    assert.deepEqual(credsOf(a.pid), { uid: FULL, gid: FULL, groups: [] });
    assert.deepEqual(credsOf(b.pid), { uid: OBSERVE, gid: OBSERVE, groups: [] });

    assert.deepEqual(await listed(a), toolsFor('full'));
    assert.deepEqual(await listed(b), toolsFor('observe'));
    assert.ok(toolsFor('full').includes('load_program') && !toolsFor('observe').includes('load_program'));
    const ia = (await a.ok('info')).server, ib = (await b.ok('info')).server;
    assert.equal(ia.mode, 'daemon');
    assert.equal(ia.sessions, 2, 'both sessions are open');
    assert.deepEqual(ia.caller, { auth: 'peer', uid: FULL, gid: FULL, pid: a.pid, user: String(FULL), profile: 'full', allow_foreign: false });
    assert.deepEqual(ib.caller, { auth: 'peer', uid: OBSERVE, gid: OBSERVE, pid: b.pid, user: String(OBSERVE), profile: 'observe', allow_foreign: false });
    assert.equal(ia.profile, 'full');
    assert.equal(ib.profile, 'observe');
    assert.notEqual(ia.session, ib.session);
    // what the observe session is not offered, it cannot call
    const r = await b.request('tools/call', { name: 'load_program', arguments: { path: '/nonexistent.o' } });
    assert.equal(r.error?.code, -32602, JSON.stringify(r));
    assert.match(r.error.message, /observe profile/);

    // no rule for 41003: one line, then the daemon closes; connect exits 3
    const c = connectOnce(d.socket, { uid: NORULE }, { bin: pub.bin, input: script([{ jsonrpc: '2.0', id: 1, method: 'ping' }]) });
    assert.equal(c.status, 3, `connect status; stderr: ${c.stderr}`);
    assert.equal(c.lines.length, 1, c.stdout);
    const [refusal] = c.lines;
    assert.deepEqual(Object.keys(refusal), ['jsonrpc', 'id', 'error']);
    assert.equal(refusal.id, null);
    assert.equal(refusal.error.code, -32003);
    assert.deepEqual(refusal.error.data, { uid: NORULE, gid: NORULE, pid: c.pid, missing: 'access rule' });
    assert.match(refusal.error.message, new RegExp(`^uid ${NORULE} \\(${NORULE}, gid ${NORULE}, pid ${c.pid}\\) has no access rule`));
    assert.match(refusal.error.message, new RegExp(`--access uid:${NORULE}=PROFILE`));
    assert.equal(c.stderr, `ebpf-mcp connect: refused: ${refusal.error.message}\n`);

    // a gid rule admits through a supplementary group (and only with it)
    const m = ss.add(d.as({ uid: MEMBER, groups: [GROUP] }));
    await m.init();
    assert.deepEqual(credsOf(m.pid), { uid: MEMBER, gid: MEMBER, groups: [GROUP] });
    assert.deepEqual((await m.ok('info')).server.caller,
      { auth: 'peer', uid: MEMBER, gid: MEMBER, pid: m.pid, user: String(MEMBER), profile: 'readonly', allow_foreign: false });
    assert.deepEqual(await listed(m), toolsFor('readonly'));
    const outside = connectOnce(d.socket, { uid: MEMBER }, { bin: pub.bin, input: script() });
    assert.equal(outside.status, 3, 'the same uid without the group has no rule');
    assert.equal(outside.lines[0].error.data.missing, 'access rule');

    // ... and through the primary gid
    const prim = ss.add(d.as({ uid: 41008, gid: GROUP }));
    await prim.init();
    assert.deepEqual(credsOf(prim.pid), { uid: 41008, gid: GROUP, groups: [] });
    assert.equal((await prim.ok('info')).server.caller.profile, 'readonly');

    // the first rule that matches wins: 41002 in group 41005 stays observe
    const both = ss.add(d.as({ uid: OBSERVE, groups: [GROUP] }));
    await both.init();
    assert.equal((await both.ok('info')).server.caller.profile, 'observe');

    // a rule naming a user resolves through /etc/passwd
    const n = ss.add(d.as({ uid: 'nobody', gid: NOBODY }));
    await n.init();
    assert.equal(credsOf(n.pid).uid, NOBODY);
    assert.deepEqual((await n.ok('info')).server.caller,
      { auth: 'peer', uid: NOBODY, gid: NOBODY, pid: n.pid, user: 'nobody', profile: 'readonly', allow_foreign: false });

    for (const s of [a, b, m, prim, both, n]) assert.deepEqual(await s.close(), { code: 0, sig: null });

    // the audit file names each peer on its own lines
    await until('a shutdown line for each session', () => auditLines(audit).filter((l) => l.event === 'shutdown').length === 6);
    const lines = auditLines(audit);
    const of = (session) => lines.filter((l) => l.session === session);
    const la = of(ia.session), lb = of(ib.session);
    assert.deepEqual(la.map((l) => l.event), ['session_start', 'tool_call', 'shutdown']);
    // B's info, then its refused load_program: an attempt past one's profile is recorded
    assert.deepEqual(lb.map((l) => l.event), ['session_start', 'tool_call', 'tool_call', 'shutdown']);
    assert.deepEqual([lb[2].tool, lb[2].outcome, lb[2].error_code], ['load_program', 'error', 'TOOL_NOT_OFFERED']);
    for (const l of la) assert.deepEqual(l.peer, { uid: FULL, gid: FULL, pid: a.pid, user: String(FULL) });
    for (const l of lb) assert.deepEqual(l.peer, { uid: OBSERVE, gid: OBSERVE, pid: b.pid, user: String(OBSERVE) });
    assert.equal(la[0].detail, 'profile full');
    assert.equal(lb[0].detail, 'profile observe');
    assert.equal(la[1].tool, 'info');
    const refused = lines.filter((l) => l.event === 'refused');
    assert.equal(refused.length, 2, 'uid 41003, and 41004 without its group');
    assert.deepEqual(refused[0].peer, { uid: NORULE, gid: NORULE, pid: c.pid, user: String(NORULE) });
    assert.equal(refused[0].detail, refusal.error.message);
    assert.equal(lines.filter((l) => l.event === 'session_start' && l.peer.uid === NOBODY)[0].peer.user, 'nobody');
  } finally {
    await ss.closeAll();
    await d?.kill();
    pub.cleanup();
  }
});

// ---- b. ownership across sessions ---------------------------------------------------

test('ownership: another session gets NO_SUCH_HANDLE and NOT_OWNED for what A made, bpftool shows it untouched; +foreign may write A\'s map', async () => {
  const w = workspace('own');
  const ss = tracker();
  let d;
  try {
    d = await Daemon.start(['--socket-mode', '0666', '--object-dir', w.objDir, '--pin-dir', w.pinDir,
      '--access', `uid:${FULL}=full`, '--access', `uid:${OBSERVE}=full`, '--access', `uid:${FOREIGN}=full+foreign`],
    { pub: w.pub });
    const A = ss.add(d.as({ uid: FULL })), B = ss.add(d.as({ uid: OBSERVE })), C = ss.add(d.as({ uid: FOREIGN }));
    await Promise.all([A.init(), B.init(), C.init()]);

    const a = await loadAttached(A, w);
    const mapId = a.map.tp_counts, pin = `${w.pinDir}/a_counts`;
    await A.ok('pin_object', { kind: 'map', id: mapId, path: pin });
    assert.equal(bpftool(`link show id ${a.link}`).prog_id, a.prog.count_tp);
    assert.equal(pinnedMapId(pin), mapId);

    // B (full, no +foreign)
    const noHandle = await fails(B, 'unload_program', { handle: a.handle });
    assert.equal(noHandle.code, 'NO_SUCH_HANDLE');
    const tries = [
      ['detach_link', { link_id: a.link }],
      ['unpin_object', { path: pin }],
      ['map_update', { map_id: mapId, entries: [{ key: NOPID, value: 1 }] }],
      ['map_update', { pin_path: pin, entries: [{ key: NOPID, value: 1 }] }],
      ['map_delete', { map_id: mapId, keys: [NOPID] }],
      ['pin_object', { kind: 'map', id: mapId, path: `${w.pinDir}/b_counts` }],
      ['attach_program', { program_id: a.prog.count_tp, type: 'tracepoint', target: 'syscalls/sys_enter_getppid' }],
    ];
    for (const [tool, args] of tries) {
      const e = await fails(B, tool, args);
      assert.deepEqual([e.category, e.code], ['permission', 'NOT_OWNED'], `${tool} ${JSON.stringify(args)}: ${e.message}`);
    }
    // bpftool: all of it is still there, the map unwritten, the link running
    assert.equal(progExists(a.prog.count_tp), true);
    assert.equal(bpftool(`link show id ${a.link}`).prog_id, a.prog.count_tp);
    assert.equal(pinnedMapId(pin), mapId);
    assert.equal(existsSync(`${w.pinDir}/b_counts`), false, 'B pinned nothing');
    assert.deepEqual(bpftool('link show').filter((l) => l.prog_id === a.prog.count_tp).map((l) => l.id), [a.link],
      'B attached nothing to A\'s program');
    assert.equal(counts(mapId).has(NOPID), false);
    const p1 = trigger(['getppid', '3']);
    assert.equal(counts(mapId).get(p1), 3, "A's link still counts");

    // inspect_state: the same objects, owned in A only
    const view = async (s) => {
      const [prog, map, link] = await Promise.all([
        s.ok('inspect_state', { kinds: ['program'], id: a.prog.count_tp }),
        s.ok('inspect_state', { kinds: ['map'], id: mapId }),
        s.ok('inspect_state', { kinds: ['link'], id: a.link }),
      ]);
      const pins = await s.ok('inspect_state', { kinds: ['pin'], name: `${w.pinDir}/*` });
      return {
        owned: [prog.programs.items[0].owned, map.maps.items[0].owned, link.links.items[0].owned],
        ids: [prog.programs.items[0].id, map.maps.items[0].id, link.links.items[0].id],
        pins: pins.pins.items.map((p) => [p.path, p.kind, p.id]),
        counts: prog.owned,
      };
    };
    const inA = await view(A), inB = await view(B);
    assert.deepEqual(inB.ids, [a.prog.count_tp, mapId, a.link]);
    assert.deepEqual(inB.owned, [false, false, false]);
    assert.deepEqual(inA.owned, [true, true, true]);
    assert.deepEqual(inB.pins, [[pin, 'map', mapId]]);
    assert.deepEqual(inA.pins, inB.pins);
    assert.deepEqual([inB.counts.programs, inB.counts.maps, inB.counts.links], [0, 0, 0]);
    assert.deepEqual([inA.counts.programs, inA.counts.maps, inA.counts.links], [1, a.maps.length, 1]);

    // C (full+foreign): writes and deletes in A's map; handles stay per session
    assert.equal((await C.ok('info')).server.caller.allow_foreign, true);
    assert.equal((await fails(C, 'unload_program', { handle: a.handle })).code, 'NO_SUCH_HANDLE');
    await C.ok('map_update', { map_id: mapId, entries: [{ key: NOPID, value: 99 }] });
    assert.equal(counts(mapId).get(NOPID), 99, 'bpftool reads what C wrote');
    await C.ok('map_delete', { pin_path: pin, keys: [NOPID] });
    assert.equal(counts(mapId).has(NOPID), false, 'bpftool: deleted');
    assert.equal(bpftool(`link show id ${a.link}`).prog_id, a.prog.count_tp, "A's link is still there");
    // ... and passes the ownership check for A's link: a tracepoint link is
    // one the kernel cannot force off its hook, and the error says so
    const dl = await fails(C, 'detach_link', { link_id: a.link });
    assert.deepEqual([dl.category, dl.code], ['kernel', 'LINK_NOT_DETACHABLE'], dl.message);
    assert.equal(linkExists(a.link), true);
    // and removes A's pin
    const up = await C.ok('unpin_object', { path: pin });
    assert.deepEqual([up.kind, up.id, up.owned], ['map', mapId, false]);
    assert.equal(existsSync(pin), false);
    assert.equal(progExists(a.prog.count_tp), true, "A's program is A's until A unloads it");
  } finally {
    await ss.closeAll();
    await d?.kill();
    w.cleanup();
  }
});

// ---- c. a session's end ----------------------------------------------------------------

const ENDS = {
  'its connect process is killed (SIGKILL)': async (s) => {
    s.child.kill('SIGKILL');
    assert.equal((await s.exited).sig, 'SIGKILL');
  },
  'its client closes stdin': async (s) => {
    assert.deepEqual(await s.close(), { code: 0, sig: null }, 'connect exits 0');
  },
};

for (const [how, end] of Object.entries(ENDS)) {
  test(`when ${how}, the session's programs and links are freed while another session goes on; its pins stay`, async () => {
    const w = workspace('end');
    const ss = tracker();
    let d;
    try {
      d = await Daemon.start(['--socket-mode', '0666', '--object-dir', w.objDir, '--pin-dir', w.pinDir, '--audit-log', w.audit,
        '--access', `uid:${FULL}=full`, '--access', `uid:${OBSERVE}=full`], { pub: w.pub });
      const A = ss.add(d.as({ uid: FULL })), B = ss.add(d.as({ uid: OBSERVE }));
      await Promise.all([A.init(), B.init()]);
      const a = await loadAttached(A, w), b = await loadAttached(B, w);
      const aSession = (await A.ok('info')).server.session;
      const pin = `${w.pinDir}/a_left`;
      await A.ok('pin_object', { kind: 'map', id: a.map.tp_counts, path: pin });
      assert.equal(linkExists(a.link) && linkExists(b.link), true);

      await end(A);
      await until("A's program and link to leave the kernel", () => !progExists(a.prog.count_tp) && !linkExists(a.link));
      // what the daemon says it released
      const shut = await until("A's shutdown audit line", () => auditLines(w.audit).find((l) => l.session === aSession && l.event === 'shutdown'));
      // a half-close (stdin closed) is the end of input; a killed client closed both ways
      assert.equal(shut.reason, how.includes('SIGKILL') ? 'the client went away' : 'eof');
      assert.deepEqual(shut.released, { programs: 1, maps: a.maps.length, links: 1 });
      assert.deepEqual(shut.pinned, [{ kind: 'map', id: a.map.tp_counts, path: pin }]);

      // B: objects in place, still answering, its link still counting
      assert.equal(progExists(b.prog.count_tp), true);
      assert.equal(bpftool(`link show id ${b.link}`).prog_id, b.prog.count_tp);
      assert.deepEqual((await B.request('ping')).result, {});
      const st = await B.ok('inspect_state', { kinds: ['link'], id: b.link });
      assert.deepEqual([st.links.items[0].owned, st.owned.programs, st.owned.links], [true, 1, 1]);
      assert.equal((await B.ok('info')).server.sessions, 1);
      const pid = trigger(['getppid', '2']);
      assert.equal(counts(b.map.tp_counts).get(pid), 2, "B's link runs");
      // A's pin keeps its map, which its gone link no longer feeds
      assert.equal(pinnedMapId(pin), a.map.tp_counts);
      assert.equal(counts(a.map.tp_counts).has(pid), false);
    } finally {
      await ss.closeAll();
      await d?.kill();
      w.cleanup();
    }
  });
}

// ---- d. caps across sessions ----------------------------------------------------------

test('programs caps: programs per session, programs_total across sessions; the load that goes over gets held/needed, and succeeds once the other unloads or ends', async () => {
  const w = workspace('cap');
  const ss = tracker();
  let d;
  try {
    d = await Daemon.start(['--socket-mode', '0666', '--object-dir', w.objDir, '--audit-log', w.audit,
      '--limit', 'programs=2', '--limit', 'programs_total=3',
      '--access', `uid:${FULL}=full`, '--access', `uid:${OBSERVE}=full`], { pub: w.pub });
    const A = ss.add(d.as({ uid: FULL })), B = ss.add(d.as({ uid: OBSERVE }));
    await Promise.all([A.init(), B.init()]);
    const two = ['count_tp', 'count_raw'];
    const a = await loadCounters(A, w, two);
    assert.equal(a.progs.length, 2);
    // the per-session cap
    const own = await fails(A, 'load_program', { path: w.obj, programs: ['count_btf'] });
    assert.deepEqual([own.code, own.context.limit, own.context.value, own.context.held, own.context.needed],
      ['LIMIT_PROGRAMS', 'programs', 2, 2, 1], own.message);

    // the total: B holds nothing, A holds 2 of 3
    const e = await fails(B, 'load_program', { path: w.obj, programs: two });
    assert.deepEqual([e.category, e.code], ['resource', 'LIMIT_PROGRAMS_TOTAL'], e.message);
    assert.equal(e.context.limit, 'programs_total');
    assert.equal(e.context.value, 3);
    assert.equal(e.context.held, 2);
    assert.equal(e.context.needed, 2);
    assert.ok(Number.isInteger(e.context.max) && e.context.max >= 3);
    assert.match(e.message, /all sessions together hold 2/);
    // nothing was loaded for the refused call
    assert.equal((await B.ok('inspect_state', { kinds: ['program'], limit: 1 })).owned.programs, 0);
    const refusedCall = auditLines(w.audit).filter((l) => l.tool === 'load_program' && l.peer.uid === OBSERVE).at(-1);
    assert.deepEqual([refusedCall.outcome, refusedCall.error_code, refusedCall.created], ['error', 'LIMIT_PROGRAMS_TOTAL', []]);
    assert.deepEqual(a.progs.filter(progExists), a.progs, "A's programs stay");

    // one more fits the total
    const b1 = await loadCounters(B, w, ['count_tp']);
    assert.equal(progExists(b1.progs[0]), true);
    const e2 = await fails(B, 'load_program', { path: w.obj, programs: ['count_raw'] });
    assert.deepEqual([e2.code, e2.context.held, e2.context.needed], ['LIMIT_PROGRAMS_TOTAL', 3, 1]);

    // A unloads: B's load goes through
    await A.ok('unload_program', { handle: a.handle });
    await until("A's programs to leave the kernel", () => !a.progs.some(progExists));
    const b2 = await loadCounters(B, w, ['count_raw']);
    assert.deepEqual(b2.progs.filter(progExists), b2.progs, 'bpftool sees it');

    // B holds 2 and A none: A may load 1; B's session ends and A may load 2
    const a1 = await loadCounters(A, w, ['count_tp']);
    const e3 = await fails(A, 'load_program', { path: w.obj, programs: ['count_raw'] });
    assert.deepEqual([e3.code, e3.context.held, e3.context.needed], ['LIMIT_PROGRAMS_TOTAL', 3, 1]);
    assert.deepEqual(await B.close(), { code: 0, sig: null });
    const a2 = await until("the total to count B's programs as released", async () => {
      const r = await A.call('load_program', { path: w.obj, programs: ['count_raw'] });
      return r.isError ? null : r.structuredContent;
    });
    assert.equal(progExists(a2.programs[0].id), true);
    assert.equal(progExists(a1.progs[0]), true);
    assert.deepEqual([...b1.progs, ...b2.progs].filter(progExists), [], "B's programs are gone");
  } finally {
    await ss.closeAll();
    await d?.kill();
    w.cleanup();
  }
});

test('--limit sessions=2: a third connection gets the sessions refusal line; once one session ends another is admitted', async () => {
  const pub = publicDir('serve');
  const audit = path.join(pub.dir, 'audit.log');
  const ss = tracker();
  let d;
  try {
    d = await Daemon.start(['--socket-mode', '0666', '--audit-log', audit, '--limit', 'sessions=2',
      '--access', `uid:${FULL}=observe`, '--access', `uid:${OBSERVE}=observe`], { pub });
    const A = ss.add(d.as({ uid: FULL })), B = ss.add(d.as({ uid: OBSERVE }));
    await Promise.all([A.init(), B.init()]);
    assert.equal((await A.ok('info')).server.sessions, 2);

    const c = connectOnce(d.socket, { uid: FULL }, { bin: pub.bin, input: script() });
    assert.equal(c.status, 3, c.stderr);
    assert.equal(c.lines.length, 1);
    const { error } = c.lines[0];
    assert.equal(error.code, -32003);
    assert.deepEqual(error.data, { uid: FULL, gid: FULL, pid: c.pid, limit: 'sessions', value: 2 });
    assert.match(error.message, /sessions cap/);
    assert.equal(c.stderr, `ebpf-mcp connect: refused: ${error.message}\n`);
    assert.ok(auditLines(audit).some((l) => l.event === 'refused' && l.peer.pid === c.pid && l.detail === error.message));
    assert.deepEqual((await A.request('ping')).result, {}, 'the two sessions go on');

    assert.deepEqual(await B.close(), { code: 0, sig: null });
    // the slot frees when the daemon has finished B's session
    const ok = await until('a third session to be admitted', () => {
      const r = connectOnce(d.socket, { uid: FULL }, { bin: pub.bin, input: script() });
      return r.status === 0 ? r : null;
    });
    assert.deepEqual(ok.lines.map((l) => l.id), ['init']);
    assert.ok(ok.lines[0].result.protocolVersion);
  } finally {
    await ss.closeAll();
    await d?.kill();
    pub.cleanup();
  }
});

// ---- e. connect ------------------------------------------------------------------------

test('connect: exit 1 with a clear message for a missing socket and for a stale one nobody listens on', async () => {
  const pub = publicDir('serve');
  let d;
  try {
    const missing = path.join(pub.dir, 'none.sock');
    const m = connectOnce(missing, { uid: FULL }, { bin: pub.bin, input: script() });
    assert.equal(m.status, 1);
    assert.equal(m.stdout, '');
    assert.match(m.stderr, new RegExp(`^ebpf-mcp connect: no socket at ${missing}: is the daemon running\\?`));
    if (!existsSync('/run/ebpf-mcp.sock')) {
      const dflt = connectOnce(null, { uid: FULL }, { bin: pub.bin });
      assert.equal(dflt.status, 1);
      assert.match(dflt.stderr, /no socket at \/run\/ebpf-mcp\.sock/, 'the default path');
    }

    // a daemon killed with SIGKILL leaves its socket file behind
    d = await Daemon.start(['--socket-mode', '0666', '--access', `uid:${FULL}=observe`], { pub });
    assert.equal((await d.stop('SIGKILL')).sig, 'SIGKILL');
    assert.equal(isSocket(d.socket), true, 'the socket file is left');
    assert.equal(listening(d.socket), undefined, 'nothing listens on it');
    const s = connectOnce(d.socket, { uid: FULL }, { bin: pub.bin, input: script() });
    assert.equal(s.status, 1);
    assert.equal(s.stdout, '');
    assert.equal(s.stderr, `ebpf-mcp connect: nothing answers on ${d.socket} (the daemon has stopped and left its socket)\n`);
  } finally {
    await d?.kill();
    pub.cleanup();
  }
});

test('connect: exit 1 naming the mode and owner when the socket is not open to the user; --socket-group opens it to a group', async () => {
  const pub = publicDir('serve');
  const audit = path.join(pub.dir, 'audit.log');
  let d;
  try {
    d = await Daemon.start(['--socket-mode', '0600', '--audit-log', audit, '--access', `uid:${FULL}=observe`], { pub });
    const st = statSync(d.socket);
    assert.deepEqual([st.mode & 0o777, st.uid, st.gid], [0o600, 0, 0]);
    const r = connectOnce(d.socket, { uid: FULL }, { bin: pub.bin, input: script() });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `ebpf-mcp connect: ${d.socket} (mode 0600, owner 0:0) is not open to uid ${FULL}: the daemon's `
      + '--socket-mode and --socket-group decide who may connect\n');
    assert.deepEqual(auditLines(audit), [], 'the daemon never saw the attempt');
    assert.equal((await d.stop()).code, 0);

    d = await Daemon.start(['--socket-mode', '0660', '--socket-group', String(SOCK_GROUP), '--access', `uid:${GROUPIE}=observe`], { pub });
    const g = statSync(d.socket);
    assert.deepEqual([g.mode & 0o777, g.uid, g.gid], [0o660, 0, SOCK_GROUP]);
    const inGroup = connectOnce(d.socket, { uid: GROUPIE, groups: [SOCK_GROUP] }, { bin: pub.bin, input: script() });
    assert.equal(inGroup.status, 0, inGroup.stderr);
    assert.ok(inGroup.lines[0].result.protocolVersion);
    const out = connectOnce(d.socket, { uid: GROUPIE }, { bin: pub.bin, input: script() });
    assert.equal(out.status, 1);
    assert.match(out.stderr, new RegExp(`\\(mode 0660, owner 0:${SOCK_GROUP}\\) is not open to uid ${GROUPIE}`));
  } finally {
    await d?.kill();
    pub.cleanup();
  }
});

test('connect exits 0 when the daemon stops (SIGTERM), which frees every session\'s objects, exits 0 and removes its socket', async () => {
  const w = workspace('term');
  const ss = tracker();
  let d;
  try {
    d = await Daemon.start(['--socket-mode', '0666', '--object-dir', w.objDir, '--audit-log', w.audit,
      '--access', `uid:${FULL}=full`, '--access', `uid:${OBSERVE}=full`], { pub: w.pub });
    const A = ss.add(d.as({ uid: FULL })), B = ss.add(d.as({ uid: OBSERVE }));
    await Promise.all([A.init(), B.init()]);
    const a = await loadAttached(A, w), b = await loadAttached(B, w);
    assert.deepEqual(await d.stop('SIGTERM'), { code: 0, sig: null }, `daemon exit; stderr: ${d.stderr}`);
    assert.deepEqual(await A.exited, { code: 0, sig: null }, `connect A: ${A.stderr}`);
    assert.deepEqual(await B.exited, { code: 0, sig: null }, `connect B: ${B.stderr}`);
    assert.equal(existsSync(d.socket), false, 'socket file removed');
    // the daemon has exited: nothing of the sessions may be left
    await until('the programs and links to leave the kernel',
      () => ![a, b].some((o) => progExists(o.prog.count_tp) || linkExists(o.link)), 5000);
    const shut = auditLines(w.audit).filter((l) => l.event === 'shutdown');
    assert.deepEqual(shut.map((l) => l.peer.uid).sort(), [FULL, OBSERVE]);
    for (const l of shut) assert.deepEqual([l.released.programs, l.released.links], [1, 1]);
  } finally {
    await ss.closeAll();
    await d?.kill();
    w.cleanup();
  }
});

test('connect exits 0 when the client closes its stdin, after every reply to what it sent', async () => {
  const pub = publicDir('serve');
  let d;
  try {
    d = await Daemon.start(['--socket-mode', '0666', '--access', `uid:${FULL}=observe`], { pub });
    const more = [];
    for (let i = 1; i <= 20; i++) more.push({ jsonrpc: '2.0', id: i, method: 'ping' });
    more.push({ jsonrpc: '2.0', id: 21, method: 'tools/list' });
    more.push({ jsonrpc: '2.0', id: 22, method: 'tools/call', params: { name: 'info', arguments: {} } });
    more.push({ jsonrpc: '2.0', id: 23, method: 'tools/call', params: { name: 'list_bpf_map_types', arguments: {} } });
    const r = connectOnce(d.socket, { uid: FULL }, { bin: pub.bin, input: script(more) });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.lines.map((l) => l.id), ['init', ...more.map((m) => m.id)], 'one reply per request, in order');
    for (const l of r.lines) assert.equal(l.error, undefined, JSON.stringify(l.error));
    assert.equal(r.lines.at(-2).result.structuredContent.server.caller.uid, FULL);
    assert.equal(r.lines.at(-1).result.isError, false);
  } finally {
    await d?.kill();
    pub.cleanup();
  }
});

for (const sig of ['SIGINT', 'SIGHUP']) {
  test(`with no --access rule only uid 0 is admitted, with --profile; ${sig} frees its objects, exits 0 and removes the socket`, async () => {
    const w = workspace('sig');
    const ss = tracker();
    let d;
    try {
      d = await Daemon.start(['--socket-mode', '0666', '--profile', 'full', '--object-dir', w.objDir], { pub: w.pub });
      await until('the daemon\'s note on stderr', () => /no --access rule: only uid 0 may connect \(profile full\)/.test(d.stderr));
      const r = connectOnce(d.socket, { uid: FULL }, { bin: w.pub.bin, input: script() });
      assert.equal(r.status, 3, 'a non-root uid is refused');
      const root = ss.add(d.raw());
      await root.init();
      assert.deepEqual((await root.ok('info')).server.caller,
        { auth: 'peer', uid: 0, gid: 0, pid: process.pid, user: 'root', profile: 'full', allow_foreign: false });
      const o = await loadAttached(root, w);
      assert.deepEqual(await d.stop(sig), { code: 0, sig: null }, d.stderr);
      await root.exited;
      assert.equal(existsSync(d.socket), false, 'socket file removed');
      await until('the program and link to leave the kernel', () => !progExists(o.prog.count_tp) && !linkExists(o.link), 20000);
    } finally {
      await ss.closeAll();
      await d?.kill();
      w.cleanup();
    }
  });
}

// ---- f. the socket file ------------------------------------------------------------------

test('a stale socket file is replaced at start; a second daemon on a live socket exits non-zero and the first keeps serving', async () => {
  const pub = publicDir('serve');
  const sock = path.join(pub.dir, 's.sock');
  let d, holder;
  try {
    // another program's socket, left behind by SIGKILL
    holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)})`], { stdio: 'ignore' });
    await until('the stand-in to listen', () => listening(sock));
    holder.kill('SIGKILL');
    await new Promise((res) => holder.on('exit', res));
    assert.equal(isSocket(sock) && !listening(sock), true, 'a stale socket file');

    d = await Daemon.start([], { pub, socket: sock });
    // the socket listening at that path is the daemon's own (its fd)
    const live = listening(sock);
    assert.ok([...socketInodes(d.pid).values()].includes(live.inode), 'the daemon holds the listening socket');
    const s = d.raw();
    await s.init();
    assert.equal((await s.ok('info')).server.mode, 'daemon');

    const second = spawnSync(pub.bin, ['serve', '--socket', sock], { encoding: 'utf8', timeout: 15000 });
    assert.notEqual(second.status, 0);
    assert.equal(second.signal, null);
    assert.match(second.stderr, new RegExp(`another server answers on ${sock}`));
    assert.equal(listening(sock)?.inode, live.inode, 'the first daemon still listens there');
    assert.equal(d.exit, null, 'the first daemon runs');
    assert.deepEqual((await s.request('ping')).result, {}, 'its open session answers');
    const t = d.raw();
    await t.init();
    assert.deepEqual((await t.request('ping')).result, {}, 'and it accepts new ones');
    await s.close();
    await t.close();
    assert.deepEqual(await d.stop(), { code: 0, sig: null });
  } finally {
    holder?.kill('SIGKILL');
    await d?.kill();
    pub.cleanup();
  }
});

// ---- g. options ---------------------------------------------------------------------------

function cli(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, `ebpf-mcp ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('options go before or after the command and as --name=value', () => {
  const names = (out) => out.tools.map((t) => t.name).sort();
  assert.deepEqual(names(cli(['--profile', 'full', 'tools'])), toolsFor('full'));
  assert.deepEqual(names(cli(['tools', '--profile=full'])), toolsFor('full'));
  assert.deepEqual(names(cli(['tools', '--profile', 'readonly'])), toolsFor('readonly'));
  assert.deepEqual(names(cli(['tools'])), toolsFor('observe'), 'the default profile');
  const info = cli(['--limit=programs=2', 'call', 'info']);
  assert.equal(info.limits.programs, 2);
  assert.equal(info.server.mode, 'cli');
  assert.equal(cli(['call', 'info', '--limit=maps=5']).limits.maps, 5);
});

test('a --config file\'s access lines are honoured by serve', async () => {
  const pub = publicDir('serve');
  const ss = tracker();
  let d;
  try {
    const conf = path.join(pub.dir, 'ebpf-mcp.conf');
    writeFileSync(conf, [
      '# who may use the daemon',
      `access uid:${FULL}=observe`,
      `access = uid:${OBSERVE}=full+foreign`,
      'socket-mode 0666',
      '',
    ].join('\n'));
    d = await Daemon.start(['--config', conf], { pub });
    assert.equal(statSync(d.socket).mode & 0o777, 0o666, 'socket-mode from the file');
    const A = ss.add(d.as({ uid: FULL })), B = ss.add(d.as({ uid: OBSERVE }));
    await Promise.all([A.init(), B.init()]);
    assert.deepEqual((await A.ok('info')).server.caller,
      { auth: 'peer', uid: FULL, gid: FULL, pid: A.pid, user: String(FULL), profile: 'observe', allow_foreign: false });
    assert.deepEqual((await B.ok('info')).server.caller,
      { auth: 'peer', uid: OBSERVE, gid: OBSERVE, pid: B.pid, user: String(OBSERVE), profile: 'full', allow_foreign: true });
    assert.deepEqual(await listed(A), toolsFor('observe'));
    const r = connectOnce(d.socket, { uid: NORULE }, { bin: pub.bin, input: script() });
    assert.equal(r.status, 3, 'no line for 41003');
    // root has no rule either once rules exist
    const root = ss.add(d.raw());
    const line = await root.nextLine();
    assert.equal(line.error.code, -32003);
    assert.equal(line.error.data.uid, 0);
  } finally {
    await ss.closeAll();
    await d?.kill();
    pub.cleanup();
  }
});

// ---- the audit of refused calls, the half-close, the hints --------------------------------

// A session whose profile lacks a tool asks for it anyway: the daemon answers
// -32602 "unknown tool 'load_program' (not in this server's observe
// profile...)", and the audit log records the attempt: it is "one JSON line
// per tool call" (SPEC 6), and on a daemon many users share, an attempt
// beyond one's profile is what it should record.
test('the audit log records a tools/call of a tool outside the session\'s profile', async () => {
  const pub = publicDir('serve');
  const audit = path.join(pub.dir, 'audit.log');
  let d;
  try {
    d = await Daemon.start(['--socket-mode', '0666', '--audit-log', audit, '--access', `uid:${OBSERVE}=observe`], { pub });
    const r = connectOnce(d.socket, { uid: OBSERVE }, { bin: pub.bin, input: script([
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'load_program', arguments: { path: '/x.o' } } },
    ]) });
    assert.equal(r.lines.find((l) => l.id === 1).error.code, -32602, 'refused (as it should be)');
    await until('the shutdown line', () => auditLines(audit).some((l) => l.event === 'shutdown'));
    const calls = auditLines(audit).filter((l) => l.event === 'tool_call');
    assert.deepEqual(calls.map((l) => [l.tool, l.outcome, l.peer.uid]), [['load_program', 'error', OBSERVE]]);
  } finally {
    await d?.kill();
    pub.cleanup();
  }
});

// A client pipes requests into `ebpf-mcp connect` and closes its stdin;
// connect passes the end on as a half-close (shutdown SHUT_WR) so that "the
// server answers what it has, then closes" (src/connect.c). Calls that run
// as jobs (stream_events, the tracers) run to their end and are answered:
// on a socket a half-close is the end of input, not a client gone (a
// client gone closes both ways). Here stream_events reads the unattached
// ring buffer of bench_ring.bpf.o for 300 ms.
test('connect: a stream_events call sent before the client closes stdin is answered', async () => {
  const pub = publicDir('serve');
  let d;
  try {
    const obj = path.join(pub.dir, 'bench_ring.bpf.o');
    copyFileSync(path.join(BUILD, 'bpf', 'bench_ring.bpf.o'), obj);
    d = await Daemon.start(['--socket-mode', '0666', '--object-dir', pub.dir, '--access', `uid:${FULL}=full`], { pub });
    const r = connectOnce(d.socket, { uid: FULL }, { bin: pub.bin, input: script([
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'load_program', arguments: { path: obj } } },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'stream_events', arguments: { handle: 1, map: 'events', duration_ms: 300 } } },
      { jsonrpc: '2.0', id: 4, method: 'ping' },
    ]) });
    assert.equal(r.status, 0, r.stderr);
    const ids = r.lines.filter((l) => l.id !== undefined).map((l) => l.id);
    assert.ok(r.lines.find((l) => l.id === 2)?.result?.structuredContent?.handle === 1, 'loaded');
    assert.deepEqual(ids.filter((id) => id !== 3), ['init', 2, 4]);
    const stream = r.lines.find((l) => l.id === 3);
    assert.ok(stream, `no reply to stream_events; the session's log said: ${JSON.stringify(r.lines.filter((l) => l.method === 'notifications/message').map((l) => l.params.data))}`);
    assert.equal(stream.result.isError, false);
  } finally {
    await d?.kill();
    pub.cleanup();
  }
});

// In a daemon session, --allow-foreign does nothing for a peer admitted by
// an --access rule (the rule's +foreign decides): every NOT_OWNED error
// names that way, whichever tool refuses.
test('in a daemon session every NOT_OWNED error names the +foreign access rule', async () => {
  const w = workspace('hint');
  const ss = tracker();
  let d;
  try {
    d = await Daemon.start(['--socket-mode', '0666', '--object-dir', w.objDir, '--pin-dir', w.pinDir,
      '--access', `uid:${FULL}=full`, '--access', `uid:${OBSERVE}=full`], { pub: w.pub });
    const A = ss.add(d.as({ uid: FULL })), B = ss.add(d.as({ uid: OBSERVE }));
    await Promise.all([A.init(), B.init()]);
    const a = await loadAttached(A, w);
    const pin = `${w.pinDir}/hint`;
    await A.ok('pin_object', { kind: 'map', id: a.map.tp_counts, path: pin });
    const messages = {};
    for (const [tool, args] of [
      ['map_update', { map_id: a.map.tp_counts, entries: [{ key: 1, value: 1 }] }],
      ['unpin_object', { path: pin }],
      ['detach_link', { link_id: a.link }],
      ['pin_object', { kind: 'map', id: a.map.tp_counts, path: `${w.pinDir}/other` }],
    ]) {
      const e = await fails(B, tool, args);
      assert.equal(e.code, 'NOT_OWNED');
      messages[tool] = e.message;
    }
    const lacking = Object.entries(messages).filter(([, m]) => !/\+foreign/.test(m));
    assert.deepEqual(lacking, [], 'messages that do not name the +foreign access rule');
  } finally {
    await ss.closeAll();
    await d?.kill();
    w.cleanup();
  }
});

test('connect with its standard descriptors closed: stdin is an empty input, not its own socket', async () => {
  const d = await Daemon.start();
  try {
    // `<&- >&-`: descriptors 0 and 1 closed; the socket would otherwise take fd 0
    const r = spawnSync('sh', ['-c', `exec "$0" connect "$1" <&- >&-`, d.pub.bin, d.socket], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.error, undefined, 'connect ended by itself (no hang)');
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await d.stop()).code, 0);
  } finally {
    await d.kill();
  }
});

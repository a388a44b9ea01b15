// inspect_state against bpftool: real programs, maps, links and pins are
// created (bpftool 7.1 cannot auto-attach, so a small libbpf fixture loads,
// attaches and pins them), then every field we report is compared with
// `bpftool -j prog|map|link|btf show`, readelf and the kernel's BTF.
// Other tests may load objects concurrently: whole-kernel comparisons only
// use objects bpftool saw both before and after our call.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { withServer, sh, ensureMounts, BUILD } from '../lib/mcp.mjs';

const BPFTOOL = '/usr/sbin/bpftool';
const OBJ = path.join(BUILD, 'bpf/inspect_objs.bpf.o');
const ATTACH = path.join(BUILD, 'test/tools/bpf_attach');
const bt = (what) => JSON.parse(sh(`${BPFTOOL} -j -f ${what} show`));

before(() => ensureMounts());

// Loads the fixture pinned under a fresh directory; returns bpftool's view
// of exactly those objects (found by their pinned paths).
function loadFixture(dir) {
  sh(`rm -rf ${dir}`);
  sh(`${ATTACH} ${OBJ} ${dir}`);
  const mine = (list) => list.filter((o) => (o.pinned || []).some((p) => p.startsWith(dir + '/')));
  const progs = mine(bt('prog')), maps = mine(bt('map')), links = mine(bt('link'));
  assert.equal(progs.length, 3, 'fixture programs');
  assert.equal(maps.length, 3, 'fixture maps');
  assert.equal(links.length, 3, 'fixture links');
  return { progs, maps, links };
}

const byId = (items) => new Map(items.map((o) => [o.id, o]));

function compareProg(ours, w) {
  const tag = `prog ${w.id}`;
  assert.equal(ours.name, w.name, tag);
  assert.equal(ours.type, w.type, tag);
  assert.equal(ours.tag, w.tag, tag);
  assert.equal(ours.gpl_compatible, w.gpl_compatible, tag);
  assert.equal(ours.uid, w.uid, tag);
  assert.equal(ours.bytes_xlated, w.bytes_xlated, tag);
  assert.equal(ours.jited, w.jited, tag);
  assert.equal(ours.bytes_jited, w.bytes_jited ?? 0, tag);
  assert.equal(ours.bytes_memlock, w.bytes_memlock, tag);
  assert.deepEqual(ours.map_ids, w.map_ids ?? [], tag);
  assert.equal(ours.btf_id, w.btf_id ?? null, tag);
  // bpftool prints whole seconds of the same boot->wall conversion.
  const secs = Date.parse(ours.load_time) / 1000;
  assert.ok(Math.abs(secs - w.loaded_at) <= 1, `${tag} load_time ${ours.load_time} vs ${w.loaded_at}`);
}

function compareMap(ours, w) {
  const tag = `map ${w.id}`;
  // bpftool 7.1's listing reuses one info struct: a map without BTF shows
  // the btf_id of the map listed before it. Asked for alone, it shows none.
  // A map freed since (another process's) is no longer one both saw: skipped.
  if (w.btf_id !== undefined && ours.btf_id === null) {
    const alone = spawnSync(BPFTOOL, ['-j', 'map', 'show', 'id', String(w.id)], { encoding: 'utf8' });
    if (alone.status !== 0 && /No such file|not found|ENOENT/i.test(alone.stdout + alone.stderr)) return;
    assert.equal(alone.status, 0, alone.stderr);
    w = JSON.parse(alone.stdout);
  }
  assert.equal(ours.name, w.name, tag);
  assert.equal(ours.type, w.type, tag);
  assert.equal(ours.flags, w.flags, tag);
  assert.equal(ours.key_size, w.bytes_key, tag);
  assert.equal(ours.value_size, w.bytes_value, tag);
  assert.equal(ours.max_entries, w.max_entries, tag);
  assert.equal(ours.bytes_memlock, w.bytes_memlock, tag);
  assert.equal(ours.frozen, Boolean(w.frozen), tag);
  assert.equal(ours.btf_id, w.btf_id ?? null, tag);
}

test('fixture objects: every field equals bpftool', async () => {
  const dir = `/sys/fs/bpf/t_inspect_${process.pid}`;
  try {
    const fx = loadFixture(dir);
    await withServer([], async (s) => {
      const r = await s.ok('inspect_state', { limit: 1000 });
      const progs = byId(r.programs.items), maps = byId(r.maps.items), links = byId(r.links.items);
      for (const w of fx.progs) compareProg(progs.get(w.id), w);
      for (const w of fx.maps) compareMap(maps.get(w.id), w);
      for (const w of fx.links) {
        const l = links.get(w.id);
        assert.equal(l.type, w.type);
        assert.equal(l.prog_id, w.prog_id);
        if (w.tp_name) assert.equal(l.tp_name, w.tp_name);
      }
      for (const o of [...fx.progs.map((w) => progs.get(w.id)), ...fx.maps.map((w) => maps.get(w.id))])
        assert.equal(o.owned, false);
      assert.deepEqual(r.owned, { programs: 0, maps: 0, links: 0, btf: 0, handles: [], traces: [] });

      // Flags by name: the .rodata map is read-only for programs and mmapable.
      const ro = fx.maps.find((m) => m.name.endsWith('.rodata'));
      assert.deepEqual(maps.get(ro.id).flag_names, ['rdonly_prog', 'mmapable']);
      assert.equal(maps.get(ro.id).frozen, true);

      // The perf_event link (bpftool 7.1 does not decode it) is attached where
      // the ELF section says: readelf is the witness.
      const tp = fx.progs.find((p) => p.type === 'tracepoint');
      const tpLink = [...links.values()].find((l) => l.prog_id === tp.id);
      assert.equal(tpLink.type, 'perf_event');
      assert.equal(tpLink.perf_event_type, 'tracepoint');
      const sec = sh(`readelf -S --wide ${OBJ}`).match(/ tracepoint\/syscalls\/(\w+) /)[1];
      assert.equal(tpLink.tp_name, sec);

      // tp_btf program: its attach target is the kernel BTF type of the hook.
      const tr = progs.get(fx.progs.find((p) => p.type === 'tracing').id);
      const vmlinux = JSON.parse(sh(`${BPFTOOL} -j btf show`)).find((b) => b.name === 'vmlinux');
      assert.equal(tr.attach_btf_obj_id, vmlinux.id);
      const line = sh(`${BPFTOOL} btf dump file /sys/kernel/btf/vmlinux format raw | grep -m1 '^\\[${tr.attach_btf_id}\\] '`);
      assert.match(line, /TYPEDEF 'btf_trace_sched_process_exec'/);

      // BTF objects: the fixture's own BTF and vmlinux, as bpftool shows them.
      const btfs = byId(r.btf.items);
      for (const w of JSON.parse(sh(`${BPFTOOL} -j btf show`)).filter((b) => b.id === fx.progs[0].btf_id || b.name === 'vmlinux')) {
        const b = btfs.get(w.id);
        assert.equal(b.size, w.size);
        assert.equal(b.kernel_btf, w.kernel);
        assert.equal(b.name, w.name ?? null);
      }

      // Pins: every fixture pin, with the id bpftool reports for that path.
      assert.ok(r.pins.mounts.includes('/sys/fs/bpf'));
      const pins = new Map(r.pins.items.map((p) => [p.path, p]));
      const want = [...fx.progs.map((o) => ['program', o]), ...fx.maps.map((o) => ['map', o]), ...fx.links.map((o) => ['link', o])];
      for (const [kind, o] of want)
        for (const p of o.pinned) {
          assert.equal(pins.get(p)?.kind, kind, p);
          assert.equal(pins.get(p).id, o.id, p);
          assert.equal(pins.get(p).type, o.type, p);
        }
      assert.equal(r.pins.items.filter((p) => p.path.startsWith(dir + '/')).length, 9);
    });
  } finally {
    sh(`rm -rf ${dir}`);
  }
});

test('whole kernel: objects bpftool saw before and after are all listed, same fields', async () => {
  const dir = `/sys/fs/bpf/t_inspect_all_${process.pid}`;
  try {
    loadFixture(dir);
    await withServer([], async (s) => {
      const kinds = [['prog', 'programs', compareProg], ['map', 'maps', compareMap], ['link', 'links', null], ['btf', 'btf', null]];
      const beforeSnap = Object.fromEntries(kinds.map(([k]) => [k, bt(k)]));
      const r = await s.ok('inspect_state', { limit: 1000, kinds: ['program', 'map', 'link', 'btf'] });
      const afterSnap = Object.fromEntries(kinds.map(([k]) => [k, bt(k)]));
      assert.equal(r.pins, undefined, 'pins not asked for');
      for (const [k, key, cmp] of kinds) {
        const after = byId(afterSnap[k]);
        const stable = beforeSnap[k].filter((o) => after.has(o.id));
        const ours = byId(r[key].items);
        assert.ok(stable.length > 0, k);
        for (const w of stable) {
          assert.ok(ours.has(w.id), `${k} ${w.id} listed`);
          if (cmp) cmp(ours.get(w.id), w);
        }
        assert.ok(r[key].total >= stable.length && r[key].total <= beforeSnap[k].length + afterSnap[k].length, k);
        assert.equal(r[key].returned, r[key].items.length);
        const ids = r[key].items.map((o) => o.id);
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `${k} ascending ids`);
      }
    });
  } finally {
    sh(`rm -rf ${dir}`);
  }
});

test('filters, paging, nested pins, symlinks and the walk depth limit', async () => {
  const dir = `/sys/fs/bpf/t_inspect_page_${process.pid}`;
  try {
    const fx = loadFixture(dir);
    const hash = fx.maps.find((m) => m.name === 'insp_hash');
    sh(`mkdir -p ${dir}/a/b && ${BPFTOOL} map pin id ${hash.id} ${dir}/a/b/deep_hash && ln -s insp_hash ${dir}/alias`);
    await withServer([], async (s) => {
      // name glob on object names: what bpftool lists under that name (the
      // fixture, plus any copy a concurrent run loaded), paged one by one
      // A concurrent run may load or free its own copy meanwhile: retry
      // until bpftool sees the same set before and after the pages.
      const witness = () => bt('prog').filter((p) => p.name.startsWith('insp_')).map((p) => p.id).sort((a, b) => a - b);
      let settled = false;
      for (let attempt = 0; attempt < 5 && !settled; attempt++) {
        const wit = witness();
        const all = await s.ok('inspect_state', { kinds: ['program'], name: 'insp_*' });
        const n = all.programs.total, paged = [], pages = [];
        for (let off = 0; off < n; off++) {
          const p = await s.ok('inspect_state', { kinds: ['program'], name: 'insp_*', limit: 1, offset: off });
          pages.push(p.programs);
          paged.push(...p.programs.items.map((o) => o.id));
        }
        if (JSON.stringify(witness()) !== JSON.stringify(wit)) continue;
        settled = true;
        assert.deepEqual(all.programs.items.map((p) => p.id), wit);
        assert.equal(n, wit.length);
        for (const p of fx.progs) assert.ok(wit.includes(p.id));
        pages.forEach((p, off) => {
          assert.equal(p.total, n);
          assert.equal(p.returned, 1);
          assert.equal(p.truncated, off < n - 1);
        });
        assert.deepEqual(paged, wit);
      }
      assert.ok(settled, 'the insp_* programs kept changing');

      // id filter: one map, and the two pins (plus nothing else) holding it
      const one = await s.ok('inspect_state', { kinds: ['map', 'pin'], id: hash.id });
      assert.equal(one.maps.total, 1);
      assert.equal(one.maps.items[0].name, 'insp_hash');
      const mine = one.pins.items.filter((p) => p.path.startsWith(dir + '/'));
      assert.deepEqual(mine.map((p) => p.path).sort(), [`${dir}/a/b/deep_hash`, `${dir}/insp_hash`]);
      assert.ok(one.pins.items.every((p) => p.id === hash.id));

      // pins by path glob; the symlink is reported as such
      const pins = await s.ok('inspect_state', { kinds: ['pin'], name: `${dir}/*` });
      assert.equal(pins.pins.total, 11);   // 9 pins + deep_hash + alias
      const alias = pins.pins.items.find((p) => p.path === `${dir}/alias`);
      assert.deepEqual(alias, { path: `${dir}/alias`, kind: 'symlink', target: 'insp_hash' });
      assert.deepEqual(pins.pins.items.map((p) => p.path), pins.pins.items.map((p) => p.path).sort());
    });
    // /sys/fs/bpf is level 1, our dir level 2: a/ is not read at depth 2.
    await withServer(['--limit', 'pin_walk_depth=2'], async (s) => {
      const r = await s.ok('inspect_state', { kinds: ['pin'], name: `${dir}/*` });
      assert.equal(r.pins.total, 10);
      assert.ok(!r.pins.items.some((p) => p.path.includes('/a/b/')));
      assert.ok(r.pins.dirs_not_walked >= 1);
    });
  } finally {
    sh(`rm -rf ${dir}`);
  }
});

// Stats are turned on through a BPF_ENABLE_STATS fd held by a fixture
// process, not the global sysctl, so other tests never see them change.
async function withStats(fn) {
  const child = spawn(path.join(BUILD, 'test/tools/bpf_stats'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve, reject) => {
      child.stdout.once('data', (d) => (String(d).startsWith('ready') ? resolve() : reject(new Error(String(d)))));
      child.once('exit', (code) => reject(new Error(`bpf_stats exited ${code}`)));
    });
    return await fn();
  } finally {
    child.stdin.end();
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  }
}

test('run counts with BPF stats on match bpftool', async () => {
  const dir = `/sys/fs/bpf/t_inspect_stats_${process.pid}`;
  try {
    const fx = loadFixture(dir);
    const tp = fx.progs.find((p) => p.type === 'tracepoint');
    await withStats(() => withServer([], async (s) => {
      for (let i = 0; i < 5; i++) void process.ppid;   // getppid(): the hooked syscall
      const lo = JSON.parse(sh(`${BPFTOOL} -j prog show id ${tp.id}`));
      const sysctl = sh('cat /proc/sys/kernel/bpf_stats_enabled').trim() !== '0';
      const r = await s.ok('inspect_state', { kinds: ['program'], id: tp.id });
      const hi = JSON.parse(sh(`${BPFTOOL} -j prog show id ${tp.id}`));
      const p = r.programs.items[0];
      assert.equal(r.bpf_stats_enabled, sysctl);
      assert.ok(p.run_cnt >= 5, `run_cnt ${p.run_cnt}`);
      assert.ok(p.run_cnt >= lo.run_cnt && p.run_cnt <= hi.run_cnt, `${lo.run_cnt} <= ${p.run_cnt} <= ${hi.run_cnt}`);
      assert.ok(p.run_time_ns >= lo.run_time_ns && p.run_time_ns <= hi.run_time_ns);
    }));
  } finally {
    sh(`rm -rf ${dir}`);
  }
});

test('speed: a dozen objects in a few ms; limit cap; a vanished id', async () => {
  const dir = `/sys/fs/bpf/t_inspect_speed_${process.pid}`;
  try {
    loadFixture(dir);
    await withServer(['--limit', 'list_items=2'], async (s) => {
      const times = [];
      for (let i = 0; i < 30; i++) {
        const t0 = process.hrtime.bigint();
        const r = await s.ok('inspect_state');
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        assert.ok(r.programs.returned <= 2);   // the default limit follows the cap
      }
      times.sort((a, b) => a - b);
      const t0 = process.hrtime.bigint();
      sh(`${BPFTOOL} -j prog show`);
      const btMs = Number(process.hrtime.bigint() - t0) / 1e6;
      console.log(`inspect_state (all kinds, round trip): median ${times[15].toFixed(2)} ms, max ${times[29].toFixed(2)} ms; bpftool prog show ${btMs.toFixed(1)} ms`);
      assert.ok(times[15] < 20, `median ${times[15]} ms`);

      const over = await s.call('inspect_state', { limit: 3 });
      assert.equal(over.structuredContent.error.code, 'LIMIT_LIST_ITEMS');
      const gone = await s.ok('inspect_state', { kinds: ['program', 'link'], id: 4294967295 });
      assert.equal(gone.programs.total, 0);
      assert.equal(gone.links.total, 0);
    });
  } finally {
    sh(`rm -rf ${dir}`);
  }
});

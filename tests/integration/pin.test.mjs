// pin_object / unpin_object against bpftool: what we pin, bpftool opens by
// path and sees as the same object; a pinned link keeps running after the
// server is gone; paths outside --pin-dir, off bpffs or not pins are
// refused, and so are other sessions' pins unless --allow-foreign.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { withServer, sh, ensureMounts } from '../lib/mcp.mjs';
import { BPFTOOL, OBJ_DIR, bpftool, linkExists, counts, trigger, load, fails } from '../lib/kern.mjs';

const TAG = `t${process.pid % 100000}`;
const FULL = ['--profile', 'full', '--object-dir', OBJ_DIR];

before(() => ensureMounts());

function pinDir(name) {
  const dir = `/sys/fs/bpf/${TAG}_${name}`;
  sh(`rm -rf ${dir}`);
  mkdirSync(dir);
  return dir;
}

test('pin a program, a map and a link: bpftool agrees, and the link outlives the server', async () => {
  const dir = pinDir('pins');
  try {
    let link, mapId, progId;
    await withServer([...FULL, '--pin-dir', dir], async (s) => {
      const o = await load(s, 'attach_trace');
      mapId = o.map.raw_counts, progId = o.prog.count_raw;
      link = (await s.ok('attach_program', { program_id: progId, type: 'raw_tracepoint', target: 'sys_enter' })).link_id;
      const pm = await s.ok('pin_object', { kind: 'map', id: mapId, path: `${dir}/counts` });
      assert.deepEqual(pm, { kind: 'map', id: mapId, path: `${dir}/counts`, owned: true });
      const pp = await s.ok('pin_object', { kind: 'program', id: progId, path: `${dir}/prog` });
      const pl = await s.ok('pin_object', { kind: 'link', id: link, path: `${dir}/../${TAG}_pins/link` });
      assert.equal(pl.path, `${dir}/link`, 'resolved path');
      assert.equal(bpftool(`map show pinned ${dir}/counts`).id, mapId);
      assert.equal(bpftool(`prog show pinned ${pp.path}`).id, progId);
      assert.equal(bpftool(`link show pinned ${pl.path}`).id, link);

      const up = await s.ok('unpin_object', { path: `${dir}/prog` });
      assert.deepEqual(up, { path: `${dir}/prog`, kind: 'program', id: progId, owned: true, still_exists: true });
      assert.equal(existsSync(`${dir}/prog`), false);
      const again = await fails(s, 'unpin_object', { path: `${dir}/prog` });
      assert.equal(again.code, 'NO_SUCH_PIN');
      sh(`ln -s counts ${dir}/alias`);
      assert.equal((await fails(s, 'unpin_object', { path: `${dir}/alias` })).code, 'NOT_A_PIN', 'symlinks are not pins');
      assert.equal(bpftool(`map show pinned ${dir}/counts`).id, mapId, 'the target stays');

      // detaching a pinned link: it stays while pinned; whether it still
      // runs depends on the kernel forcing it off (the counter says which)
      const tp = await s.ok('attach_program', { program_id: o.prog.count_tp, type: 'tracepoint', target: 'syscalls/sys_enter_getppid' });
      await s.ok('pin_object', { kind: 'link', id: tp.link_id, path: `${dir}/tp` });
      const d = await s.ok('detach_link', { link_id: tp.link_id });
      assert.deepEqual([d.owned, d.still_exists, d.pinned], [true, true, [`${dir}/tp`]]);
      assert.match(d.note, d.forced ? /defunct/ : /keeps running until its pin is removed/);
      assert.equal(linkExists(tp.link_id), true, 'bpftool: the pin holds it');
      const p1 = trigger(['getppid', '2']);
      assert.equal(counts(o.map.tp_counts).get(p1), d.forced ? undefined : 2);
      const u = await s.ok('unpin_object', { path: `${dir}/tp` });
      assert.deepEqual([u.kind, u.id, u.owned, u.still_exists], ['link', tp.link_id, true, false]);
      assert.equal(linkExists(tp.link_id), false);
      const p2 = trigger(['getppid', '2']);
      assert.equal(counts(o.map.tp_counts).has(p2), false, 'unpinned: gone');
    });
    // the server released everything it held; the pins keep link and map
    assert.equal(bpftool(`link show pinned ${dir}/link`).prog_id, progId);
    const pid = trigger(['getppid', '3']);
    assert.equal(counts(mapId).get(pid), 3, 'the pinned link still runs');

    await withServer([...FULL, '--pin-dir', dir], async (s) => {
      const e = await fails(s, 'unpin_object', { path: `${dir}/link` });
      assert.equal(e.category, 'permission');
      assert.equal(e.code, 'NOT_OWNED');
      assert.match(e.message, /--allow-foreign/);
    });
    assert.equal(linkExists(link), true);
    await withServer([...FULL, '--pin-dir', dir, '--allow-foreign'], async (s) => {
      const u = await s.ok('unpin_object', { path: `${dir}/link` });
      assert.deepEqual(u, { path: `${dir}/link`, kind: 'link', id: link, owned: false, still_exists: false });
    });
    assert.equal(linkExists(link), false, 'bpftool: the last holder is gone');
    const pid2 = trigger(['getppid', '2']);
    assert.equal(counts(mapId).has(pid2), false, 'no longer runs');
  } finally {
    sh(`rm -rf ${dir}`);
  }
});

test('pin paths: escapes, dots, missing directories, existing names and foreign objects are refused', async () => {
  const dir = pinDir('paths'), outside = pinDir('outside');
  const notBpf = `/tmp/${TAG}_notbpffs`;
  try {
    sh(`ln -s ${outside} ${dir}/up`);
    sh(`${BPFTOOL} map create ${dir}/foreign type hash key 4 value 8 entries 4 name ${TAG}_fmap`);
    const foreign = bpftool(`map show pinned ${dir}/foreign`).id;
    await withServer([...FULL, '--pin-dir', dir], async (s) => {
      const o = await load(s, 'attach_trace');
      const map = o.map.tp_counts;
      const cases = [
        [`${dir}/../${TAG}_outside/x`, 'permission', 'PATH_NOT_ALLOWED'],
        [`${outside}/x`, 'permission', 'PATH_NOT_ALLOWED'],
        [`${dir}/up/x`, 'permission', 'PATH_NOT_ALLOWED'],
        [`${dir}/a.b`, 'validation', 'BAD_PIN_PATH'],
        [`${dir}/nodir/x`, 'validation', 'NO_SUCH_DIRECTORY'],
        [`${dir}/`, 'validation', 'BAD_PIN_PATH'],
      ];
      for (const [p, category, code] of cases) {
        const e = await fails(s, 'pin_object', { kind: 'map', id: map, path: p });
        assert.deepEqual([e.category, e.code, e.context.pointer], [category, code, '/path'], p);
      }
      assert.deepEqual((await fails(s, 'pin_object', { kind: 'map', id: map, path: `${outside}/x` })).context.pin_dirs, [dir]);
      assert.equal(sh(`ls -A ${outside}`), '', 'nothing was pinned outside');

      await s.ok('pin_object', { kind: 'map', id: map, path: `${dir}/m` });
      assert.equal((await fails(s, 'pin_object', { kind: 'map', id: map, path: `${dir}/m` })).code, 'PATH_EXISTS');
      const f = await fails(s, 'pin_object', { kind: 'map', id: foreign, path: `${dir}/f2` });
      assert.deepEqual([f.category, f.code], ['permission', 'NOT_OWNED']);
      assert.equal((await fails(s, 'pin_object', { kind: 'map', id: 4294967295, path: `${dir}/n` })).code, 'NO_SUCH_OBJECT');
      assert.equal((await fails(s, 'pin_object', { kind: 'link', id: 2147483648, path: `${dir}/n` })).code, 'NOT_PINNABLE');
      assert.equal(existsSync(`${dir}/f2`) || existsSync(`${dir}/n`), false);
    });
    await withServer(FULL, async (s) => {
      const o = await load(s, 'attach_trace');
      for (const [tool, args] of [['pin_object', { kind: 'map', id: o.map.tp_counts, path: `${dir}/x` }], ['unpin_object', { path: `${dir}/foreign` }]]) {
        const e = await fails(s, tool, args);
        assert.deepEqual([e.category, e.code], ['permission', 'PATH_NOT_ALLOWED'], tool);
        assert.match(e.message, /--pin-dir/);
      }
    });
    mkdirSync(notBpf, { recursive: true });
    writeFileSync(`${notBpf}/file`, 'x');
    await withServer([...FULL, '--pin-dir', notBpf], async (s) => {
      const o = await load(s, 'attach_trace');
      assert.equal((await fails(s, 'pin_object', { kind: 'map', id: o.map.tp_counts, path: `${notBpf}/x` })).code, 'NOT_BPFFS');
      assert.equal((await fails(s, 'unpin_object', { path: `${notBpf}/file` })).code, 'NOT_BPFFS');
      assert.equal(existsSync(`${notBpf}/file`), true);
    });
  } finally {
    sh(`rm -rf ${dir} ${outside} ${notBpf}`);
  }
});

test('unpin: only pins, only under --pin-dir, only this session\'s unless --allow-foreign', async () => {
  const dir = pinDir('unpin'), other = pinDir('unpin_other');
  try {
    sh(`mkdir ${dir}/sub`);
    sh(`${BPFTOOL} map create ${dir}/foreign type hash key 4 value 8 entries 4 name ${TAG}_fmap`);
    sh(`${BPFTOOL} map create ${other}/elsewhere type hash key 4 value 8 entries 4 name ${TAG}_emap`);
    const foreign = bpftool(`map show pinned ${dir}/foreign`).id;
    await withServer([...FULL, '--pin-dir', dir], async (s) => {
      const cases = [
        [`${dir}/sub`, 'validation', 'NOT_A_PIN'],
        [dir, 'validation', 'NOT_A_PIN'],
        [`${dir}/nothing`, 'validation', 'NO_SUCH_PIN'],
        [`${other}/elsewhere`, 'permission', 'PATH_NOT_ALLOWED'],
        [`${dir}/../${TAG}_unpin_other/elsewhere`, 'permission', 'PATH_NOT_ALLOWED'],
        [`${dir}/foreign`, 'permission', 'NOT_OWNED'],
        ['/etc/hostname', 'permission', 'PATH_NOT_ALLOWED'],
      ];
      for (const [p, category, code] of cases) {
        const e = await fails(s, 'unpin_object', { path: p });
        assert.deepEqual([e.category, e.code, e.context.pointer], [category, code, '/path'], p);
      }
      assert.equal(bpftool(`map show pinned ${dir}/foreign`).id, foreign, 'still pinned');
      assert.equal(bpftool(`map show pinned ${other}/elsewhere`).name, `${TAG}_emap`);
    });
    await withServer([...FULL, '--pin-dir', dir, '--allow-foreign'], async (s) => {
      const u = await s.ok('unpin_object', { path: `${dir}/foreign` });
      assert.deepEqual(u, { path: `${dir}/foreign`, kind: 'map', id: foreign, owned: false, still_exists: false });
      assert.throws(() => bpftool(`map show id ${foreign}`), 'bpftool: the map is gone');
      assert.equal((await fails(s, 'unpin_object', { path: `${dir}/sub` })).code, 'NOT_A_PIN', 'directories never');
    });
  } finally {
    sh(`rm -rf ${dir} ${other}`);
  }
});

// attach_program / detach_link on this kernel, with independent witnesses:
// the test programs count into maps that bpftool reads (not our tools), a
// trigger process fires each hook a known number of times, and bpftool,
// ip, tc and /sys say what is attached where. Hooks this kernel lacks
// (kprobes, fentry) must fail with a kernel error that says why.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { withServer, sh, ensureMounts } from '../lib/mcp.mjs';
import {
  BPFTOOL, TRIGGER, OBJ_DIR, bpftool, sleep, linkExists, progExists, linksOf, counts, trigger, load, fails,
  vethPair, makeCgroup, cgroup2Mount,
} from '../lib/kern.mjs';

const FULL = ['--profile', 'full', '--object-dir', OBJ_DIR];
const TAG = `t${process.pid % 100000}`;       // netns / veth / cgroup names
const OCTET = String(process.pid % 250);
const SLOT = { xdp: 0, tc: 1, sock: 2, egress: 3, tc2: 5 };

before(() => ensureMounts());

test('tracepoint, raw_tracepoint and tp_btf fire once per getppid, and stop when detached', async () => {
  await withServer(FULL, async (s) => {
    const o = await load(s, 'attach_trace');
    const tp = await s.ok('attach_program', { program_id: o.prog.count_tp, type: 'tracepoint', target: 'syscalls/sys_enter_getppid' });
    const raw = await s.ok('attach_program', { program_id: o.prog.count_raw, type: 'raw_tracepoint', target: 'sys_enter' });
    const btf = await s.ok('attach_program', { program_id: o.prog.count_btf, type: 'tp_btf' });
    assert.deepEqual(tp.attached_to, { tracepoint: 'syscalls/sys_enter_getppid' });
    assert.deepEqual(raw.attached_to, { tracepoint: 'sys_enter' });
    assert.deepEqual(btf.attached_to, { tracepoint: 'sys_enter' });
    assert.deepEqual(tp.program, { id: o.prog.count_tp, name: 'count_tp', type: 'tracepoint', handle: o.handle });
    for (const [r, prog] of [[tp, o.prog.count_tp], [raw, o.prog.count_raw], [btf, o.prog.count_btf]]) {
      const w = bpftool(`link show id ${r.link_id}`);
      assert.equal(r.kernel_link, true);
      assert.equal(w.prog_id, prog);
      assert.equal(w.type, r.link_type);
    }
    assert.equal(bpftool(`link show id ${raw.link_id}`).tp_name, 'sys_enter');

    const pid = trigger(['getppid', '7']);
    assert.equal(counts(o.map.tp_counts).get(pid), 7);
    assert.equal(counts(o.map.raw_counts).get(pid), 7);
    assert.equal(counts(o.map.btf_counts).get(pid), 7);

    const d = await s.ok('detach_link', { link_id: tp.link_id });
    assert.equal(d.owned, true);
    assert.equal(d.program_id, o.prog.count_tp);
    assert.equal(d.link_type, 'perf_event');
    assert.equal(d.still_exists, false);
    assert.equal(linkExists(tp.link_id), false, 'bpftool: link gone');
    const pid2 = trigger(['getppid', '4']);
    assert.equal(counts(o.map.tp_counts).has(pid2), false, 'detached: no more counts');
    assert.equal(counts(o.map.raw_counts).get(pid2), 4, 'still attached: counts');
    // a link id that was ours is not any more
    assert.equal((await fails(s, 'detach_link', { link_id: tp.link_id })).code, 'NO_SUCH_LINK');
  });
});

test('uprobe and uretprobe count calls of a symbol; pid limits a uprobe to one process', async () => {
  await withServer(FULL, async (s) => {
    const o = await load(s, 'attach_trace');
    const up = await s.ok('attach_program', { program_id: o.prog.count_uprobe, type: 'uprobe', binary: TRIGGER, symbol: 'attach_trigger_target' });
    const ur = await s.ok('attach_program', { program_id: o.prog.count_uret, type: 'uretprobe', binary: TRIGGER, symbol: 'attach_trigger_target' });
    assert.equal(up.attached_to.binary, TRIGGER);
    assert.equal(up.attached_to.symbol, 'attach_trigger_target');
    assert.equal(bpftool(`link show id ${up.link_id}`).prog_id, o.prog.count_uprobe);
    assert.equal(bpftool(`link show id ${ur.link_id}`).prog_id, o.prog.count_uret);
    const pid = trigger(['func', '5']);
    assert.equal(counts(o.map.uprobe_counts).get(pid), 5);
    assert.equal(counts(o.map.uret_counts).get(pid), 5);
    // a process that never calls the function is not counted
    const quiet = trigger(['getppid', '3']);
    assert.equal(counts(o.map.uprobe_counts).has(quiet), false);
    await s.ok('detach_link', { link_id: up.link_id });
    await s.ok('detach_link', { link_id: ur.link_id });

    // pid: only the waiting process is probed, not a second one running at once
    const child = spawn(TRIGGER, ['wait-func', '4'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const exited = new Promise((res) => child.on('exit', res));
    try {
      const one = await s.ok('attach_program', { program_id: o.prog.count_uprobe, type: 'uprobe', binary: TRIGGER, symbol: 'attach_trigger_target', pid: child.pid });
      assert.equal(one.attached_to.pid, child.pid);
      const other = trigger(['func', '3']);
      child.stdin.end('go\n');
      assert.equal(await exited, 0);
      const c = counts(o.map.uprobe_counts);
      assert.equal(c.get(child.pid), 4);
      assert.equal(c.has(other), false, 'other process not probed');
    } finally {
      child.kill();
    }
  });
});

test('kprobe and fentry: this kernel cannot, and the error says why', async () => {
  await withServer(FULL, async (s) => {
    const o = await load(s, 'attach_trace');
    const kprobes = existsSync('/sys/bus/event_source/devices/kprobe') || existsSync('/sys/kernel/tracing/kprobe_events');
    for (const type of ['kprobe', 'kretprobe']) {
      const r = await s.call('attach_program', { program_id: o.prog.count_kprobe, type, target: 'do_unlinkat' });
      if (kprobes) {
        assert.equal(r.isError, undefined, JSON.stringify(r.structuredContent));
        const f = `/tmp/${TAG}-unlink`;
        writeFileSync(f, 'x');
        unlinkSync(f);
        assert.ok(counts(o.map.kprobe_counts).get(process.pid) >= 1);
        await s.ok('detach_link', { link_id: r.structuredContent.link_id });
        continue;
      }
      const e = r.structuredContent.error;
      assert.equal(e.category, 'kernel');
      assert.equal(e.code, 'ATTACH_UNSUPPORTED');
      assert.match(e.message, /this kernel has no kprobe support/);
      assert.equal(e.context.pointer, '/type');
    }
    assert.deepEqual(linksOf([o.prog.count_kprobe]), [], 'nothing attached');

    // fentry: the kernel refuses to load such a program at all (bpftool too),
    // and attaching as fentry says so instead of blaming the program.
    const obj = path.join(OBJ_DIR, 'attach_fentry.bpf.o');
    const loaded = await s.call('load_program', { path: obj });
    const pinDir = `/sys/fs/bpf/${TAG}_fentry`;
    let bpftoolLoads = true;
    try { sh(`${BPFTOOL} prog loadall ${obj} ${pinDir}`); } catch { bpftoolLoads = false; } finally { sh(`rm -rf ${pinDir}`); }
    assert.equal(!loaded.isError, bpftoolLoads, 'load_program agrees with bpftool');
    if (loaded.isError) {
      assert.equal(loaded.structuredContent.error.code, 'KERNEL_REFUSED');
      assert.equal(loaded.structuredContent.error.category, 'kernel');
      assert.match(loaded.structuredContent.error.message, /'count_fentry' \(tracing, trace_fentry\)/);
      for (const type of ['fentry', 'fexit']) {
        const e = await fails(s, 'attach_program', { program_id: o.prog.count_btf, type });
        assert.equal(e.category, 'kernel');
        assert.equal(e.code, 'ATTACH_UNSUPPORTED');
        assert.match(e.message, /this kernel refuses fentry\/fexit programs: loading a minimal fentry program fails with EPERM/);
        assert.equal(e.context.errno, 1);
      }
    } else {
      const id = loaded.structuredContent.programs[0].id;
      const r = await s.ok('attach_program', { program_id: id, type: 'fentry' });
      assert.deepEqual(r.attached_to, { function: 'do_unlinkat' });
    }
  });
});

test('perf_event: cpu-clock samples at about the asked frequency until detached', async () => {
  await withServer(FULL, async (s) => {
    const o = await load(s, 'attach_trace');
    const r = await s.ok('attach_program', { program_id: o.prog.count_perf, type: 'perf_event', event: 'cpu-clock', cpu: 0, frequency: 1000 });
    assert.deepEqual(r.attached_to, { event: 'cpu-clock', frequency: 1000, cpu: 0 });
    const w = bpftool(`link show id ${r.link_id}`);
    assert.equal(w.type, 'perf_event');
    assert.equal(w.prog_id, o.prog.count_perf);
    const t0 = Date.now();
    await sleep(500);
    const n = counts(o.map.perf_count).get(0), secs = (Date.now() - t0) / 1000;
    assert.ok(n >= 200 * secs && n <= 1500 * secs, `${n} samples in ${secs} s at 1000 Hz`);
    await s.ok('detach_link', { link_id: r.link_id });
    assert.equal(linkExists(r.link_id), false);
    const after = counts(o.map.perf_count).get(0);
    await sleep(200);
    assert.equal(counts(o.map.perf_count).get(0), after, 'no samples after detach');
  });
});

test('xdp native on a veth: one count per packet received', async () => {
  const net = vethPair(TAG, OCTET);
  try {
    await withServer(FULL, async (s) => {
      const o = await load(s, 'attach_net');
      const slot = () => counts(o.map.net_counts).get(SLOT.xdp);
      const r = await s.ok('attach_program', { program_id: o.prog.count_xdp, type: 'xdp', interface: net.a, mode: 'native' });
      assert.deepEqual(r.attached_to, { interface: net.a, ifindex: net.ifindex, mode: 'native' });
      assert.equal(r.link_type, 'xdp');
      const ipw = JSON.parse(sh(`ip -j link show dev ${net.a}`))[0].xdp;
      assert.equal(ipw.mode, 1, 'XDP_ATTACHED_DRV');
      assert.equal(ipw.prog.id, o.prog.count_xdp);
      assert.equal(bpftool(`link show id ${r.link_id}`).prog_id, o.prog.count_xdp);
      assert.deepEqual(bpftool(`net show dev ${net.a}`)[0].xdp, [{ devname: net.a, ifindex: net.ifindex, mode: 'driver', id: o.prog.count_xdp }]);

      // a second program in the same mode is refused, nothing changes
      const busy = await fails(s, 'attach_program', { program_id: o.prog.count_xdp, type: 'xdp', interface: net.a, mode: 'native' });
      assert.equal(busy.code, 'HOOK_BUSY');

      const tx0 = net.txB(), c0 = slot();
      net.send(5);
      const sent = net.txB() - tx0;
      assert.ok(sent >= 5, `${sent} packets sent`);
      assert.equal(slot() - c0, sent, 'one count per packet the peer sent');

      await s.ok('detach_link', { link_id: r.link_id });
      assert.equal(JSON.parse(sh(`ip -j link show dev ${net.a}`))[0].xdp, undefined, 'ip: no xdp');
      const c1 = slot();
      net.send(3);
      assert.equal(slot(), c1, 'no counts after detach');

      // by ifindex, generic mode
      const g = await s.ok('attach_program', { program_id: o.prog.count_xdp, type: 'xdp', interface: net.ifindex, mode: 'generic' });
      assert.deepEqual(g.attached_to, { interface: net.a, ifindex: net.ifindex, mode: 'generic' });
      assert.equal(JSON.parse(sh(`ip -j link show dev ${net.a}`))[0].xdp.mode, 2, 'XDP_ATTACHED_SKB');
    });
    assert.equal(JSON.parse(sh(`ip -j link show dev ${net.a}`))[0].xdp, undefined, 'released at exit');
  } finally {
    net.cleanup();
  }
});

test('tc: tcx ingress and clsact egress count packets; detach removes them', async () => {
  const net = vethPair(TAG, OCTET);
  try {
    await withServer(FULL, async (s) => {
      const o = await load(s, 'attach_net');
      const c = () => counts(o.map.net_counts);
      const ing = await s.ok('attach_program', { program_id: o.prog.count_tc, type: 'tc', interface: net.a, direction: 'ingress' });
      assert.deepEqual(ing.attached_to, { interface: net.a, ifindex: net.ifindex, direction: 'ingress', mode: 'tcx' });
      assert.equal(ing.link_type, 'tcx');
      assert.equal(bpftool(`link show id ${ing.link_id}`).prog_id, o.prog.count_tc);

      const eg = await s.ok('attach_program', { program_id: o.prog.count_tc2, type: 'tc', interface: net.ifindex, direction: 'egress', mode: 'clsact' });
      assert.equal(eg.kernel_link, false);
      assert.ok(eg.link_id >= 2 ** 31, 'session-local id');
      assert.equal(eg.link_type, undefined);
      assert.match(eg.note, /no kernel link/);
      const filt = JSON.parse(sh(`tc -j filter show dev ${net.a} egress`)).filter((f) => f.options?.prog?.id === o.prog.count_tc2);
      assert.equal(filt.length, 1, 'tc: the filter');
      assert.equal(filt[0].pref, eg.attached_to.priority);
      assert.equal(Number(filt[0].options.handle), eg.attached_to.handle);
      assert.equal(filt[0].options['direct-action'], true);

      const rx0 = net.txB(), tx0 = net.txA(), c0 = c();
      net.send(5);
      net.sendFromA(3);
      const rx = net.txB() - rx0, tx = net.txA() - tx0, c1 = c();
      assert.ok(rx >= 5 && tx >= 3, `${rx} in, ${tx} out`);
      assert.equal(c1.get(SLOT.tc) - c0.get(SLOT.tc), rx, 'ingress: one count per packet received');
      assert.equal(c1.get(SLOT.tc2) - c0.get(SLOT.tc2), tx, 'egress: one count per packet sent');

      await s.ok('detach_link', { link_id: ing.link_id });
      assert.equal(linkExists(ing.link_id), false);
      const d = await s.ok('detach_link', { link_id: eg.link_id });
      assert.equal(d.owned, true);
      assert.equal(d.still_exists, false);
      assert.deepEqual(JSON.parse(sh(`tc -j filter show dev ${net.a} egress`)).filter((f) => f.options?.prog), [], 'tc: filter gone');
      const c2 = c();
      net.send(3);
      net.sendFromA(3);
      assert.deepEqual(c(), c2, 'no counts after detach');

      // egress over tcx too, counting what a sends; the server's exit removes it
      const e2 = await s.ok('attach_program', { program_id: o.prog.count_tc2, type: 'tc', interface: net.a, direction: 'egress', mode: 'tcx' });
      assert.equal(bpftool(`link show id ${e2.link_id}`).prog_id, o.prog.count_tc2);
      const tx1 = net.txA();
      net.sendFromA(4);
      const out = net.txA() - tx1;
      assert.ok(out >= 4, `${out} sent`);
      assert.equal(c().get(SLOT.tc2) - c2.get(SLOT.tc2), out, 'egress: one count per packet sent');
      net.e2 = e2.link_id;
    });
    assert.equal(linkExists(net.e2), false, 'released at exit');
  } finally {
    net.cleanup();
  }
});

test('cgroup: sock_create counts sockets made inside the cgroup only', async () => {
  const cg = makeCgroup(`${TAG}_attach`);
  try {
    await withServer(FULL, async (s) => {
      const o = await load(s, 'attach_net');
      const c = () => counts(o.map.net_counts).get(SLOT.sock);
      const r = await s.ok('attach_program', { program_id: o.prog.count_sock, type: 'cgroup', cgroup: cg.dir });
      assert.deepEqual(r.attached_to, { cgroup: cg.dir, attach_type: 'sock_create' });
      const w = bpftool(`link show id ${r.link_id}`);
      assert.equal(w.prog_id, o.prog.count_sock);
      assert.equal(w.attach_type, 'cgroup_inet_sock_create');
      assert.equal(w.cgroup_id, statSync(cg.dir).ino, 'the cgroup asked for');
      assert.deepEqual(bpftool(`cgroup show ${cg.dir}`).map((p) => [p.id, p.attach_type]), [[o.prog.count_sock, 'cgroup_inet_sock_create']]);

      const c0 = c();
      trigger(['socket', '6', path.join(cg.dir, 'cgroup.procs')]);
      assert.equal(c() - c0, 6, 'sockets made in the cgroup');
      trigger(['socket', '3']);
      assert.equal(c() - c0, 6, 'sockets made elsewhere are not seen');

      // relative to the cgroup2 mount; attach type from the program's section
      const e = await s.ok('attach_program', { program_id: o.prog.count_egress, type: 'cgroup', cgroup: cg.name });
      assert.deepEqual(e.attached_to, { cgroup: cg.dir, attach_type: 'egress' });
      await s.ok('detach_link', { link_id: r.link_id });
      const d = await s.ok('detach_link', { link_id: e.link_id });
      assert.equal(d.forced, true, 'cgroup links can be forced off');
      assert.deepEqual(bpftool(`cgroup show ${cg.dir}`), [], 'bpftool: nothing attached');
      trigger(['socket', '2', path.join(cg.dir, 'cgroup.procs')]);
      assert.equal(c() - c0, 6, 'no counts after detach');
    });
  } finally {
    cg.cleanup();
  }
});

test('target fields and program types are checked before the kernel is asked', async () => {
  await withServer(FULL, async (s) => {
    const t = await load(s, 'attach_trace'), n = await load(s, 'attach_net');
    const cases = [
      [{ program_id: t.prog.count_tp, type: 'tracepoint' }, 'MISSING_TARGET', '/target'],
      [{ program_id: t.prog.count_tp, type: 'tracepoint', target: 'sys_enter_getppid' }, 'BAD_TARGET', '/target'],
      [{ program_id: t.prog.count_tp, type: 'tracepoint', target: '../events/x' }, 'BAD_TARGET', '/target'],
      [{ program_id: t.prog.count_tp, type: 'tracepoint', target: 'syscalls/sys_enter_nothing' }, 'NO_SUCH_TRACEPOINT', '/target'],
      [{ program_id: t.prog.count_raw, type: 'raw_tracepoint', target: 'no_such_tracepoint' }, 'NO_SUCH_TRACEPOINT', '/target'],
      [{ program_id: t.prog.count_btf, type: 'tp_btf', target: 'sched_switch' }, 'TARGET_MISMATCH', '/target'],
      [{ program_id: t.prog.count_raw, type: 'tracepoint', target: 'syscalls/sys_enter_getppid' }, 'WRONG_PROGRAM_TYPE', '/type'],
      [{ program_id: t.prog.count_tp, type: 'xdp', interface: 'lo' }, 'WRONG_PROGRAM_TYPE', '/type'],
      [{ program_id: t.prog.count_uprobe, type: 'uprobe', symbol: 'main' }, 'MISSING_TARGET', '/binary'],
      [{ program_id: t.prog.count_uprobe, type: 'uprobe', binary: TRIGGER }, 'MISSING_TARGET', '/symbol'],
      [{ program_id: t.prog.count_uprobe, type: 'uprobe', binary: OBJ_DIR, symbol: 'main' }, 'NOT_REGULAR_FILE', '/binary'],
      [{ program_id: t.prog.count_uprobe, type: 'uprobe', binary: `${OBJ_DIR}/nothing`, symbol: 'main' }, 'NO_SUCH_FILE', '/binary'],
      [{ program_id: t.prog.count_uprobe, type: 'uprobe', binary: TRIGGER, symbol: 'no_such_function' }, 'NO_SUCH_SYMBOL', '/symbol'],
      [{ program_id: n.prog.count_xdp, type: 'xdp' }, 'MISSING_TARGET', '/interface'],
      [{ program_id: n.prog.count_xdp, type: 'xdp', interface: 'nosuchif0' }, 'NO_SUCH_INTERFACE', '/interface'],
      [{ program_id: n.prog.count_xdp, type: 'xdp', interface: 2147483647 }, 'NO_SUCH_INTERFACE', '/interface'],
      [{ program_id: n.prog.count_xdp, type: 'xdp', interface: 'lo', mode: 'tcx' }, 'BAD_MODE', '/mode'],
      [{ program_id: n.prog.count_tc, type: 'tc', interface: 'lo' }, 'MISSING_TARGET', '/direction'],
      [{ program_id: n.prog.count_tc, type: 'tc', interface: 'lo', direction: 'ingress', mode: 'native' }, 'BAD_MODE', '/mode'],
      [{ program_id: n.prog.count_sock, type: 'cgroup' }, 'MISSING_TARGET', '/cgroup'],
      [{ program_id: n.prog.count_sock, type: 'cgroup', cgroup: '/tmp' }, 'NOT_A_CGROUP', '/cgroup'],
      [{ program_id: n.prog.count_connect, type: 'cgroup', cgroup: '/', attach_type: 'sock_create' }, 'WRONG_PROGRAM_TYPE', '/attach_type'],
      [{ program_id: n.prog.count_connect, type: 'cgroup', cgroup: '/', attach_type: 'bind4' }, 'ATTACH_TYPE_MISMATCH', '/attach_type'],
      [{ program_id: n.prog.count_xdp, type: 'cgroup', cgroup: '/' }, 'WRONG_PROGRAM_TYPE', '/type'],
      [{ program_id: t.prog.count_perf, type: 'perf_event', cpu: 0 }, 'MISSING_TARGET', '/event'],
      [{ program_id: t.prog.count_perf, type: 'perf_event', event: 'cpu-clock' }, 'MISSING_TARGET', '/cpu'],
      [{ program_id: t.prog.count_perf, type: 'perf_event', event: 'cpu-clock', cpu: 8191 }, 'NO_SUCH_CPU', '/cpu'],
      [{ program_id: t.prog.count_perf, type: 'perf_event', event: 'cpu-clock', cpu: 0, sample_period: 100 }, 'PERIOD_TOO_SMALL', '/sample_period'],
      [{ program_id: t.prog.count_perf, type: 'perf_event', event: 'cpu-clock', cpu: 0, sample_period: 100000, frequency: 10 }, 'CONFLICTING_TARGET', '/sample_period'],
      [{ program_id: t.prog.count_perf, type: 'perf_event', event: 'page-faults', pid: 4194304 }, 'NO_SUCH_PROCESS', '/pid'],
    ];
    for (const [args, code, pointer] of cases) {
      const e = await fails(s, 'attach_program', args);
      assert.equal(e.code, code, JSON.stringify(args) + ' ' + e.message);
      assert.equal(e.context.pointer, pointer, JSON.stringify(args));
      assert.equal(e.category, 'validation', JSON.stringify(args));
    }
    // a cgroup v2 path named without its mount is looked up under it
    const e = await fails(s, 'attach_program', { program_id: n.prog.count_sock, type: 'cgroup', cgroup: `${TAG}-no-such-cgroup` });
    assert.equal(e.code, 'NO_SUCH_CGROUP');
    assert.match(e.message, new RegExp(`${cgroup2Mount()}/${TAG}-no-such-cgroup`), 'looked up under the cgroup2 mount');
    const ids = [...Object.values(t.prog), ...Object.values(n.prog)];
    assert.deepEqual(linksOf(ids), [], 'no link was left behind by any refusal');
    const inspect = await s.ok('inspect_state', { kinds: ['link'] });
    assert.equal(inspect.owned.links, 0);
  });
});

test('ownership: other programs and links are refused; --allow-foreign forces links off', async () => {
  const pins = `/sys/fs/bpf/${TAG}_foreign`;
  const cg = makeCgroup(`${TAG}_own`);
  try {
    sh(`${BPFTOOL} prog loadall ${path.join(OBJ_DIR, 'attach_net.bpf.o')} ${pins}`);
    const foreign = bpftool(`prog show pinned ${pins}/count_sock`).id;
    await withServer(FULL, async (a) => {
      const e = await fails(a, 'attach_program', { program_id: foreign, type: 'cgroup', cgroup: cg.dir });
      assert.equal(e.category, 'permission');
      assert.equal(e.code, 'NOT_OWNED');
      assert.match(e.message, /load it with load_program/);
      assert.equal(e.context.pointer, '/program_id');
      assert.equal((await fails(a, 'attach_program', { program_id: 4294967295, type: 'xdp' })).code, 'NO_SUCH_PROGRAM');
      assert.equal((await fails(a, 'detach_link', { link_id: 4294967295 })).code, 'NO_SUCH_LINK');

      const o = await load(a, 'attach_net');
      const l = await a.ok('attach_program', { program_id: o.prog.count_sock, type: 'cgroup', cgroup: cg.dir });
      await withServer(FULL, async (b) => {
        const d = await fails(b, 'detach_link', { link_id: l.link_id });
        assert.equal(d.category, 'permission');
        assert.equal(d.code, 'NOT_OWNED');
        assert.match(d.message, /--allow-foreign/);
      });
      assert.equal(bpftool(`cgroup show ${cg.dir}`).length, 1, 'still attached');
      await withServer([...FULL, '--allow-foreign'], async (c) => {
        const d = await c.ok('detach_link', { link_id: l.link_id });
        assert.deepEqual([d.owned, d.forced, d.still_exists, d.program_id], [false, true, true, o.prog.count_sock]);
      });
      assert.deepEqual(bpftool(`cgroup show ${cg.dir}`), [], 'bpftool: forced off its cgroup');
      assert.equal(linkExists(l.link_id), true, 'the owner still holds the (defunct) link');
      const mine = await a.ok('detach_link', { link_id: l.link_id });
      assert.deepEqual([mine.owned, mine.still_exists], [true, false]);
      assert.equal(linkExists(l.link_id), false);
    });
  } finally {
    sh(`rm -rf ${pins}`);
    cg.cleanup();
  }
});

test('links cap: refused at exactly its value, free again after a detach', async () => {
  await withServer([...FULL, '--limit', 'links=2'], async (s) => {
    const o = await load(s, 'attach_trace');
    const attach = () => s.call('attach_program', { program_id: o.prog.count_raw, type: 'raw_tracepoint', target: 'sys_enter' });
    const one = (await attach()).structuredContent, two = (await attach()).structuredContent;
    assert.ok(one.link_id && two.link_id);
    const e = (await attach()).structuredContent.error;
    assert.equal(e.code, 'LIMIT_LINKS');
    assert.equal(e.category, 'resource');
    assert.equal(e.context.limit, 'links');
    assert.equal(e.context.value, 2);
    assert.deepEqual(linksOf([o.prog.count_raw]).map((l) => l.id).sort(), [one.link_id, two.link_id].sort());
    await s.ok('detach_link', { link_id: one.link_id });
    const three = (await attach()).structuredContent;
    assert.ok(three.link_id, JSON.stringify(three));
    assert.equal(linksOf([o.prog.count_raw]).length, 2);
  });
});

test('unload_program detaches the links of its programs', async () => {
  await withServer(FULL, async (s) => {
    const o = await load(s, 'attach_trace');
    const ids = [];
    ids.push((await s.ok('attach_program', { program_id: o.prog.count_tp, type: 'tracepoint', target: 'syscalls/sys_enter_getppid' })).link_id);
    ids.push((await s.ok('attach_program', { program_id: o.prog.count_raw, type: 'raw_tracepoint', target: 'sys_enter' })).link_id);
    ids.push((await s.ok('attach_program', { program_id: o.prog.count_perf, type: 'perf_event', event: 'cpu-clock', cpu: 0, frequency: 10 })).link_id);
    for (const id of ids) assert.equal(linkExists(id), true);
    const u = await s.ok('unload_program', { handle: o.handle });
    const released = u.released.filter((r) => r.kind === 'link').map((r) => r.id).sort();
    assert.deepEqual(released, [...ids].sort());
    for (const id of ids) assert.equal(linkExists(id), false, `bpftool: link ${id} gone`);
    // a raw_tracepoint link puts its program after an RCU grace period
    for (let i = 0; i < 400 && Object.values(o.prog).some(progExists); i++) await sleep(50);
    for (const id of Object.values(o.prog)) assert.equal(progExists(id), false, `bpftool: program ${id} gone`);
    const e = await fails(s, 'detach_link', { link_id: ids[0] });
    assert.equal(e.code, 'NO_SUCH_LINK');
  });
});

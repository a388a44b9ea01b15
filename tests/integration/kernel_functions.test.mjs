// list_kernel_functions against /proc/kallsyms, available_filter_functions
// and `bpftool btf dump` read here, independently of the server.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { withServer, ensureMounts, sh } from '../lib/mcp.mjs';
import { matcher, checkEmpty } from '../lib/search.mjs';

const TRACEFS = '/sys/kernel/tracing';
const AFF = `${TRACEFS}/available_filter_functions`;

before(() => {
  ensureMounts();
  if (!existsSync(`${TRACEFS}/events`)) sh(`mount -t tracefs tracefs ${TRACEFS}`);
});

// Function symbols as the tool defines them: types t, T, W; no padding symbols.
function kallsyms() {
  const out = [];
  for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
    const m = line.match(/^([0-9a-f]+) (\S) (\S+)(?:\t\[(\S+)\])?$/);
    if (!m || !'tTW'.includes(m[2]) || /^__(pfx|cfi)_/.test(m[3])) continue;
    out.push({ name: m[3], addr: BigInt(`0x${m[1]}`), module: m[4] ?? null });
  }
  return out;
}

// The traceable set, or the error that keeps it from being read.
function filterFunctions() {
  try {
    const set = new Set();
    for (const l of readFileSync(AFF, 'utf8').split('\n')) if (l) set.add(l.trim());
    return { set };
  } catch (e) {
    return { error: e };
  }
}
const affKey = (f) => (f.module ? `${f.name} [${f.module}]` : f.name);

let btfFuncs;
function btfFunctions() {
  btfFuncs ??= new Set([...sh('bpftool btf dump file /sys/kernel/btf/vmlinux')
    .matchAll(/^\[\d+\] FUNC '([^']+)'/gm)].map((m) => m[1]));
  return btfFuncs;
}

const asWitness = (f) => ({ name: f.name, module: f.module, address: f.address === undefined ? undefined : BigInt(f.address) });
const fromKallsyms = (k) => ({ name: k.name, module: k.module, address: k.addr === 0n ? undefined : k.addr });

function checkFlags(fns, aff) {
  const btf = btfFunctions();
  for (const f of fns) {
    if (aff.error) assert.equal(f.traceable, null, f.name);
    else assert.equal(f.traceable, aff.set.has(affKey(f)), f.name);
    if (f.module === null) assert.equal(f.btf, btf.has(f.name), f.name);
  }
}

test('vfs_read: address, module, traceable and btf as kallsyms, tracefs and bpftool say', async () => {
  const all = kallsyms();
  const want = all.filter((k) => k.name === 'vfs_read');
  assert.equal(want.length, 1);
  const aff = filterFunctions();
  await withServer([], async (s) => {
    const t0 = performance.now();
    const r = await s.ok('list_kernel_functions', { pattern: 'vfs_read' });
    console.log(`# list_kernel_functions vfs_read: ${(performance.now() - t0).toFixed(1)} ms`);
    // a substring: vfs_readv, vfs_readlink, ... come too
    assert.equal(r.total, all.filter((k) => k.name.includes('vfs_read')).length);
    const f = r.functions.find((x) => x.name === 'vfs_read');
    assert.deepEqual(asWitness(f), fromKallsyms(want[0]));
    assert.equal(f.btf, btfFunctions().has('vfs_read'));
    assert.equal(f.btf, true, 'vmlinux BTF has a FUNC vfs_read');
    if (aff.error) {
      // This kernel refuses the file (EPERM here): the flag is unknown, and a note says why.
      assert.equal(f.traceable, null);
      const why = aff.error.message.split(': ')[1].split(',')[0];   // "operation not permitted"
      assert.ok(r.notes.some((n) => n.includes(AFF) && n.toLowerCase().includes(why)), JSON.stringify(r.notes));
    } else {
      assert.equal(f.traceable, aff.set.has('vfs_read'));
    }
    assert.equal(r.addresses_visible, want[0].addr !== 0n);
  });
});

test('pattern: same functions, order and addresses as kallsyms; flags per function', async () => {
  const all = kallsyms();
  const aff = filterFunctions();
  await withServer([], async (s) => {
    for (const pattern of ['vfs_*', '*_openat*', 'tcp_v?_connect', 'do_sys_open*', 'tcp_v[46]_connect', 'vfs_rea[d]',
      'vfs_[!r]*', 'do_sys_open[a-z]*[0-9]', 'vfs_read', 'sys_openat']) {
      const m = matcher(pattern);
      const want = all.filter((k) => m(k.name));
      assert.ok(want.length > 0, pattern);
      const r = await s.ok('list_kernel_functions', { pattern, limit: 1000 });
      assert.equal(r.total, want.length, pattern);
      assert.deepEqual(r.functions.map(asWitness), want.map(fromKallsyms), pattern);
      checkFlags(r.functions, aff);
    }
    const none = await s.ok('list_kernel_functions', { pattern: 'no_such_function_*' });
    assert.deepEqual([none.total, none.returned, none.functions.length], [0, 0, 0]);
    assert.equal(none.searched.match, 'glob');
  });
});

test('pattern "openat" is a substring: exactly the kallsyms functions that hold it', async () => {
  // module "vmlinux": [bpf] symbols come and go while other tests run
  const core = kallsyms().filter((k) => k.module === null);
  const want = core.filter((k) => k.name.includes('openat'));
  assert.ok(want.some((k) => k.name === 'do_sys_openat2'), 'kallsyms has do_sys_openat2');
  await withServer([], async (s) => {
    const r = await s.ok('list_kernel_functions', { pattern: 'openat', module: 'vmlinux', limit: 1000 });
    assert.equal(r.total, want.length);
    assert.deepEqual(r.functions.map(asWitness), want.map(fromKallsyms));
    assert.equal(r.searched, undefined, 'searched only when nothing matched');
    assert.equal((await s.ok('list_kernel_functions', { pattern: 'OPENAT', module: 'vmlinux' })).total,
      core.filter((k) => k.name.includes('OPENAT')).length, 'case-sensitive');
    // the exact name takes a glob: a class of one character anchors it
    const one = await s.ok('list_kernel_functions', { pattern: 'vfs_rea[d]' });
    assert.deepEqual(one.functions.map((f) => f.name), ['vfs_read']);
  });
});

test('an empty search says what it searched and suggests the closest names', async () => {
  const core = kallsyms().filter((k) => k.module === null);
  const candidates = core.map((k) => ({ key: k.name, shown: k.name }));
  await withServer([], async (s) => {
    const t0 = performance.now();
    const r = await s.ok('list_kernel_functions', { pattern: 'vfs_raed', module: 'vmlinux' });
    const t1 = performance.now();
    await s.ok('list_kernel_functions', { pattern: 'vfs_read', module: 'vmlinux' });
    console.log(`# list_kernel_functions empty (${core.length} ranked) ${(t1 - t0).toFixed(1)} ms, `
      + `matching ${(performance.now() - t1).toFixed(1)} ms (round trips)`);
    checkEmpty(r, {
      what: "substring 'vfs_raed' in function names of the core kernel (vmlinux)", match: 'substring',
      pattern: 'vfs_raed', candidates,
    });
    assert.equal(r.suggestions[0], 'vfs_read');
    assert.deepEqual(r.functions, []);

    const o = await s.ok('list_kernel_functions', { pattern: 'opneat', module: 'vmlinux' });
    checkEmpty(o, { what: "substring 'opneat' in function names of the core kernel (vmlinux)", match: 'substring',
      pattern: 'opneat', candidates });
    assert.ok(o.suggestions.some((n) => n.includes('openat')), JSON.stringify(o.suggestions));

    const g = await s.ok('list_kernel_functions', { pattern: 'tcp_v[46]_conect', module: 'vmlinux' });
    checkEmpty(g, { what: "glob 'tcp_v[46]_conect' in function names of the core kernel (vmlinux)", match: 'glob',
      pattern: 'tcp_v[46]_conect', candidates });
    assert.deepEqual(g.suggestions.slice(0, 2).sort(), ['tcp_v4_connect', 'tcp_v6_connect']);

    // without module: every function symbol is a candidate
    const any = await s.ok('list_kernel_functions', { pattern: 'vfs_raed' });
    assert.ok(Math.abs(any.searched.candidates - kallsyms().length) < 1000, `${any.searched.candidates}`);
    assert.equal(any.suggestions[0], 'vfs_read');

    // no pattern, an unknown module: nothing to rank
    const m = await s.ok('list_kernel_functions', { module: 'no_such_module' });
    assert.deepEqual([m.searched, m.suggestions],
      [{ what: 'functions of module no_such_module', match: 'any', candidates: 0 }, []]);
  });
});

test('paging over the core kernel: offsets cover every match once, in kallsyms order', async () => {
  // module "vmlinux": stable while other tests load BPF programs ([bpf] symbols).
  const core = kallsyms().filter((k) => k.module === null);
  const sched = core.filter((k) => /sched/.test(k.name));
  const aff = filterFunctions();
  await withServer([], async (s) => {
    const t0 = performance.now();
    const first = await s.ok('list_kernel_functions', { module: 'vmlinux', limit: 1000 });
    console.log(`# list_kernel_functions vmlinux, 1000 of ${first.total}: ${(performance.now() - t0).toFixed(1)} ms`);
    assert.equal(first.total, core.length);
    assert.deepEqual(first.functions.map(asWitness), core.slice(0, 1000).map(fromKallsyms));
    checkFlags(first.functions, aff);
    assert.ok(first.functions.some((f) => f.btf) && first.functions.some((f) => !f.btf), 'both btf values occur');
    const last = await s.ok('list_kernel_functions', { module: 'vmlinux', offset: core.length - 7, limit: 10 });
    assert.deepEqual([last.returned, last.truncated], [7, false]);
    assert.deepEqual(last.functions.map(asWitness), core.slice(-7).map(fromKallsyms));

    const got = [];
    for (let offset = 0; ; offset += 150) {
      const r = await s.ok('list_kernel_functions', { pattern: '*sched*', module: 'vmlinux', offset, limit: 150 });
      assert.equal(r.total, sched.length);
      assert.equal(r.truncated, offset + r.returned < r.total);
      got.push(...r.functions);
      if (!r.truncated) break;
    }
    assert.deepEqual(got.map(asWitness), sched.map(fromKallsyms));
    const past = await s.ok('list_kernel_functions', { pattern: '*sched*', module: 'vmlinux', offset: sched.length });
    assert.deepEqual([past.returned, past.truncated, past.total], [0, false, sched.length]);
  });
});

test('module symbols carry their module; the module filter selects them exactly', async () => {
  const all = kallsyms();
  const mods = [...new Set(all.filter((k) => k.module).map((k) => k.module))];
  assert.ok(mods.length > 0, 'kallsyms has module-tagged functions (e.g. [__builtin__ftrace])');
  await withServer([], async (s) => {
    for (const module of mods.filter((m) => m !== 'bpf')) {   // [bpf] changes while other tests run
      const want = all.filter((k) => k.module === module);
      const r = await s.ok('list_kernel_functions', { module, limit: 1000 });
      assert.equal(r.total, want.length, module);
      assert.deepEqual(r.functions.map(asWitness), want.slice(0, 1000).map(fromKallsyms), module);
      for (const f of r.functions) {
        const hasBtf = existsSync(`/sys/kernel/btf/${module}`);
        if (!hasBtf) assert.equal(f.btf, false, `${module} has no BTF, so ${f.name} is not fentry-able`);
      }
    }
    const none = await s.ok('list_kernel_functions', { module: 'no_such_module' });
    assert.equal(none.total, 0);
  });
});

test('no tracefs: traceable is null and a note says tracefs is not mounted', async () => {
  const unmount = `for t in tracefs debugfs; do
    awk -v t=$t '$3 == t { print $2 }' /proc/self/mounts | sort -ru | while read -r m; do umount -l "$m"; done
  done`;
  const wrap = ['unshare', '-m', '--propagation', 'private', 'sh', '-euc', `${unmount}\nexec "$@"`, 'sh'];
  await withServer([], async (s) => {
    const r = await s.ok('list_kernel_functions', { pattern: 'vfs_rea[d]' });
    assert.equal(r.functions[0].name, 'vfs_read');
    assert.equal(r.functions[0].traceable, null);
    assert.equal(r.functions[0].btf, true);
    assert.ok(r.notes.some((n) => /tracefs is not mounted/.test(n)), JSON.stringify(r.notes));
  }, { wrap });
});

test('limits: schema refuses limit over 1000 at /limit; list_items lowered is enforced', async () => {
  await withServer([], async (s) => {
    for (const [args, pointer] of [[{ limit: 1001 }, '/limit'], [{ offset: -1 }, '/offset'], [{ pattern: '' }, '/pattern'],
      [{ traceable_only: true }, '/traceable_only']]) {
      const r = await s.call('list_kernel_functions', args);
      assert.equal(r.isError, true, JSON.stringify(args));
      assert.equal(r.structuredContent.error.code, 'SCHEMA');
      assert.equal(r.structuredContent.error.context.pointer, pointer);
    }
  });
  await withServer(['--limit', 'list_items=5'], async (s) => {
    const r = await s.call('list_kernel_functions', { limit: 6 });
    assert.equal(r.structuredContent.error.code, 'LIMIT_LIST_ITEMS');
    assert.equal((await s.ok('list_kernel_functions', { limit: 5 })).returned, 5);
  });
  // vmlinux BTF does not fit a small heap cap: a clean resource error.
  await withServer(['--limit', 'heap_bytes=4M'], async (s) => {
    const r = await s.call('list_kernel_functions', { pattern: 'vfs_read' });
    assert.equal(r.isError, true);
    assert.deepEqual([r.structuredContent.error.category, r.structuredContent.error.code], ['resource', 'LIMIT_HEAP_BYTES']);
    assert.deepEqual([r.structuredContent.error.context.limit, r.structuredContent.error.context.value], ['heap_bytes', 4 << 20]);
    assert.match(r.structuredContent.error.message, /heap_bytes/);
  });
  // A scan cap below kallsyms' size is reported, not silently cut.
  await withServer(['--limit', 'scan_items=1000'], async (s) => {
    const r = await s.call('list_kernel_functions', { pattern: 'vfs_read' });
    assert.equal(r.isError, true);
    assert.equal(r.structuredContent.error.code, 'LIMIT_SCAN_ITEMS');
  });
});

// list_tracepoints against the tracefs tree itself: directory listings, id
// files and format files read here, parsed independently of the server.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, mkdtempSync, rmdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withServer, ensureMounts, sh } from '../lib/mcp.mjs';
import { matcher, checkEmpty } from '../lib/search.mjs';

const TRACEFS = '/sys/kernel/tracing';
const EVENTS = `${TRACEFS}/events`;

before(() => {
  ensureMounts();
  // ensureMounts counts a tracefs anywhere (e.g. under debugfs); the witness
  // reads this path.
  if (!existsSync(`${EVENTS}/syscalls`)) sh(`mount -t tracefs tracefs ${TRACEFS}`);
  assert.ok(existsSync(`${EVENTS}/syscalls`), `tracefs must be mounted at ${TRACEFS}`);
});

const dirs = (p) => readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
const byteSort = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

// Every tracepoint as "category/name", sorted the way the tool promises.
function witnessAll() {
  const out = [];
  for (const c of dirs(EVENTS)) for (const n of dirs(`${EVENTS}/${c}`)) out.push({ category: c, name: n });
  return out.sort((a, b) => byteSort(a.category, b.category) || byteSort(a.name, b.name));
}

// The tracepoints a pattern selects, per tests/lib/search.mjs: with a '/'
// it is matched against "category/name", else against the name.
function witnessMatches(all, pattern) {
  const m = matcher(pattern);
  return all.filter((t) => m(pattern.includes('/') ? `${t.category}/${t.name}` : t.name));
}

// The format file, parsed here with regular expressions.
function witnessFields(category, name) {
  const text = readFileSync(`${EVENTS}/${category}/${name}/format`, 'utf8');
  const fields = [];
  for (const m of text.matchAll(/^\s*field:([^;]*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/gm)) {
    const d = m[1].trim().match(/^(.*?)\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?$/);
    assert.ok(d, `unparsable declaration ${m[1]}`);
    fields.push({
      name: d[2], type: d[1] + (d[3] ?? ''), offset: Number(m[2]), size: Number(m[3]),
      signed: m[4] === '1', common: d[2].startsWith('common_'),
    });
  }
  return fields;
}

// null where tracefs has no id file (the ftrace/* internal events).
const witnessId = (c, n) => {
  const p = `${EVENTS}/${c}/${n}/id`;
  return existsSync(p) ? Number(readFileSync(p, 'utf8').trim()) : null;
};

async function allPages(s, args, limit) {
  const got = [];
  let total;
  for (let offset = 0; ; offset += limit) {
    const r = await s.ok('list_tracepoints', { ...args, limit, offset });
    total ??= r.total;
    assert.equal(r.total, total, 'total is the same on every page');
    assert.equal(r.offset, offset);
    assert.equal(r.returned, r.tracepoints.length);
    assert.equal(r.truncated, offset + r.returned < r.total);
    got.push(...r.tracepoints);
    if (!r.truncated) break;
  }
  return { got, total };
}

test('category syscalls: every directory, sorted, with its id file', async () => {
  const want = dirs(`${EVENTS}/syscalls`).sort(byteSort);
  assert.ok(want.length > 100);
  await withServer([], async (s) => {
    const t0 = performance.now();
    const r = await s.ok('list_tracepoints', { category: 'syscalls', limit: 1000 });
    console.log(`# list_tracepoints syscalls (${r.total}): ${(performance.now() - t0).toFixed(1)} ms`);
    assert.ok([TRACEFS, '/sys/kernel/debug/tracing'].includes(r.tracefs), r.tracefs);
    assert.equal(r.total, want.length);
    assert.equal(r.categories, 1);
    assert.deepEqual(r.tracepoints.map((t) => t.name), want);
    for (const t of r.tracepoints) {
      assert.equal(t.category, 'syscalls');
      assert.equal(t.id, witnessId('syscalls', t.name), t.name);
      assert.equal(t.fields, undefined, 'fields only on request');
    }
  });
});

test('sys_enter_openat format matches the format file field by field', async () => {
  // a substring: sys_enter_openat2 comes too
  const names = dirs(`${EVENTS}/syscalls`).filter((n) => n.includes('sys_enter_openat')).sort(byteSort);
  await withServer([], async (s) => {
    const r = await s.ok('list_tracepoints', { category: 'syscalls', pattern: 'sys_enter_openat', include_format: true });
    assert.deepEqual(r.tracepoints.map((t) => t.name), names);
    const tp = r.tracepoints.find((t) => t.name === 'sys_enter_openat');
    assert.equal(tp.id, witnessId('syscalls', 'sys_enter_openat'));
    const want = witnessFields('syscalls', 'sys_enter_openat');
    assert.deepEqual(tp.fields, want);
    // Spot-check the parse itself, not just agreement: the known layout.
    assert.deepEqual(tp.fields.find((f) => f.name === 'filename'), want.find((f) => f.name === 'filename'));
    assert.ok(want.some((f) => f.name === 'common_pid' && f.common && f.type === 'int' && f.signed));
    assert.ok(want.some((f) => f.name === 'filename' && !f.common && f.type === 'const char *'));
  });
});

test('every tracepoint: paging covers the whole tree once, formats all parse as tracefs says', async () => {
  const want = witnessAll();
  await withServer([], async (s) => {
    const t0 = performance.now();
    const r = await s.ok('list_tracepoints', { limit: 1000, include_format: false });
    console.log(`# list_tracepoints all (${r.total}), first page of 1000: ${(performance.now() - t0).toFixed(1)} ms`);
    const { got, total } = await allPages(s, {}, 1000);
    assert.equal(total, want.length);
    assert.deepEqual(got.map((t) => `${t.category}/${t.name}`), want.map((t) => `${t.category}/${t.name}`));
    assert.equal(new Set(got.map((t) => `${t.category}/${t.name}`)).size, got.length, 'no overlap');
    // Formats of every tracepoint (pages of 100 keep each reply small enough
    // for the --validate-output reparse).
    const t1 = performance.now();
    const withFmt = await allPages(s, { include_format: true }, 100);
    console.log(`# list_tracepoints all with formats, 100 per page: ${(performance.now() - t1).toFixed(1)} ms total`);
    assert.equal(withFmt.got.length, want.length);
    for (const tp of withFmt.got) {
      assert.deepEqual(tp.fields, witnessFields(tp.category, tp.name), `${tp.category}/${tp.name}`);
      assert.equal(tp.id, witnessId(tp.category, tp.name));
    }
    assert.ok(withFmt.got.filter((t) => t.id === null).every((t) => t.category === 'ftrace'), 'only ftrace/* lack ids');
    // Arrays and dynamic strings are among them and kept their shapes.
    const all = withFmt.got.flatMap((t) => t.fields);
    assert.ok(all.some((f) => /\[\d+\]$/.test(f.type)), 'a fixed array field');
    assert.ok(all.some((f) => f.type.startsWith('__data_loc ')), 'a __data_loc field');
  });
});

test('pattern: a glob matches the whole name, with / the whole category/name', async () => {
  const all = witnessAll();
  await withServer([], async (s) => {
    for (const pattern of ['sys_enter_open*', '*kill*', 'sched/*', '*/*_exit', 's?s*/sys_exit_read']) {
      const want = witnessMatches(all, pattern);
      const r = await s.ok('list_tracepoints', { pattern, limit: 1000 });
      assert.ok(want.length > 0, `witness has matches for ${pattern}`);
      assert.equal(r.total, want.length, pattern);
      assert.deepEqual(r.tracepoints.map((t) => [t.category, t.name]), want.map((t) => [t.category, t.name]), pattern);
      assert.equal(r.searched, undefined, 'searched only when nothing matched');
      assert.equal(r.suggestions, undefined);
    }
    const none = await s.ok('list_tracepoints', { pattern: 'no_such_tracepoint_*' });
    assert.equal(none.total, 0);
    assert.deepEqual(none.tracepoints, []);
    assert.equal(none.categories, 0);
  });
});

test('pattern "openat" is a substring: exactly the tracepoints whose names hold it', async () => {
  const want = witnessAll().filter((t) => t.name.includes('openat'));
  for (const n of ['sys_enter_openat', 'sys_exit_openat', 'sys_enter_openat2', 'sys_exit_openat2'])
    assert.ok(want.some((t) => t.name === n), `tracefs has ${n}`);
  await withServer([], async (s) => {
    const r = await s.ok('list_tracepoints', { pattern: 'openat', limit: 1000 });
    assert.equal(r.total, want.length);
    assert.deepEqual(r.tracepoints.map((t) => `${t.category}/${t.name}`), want.map((t) => `${t.category}/${t.name}`));
    assert.equal(r.searched, undefined);
    // case-sensitive, and a substring matches inside a name, not only at its start
    assert.equal((await s.ok('list_tracepoints', { pattern: 'OPENAT' })).total, 0);
    const mid = await s.ok('list_tracepoints', { pattern: 'enter_open', limit: 1000 });
    assert.deepEqual(mid.tracepoints.map((t) => t.name), witnessAll().filter((t) => t.name.includes('enter_open')).map((t) => t.name));
  });
});

test('substring and glob with / against category/name; bracket classes as tracefs lists them', async () => {
  const all = witnessAll();
  await withServer([], async (s) => {
    for (const pattern of ['sched/sched_sw', 'syscalls/sys_exit_re', 'sys_enter_open[a]t*', 'sys_e[m-o]ter_open*',
      'sys_e[!n]*_openat', 'sys_e[^x]*_openat2', 'sched/sched_[a-m]*', '*[0-9]', '[]s]ched/*']) {
      const want = witnessMatches(all, pattern);
      assert.ok(want.length > 0, `witness has matches for ${pattern}`);
      const r = await s.ok('list_tracepoints', { pattern, limit: 1000 });
      assert.deepEqual(r.tracepoints.map((t) => [t.category, t.name]), want.map((t) => [t.category, t.name]), pattern);
      assert.equal(r.total, want.length, pattern);
    }
    const cls = await s.ok('list_tracepoints', { pattern: 'sys_enter_open[a]t*', limit: 1000 });
    assert.deepEqual(cls.tracepoints.map((t) => t.name).sort(byteSort),
      all.filter((t) => /^sys_enter_openat/.test(t.name)).map((t) => t.name).sort(byteSort));
    // an unterminated '[' is a literal: no tracepoint name holds one
    const lit = await s.ok('list_tracepoints', { pattern: 'sys_enter_open[at' });
    assert.equal(lit.total, 0);
    assert.equal(lit.searched.match, 'glob');
  });
});

test('an empty search says what it searched and suggests the closest names', async () => {
  const all = witnessAll();
  const full = (t) => `${t.category}/${t.name}`;
  await withServer([], async (s) => {
    const t0 = performance.now();
    const r = await s.ok('list_tracepoints', { pattern: 'opneat' });
    const t1 = performance.now();
    await s.ok('list_tracepoints', { pattern: 'openat' });
    console.log(`# list_tracepoints empty (${all.length} ranked) ${(t1 - t0).toFixed(1)} ms, `
      + `matching ${(performance.now() - t1).toFixed(1)} ms (round trips)`);
    checkEmpty(r, {
      what: "substring 'opneat' in tracepoint names", match: 'substring', pattern: 'opneat',
      candidates: all.map((t) => ({ key: t.name, shown: full(t) })),
    });
    assert.ok(r.suggestions.includes('syscalls/sys_enter_openat'), JSON.stringify(r.suggestions));
    assert.ok(r.suggestions.filter((n) => n.includes('openat')).length >= 2, JSON.stringify(r.suggestions));
    assert.deepEqual(r.tracepoints, []);

    // a glob, within one category: the candidates are that category's
    const sc = all.filter((t) => t.category === 'syscalls');
    const g = await s.ok('list_tracepoints', { category: 'syscalls', pattern: 'sys_enter_opnat*' });
    checkEmpty(g, {
      what: "glob 'sys_enter_opnat*' in tracepoint names in category syscalls", match: 'glob', pattern: 'sys_enter_opnat*',
      candidates: sc.map((t) => ({ key: t.name, shown: full(t) })),
    });
    assert.ok(g.suggestions[0].startsWith('syscalls/sys_enter_openat'), JSON.stringify(g.suggestions));

    // with '/': ranked against category/name
    const f = await s.ok('list_tracepoints', { pattern: 'shced/sched_switch' });
    checkEmpty(f, {
      what: "substring 'shced/sched_switch' in category/name of tracepoints", match: 'substring',
      pattern: 'shced/sched_switch', candidates: all.map((t) => ({ key: full(t), shown: full(t) })),
    });
    assert.equal(f.suggestions[0], 'sched/sched_switch');

    // nothing close: searched, and no suggestions
    const far = await s.ok('list_tracepoints', { pattern: 'zzzzqqqqxxxx' });
    assert.deepEqual(far.suggestions, []);
    assert.equal(far.searched.candidates, all.length);
  });
});

test('category_counts equals the directories per category', async () => {
  const all = witnessAll();
  await withServer([], async (s) => {
    const r = await s.ok('list_tracepoints', { limit: 1, categories: true });
    const want = dirs(EVENTS).sort(byteSort)
      .map((c) => ({ category: c, count: all.filter((t) => t.category === c).length }))
      .filter((c) => c.count > 0);
    assert.deepEqual(r.category_counts, want);
    assert.equal(r.categories, want.length);
    assert.equal(r.total, all.length);
    const one = await s.ok('list_tracepoints', { pattern: 'sched_*', category: 'sched', categories: true, limit: 1 });
    assert.deepEqual(one.category_counts, [{ category: 'sched', count: one.total }]);
  });
});

test('offset past the end, bad category, limits refused by the schema', async () => {
  const n = dirs(`${EVENTS}/sched`).length;
  await withServer([], async (s) => {
    const past = await s.ok('list_tracepoints', { category: 'sched', offset: n + 5 });
    assert.deepEqual([past.total, past.returned, past.truncated, past.tracepoints.length], [n, 0, false, 0]);

    for (const category of ['no_such_category', '..', 'sched/sched_switch']) {
      const bad = await s.call('list_tracepoints', { category });
      assert.equal(bad.isError, true, category);
      const e = bad.structuredContent.error;
      assert.equal(e.category, 'validation');
      assert.equal(e.code, 'UNKNOWN_CATEGORY');
      assert.equal(e.context.pointer, '/category');
      assert.match(e.message, /categories/);
    }
    for (const [args, pointer] of [[{ limit: 1001 }, '/limit'], [{ limit: 0 }, '/limit'], [{ offset: -1 }, '/offset'],
      [{ include_format: 'yes' }, '/include_format'], [{ bogus: 1 }, '/bogus']]) {
      const r = await s.call('list_tracepoints', args);
      assert.equal(r.isError, true, JSON.stringify(args));
      assert.equal(r.structuredContent.error.code, 'SCHEMA');
      assert.equal(r.structuredContent.error.context.pointer, pointer);
    }
  });
  // list_items lowered on the command line: the handler enforces it too.
  await withServer(['--limit', 'list_items=10'], async (s) => {
    const r = await s.call('list_tracepoints', { limit: 11 });
    assert.equal(r.isError, true);
    assert.equal(r.structuredContent.error.code, 'LIMIT_LIST_ITEMS');
    assert.equal((await s.ok('list_tracepoints', { limit: 10 })).returned, 10);
  });
  // A walk longer than scan_items is refused, not cut short.
  await withServer(['--limit', 'scan_items=1000'], async (s) => {
    const r = await s.call('list_tracepoints', {});
    assert.equal(r.structuredContent.error.code, 'LIMIT_SCAN_ITEMS');
    assert.ok((await s.ok('list_tracepoints', { category: 'sched' })).total > 0, 'one category fits');
  });
});

// Other mount layouts, each in a private mount namespace so the host's mounts
// (and tests running beside this one) are untouched.
// UNMOUNT drops every tracefs and debugfs mount (stacked ones too) there.
const UNMOUNT = `for t in tracefs debugfs; do
  awk -v t=$t '$3 == t { print $2 }' /proc/self/mounts | sort -ru | while read -r m; do umount -l "$m"; done
done`;
const inNamespace = (script) => ({
  wrap: ['unshare', '-m', '--propagation', 'private', 'sh', '-euc', `${UNMOUNT}\n${script}\nexec "$@"`, 'sh'],
});

test('tracefs reached through debugfs (/sys/kernel/debug/tracing)', async () => {
  const want = dirs(`${EVENTS}/sched`).sort(byteSort);
  await withServer([], async (s) => {
    const r = await s.ok('list_tracepoints', { category: 'sched', include_format: true, pattern: 'sched_switch' });
    assert.equal(r.tracefs, '/sys/kernel/debug/tracing');
    assert.deepEqual(r.tracepoints[0].fields, witnessFields('sched', 'sched_switch'));
    const all = await s.ok('list_tracepoints', { category: 'sched', limit: 1000 });
    assert.deepEqual(all.tracepoints.map((t) => t.name), want);
  }, inNamespace('mount -t debugfs debugfs /sys/kernel/debug; ls /sys/kernel/debug/tracing/events >/dev/null'));
});

test('tracefs mounted somewhere else is found through the mount table', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tracefs-'));
  try {
    await withServer([], async (s) => {
      const r = await s.ok('list_tracepoints', { category: 'syscalls', pattern: 'sys_enter_openat', include_format: true });
      assert.equal(r.tracefs, dir);
      assert.deepEqual(r.tracepoints[0].fields, witnessFields('syscalls', 'sys_enter_openat'));
    }, inNamespace(`mount -t tracefs tracefs ${dir}`));
  } finally {
    rmdirSync(dir);
  }
});

test('no tracefs anywhere: kernel TRACEFS_NOT_MOUNTED naming the mount command', async () => {
  await withServer([], async (s) => {
    const r = await s.call('list_tracepoints', {});
    assert.equal(r.isError, true);
    const e = r.structuredContent.error;
    assert.equal(e.category, 'kernel');
    assert.equal(e.code, 'TRACEFS_NOT_MOUNTED');
    assert.equal(e.recoverable, true);
    assert.match(e.message, /mount -t tracefs tracefs \/sys\/kernel\/tracing/);
  }, inNamespace(':'));
});

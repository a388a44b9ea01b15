// The command line for people: `ebpf-mcp tools` and `ebpf-mcp call`, on the
// same path as MCP clients. Witnesses: the MCP server's own tools/list and
// results over stdio, bpftool for what a call leaves in the kernel, and the
// documented exit statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BIN, BUILD, ensureMounts, withServer } from '../lib/mcp.mjs';
import { sleep } from '../lib/kern.mjs';

ensureMounts();

function cli(...args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000 });
  return { rc: r.status, out: r.stdout, err: r.stderr };
}

test('tools lists what tools/list lists, in each profile', async () => {
  for (const profile of ['readonly', 'observe', 'full']) {
    const r = cli('tools', '--profile', profile);
    assert.equal(r.rc, 0, r.err);
    const viaCli = JSON.parse(r.out).tools.map((t) => t.name);
    await withServer(['--profile', profile], async (s) => {
      const viaMcp = (await s.request('tools/list', {})).result.tools.map((t) => t.name);
      assert.deepEqual(viaCli, viaMcp);
    });
    const table = cli('tools', '--profile', profile, '--format', 'table');
    assert.equal(table.rc, 0);
    assert.deepEqual(table.out.trim().split('\n').map((l) => l.split(/\s+/)[0]), viaCli);
  }
});

test('call prints structuredContent; key=value and JSON arguments agree', async () => {
  const a = cli('call', 'get_btf_types', 'name=task_struct', 'detail=false');
  const b = cli('call', 'get_btf_types', '{"name":"task_struct","detail":false}');
  assert.equal(a.rc, 0, a.err);
  assert.deepEqual(JSON.parse(a.out), JSON.parse(b.out));
  await withServer([], async (s) => {
    const r = await s.call('get_btf_types', { name: 'task_struct', detail: false });
    assert.deepEqual(JSON.parse(a.out), r.structuredContent);
  });
  const t = cli('call', 'get_btf_types', 'name=task_struct', 'detail=false', '--format', 'table');
  assert.equal(t.rc, 0);
  assert.match(t.out, /^types:$/m);
  assert.match(t.out, /task_struct/);
  // a string that looks like nothing else stays a string
  const k = cli('call', 'list_tracepoints', 'category=syscalls', 'pattern=sys_enter_getppid');
  assert.equal(k.rc, 0, k.err);
  assert.ok(JSON.parse(k.out).tracepoints.some((tp) => tp.name === 'sys_enter_getppid'));
});

test('a tracer runs to its duration through the CLI and leaves nothing behind', async () => {
  // programs of this tracer (tests run one file at a time; the names are the skeleton's)
  const mine = () => JSON.parse(spawnSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }).stdout)
    .filter((p) => (p.name || '').startsWith('syscall_stats')).length;
  const before = mine();
  const r = cli('call', 'syscall_stats', 'duration_ms=300', 'comm=no-such-comm');
  assert.equal(r.rc, 0, r.err);
  const out = JSON.parse(r.out);
  assert.equal(out.stopped_by, 'duration');
  assert.equal(out.calls, 0);
  assert.ok(out.duration_ms >= 300);
  // the kernel frees a closed program after an RCU grace period, which a
  // loaded machine stretches: poll up to 20 s
  for (let i = 0; i < 200 && mine() !== before; i++) await sleep(100);
  assert.equal(mine(), before);
});

test('exit statuses tell usage, tool and kernel errors apart', () => {
  const usage = [cli('call'), cli('call', 'no_such_tool'), cli('call', 'info', 'not-a-pair'),
    cli('call', 'info', '{"broken'), cli('tools', 'extra'), cli('tools', '--format', 'yaml'),
    cli('call', 'info', '--profile', 'nope')];
  for (const r of usage) {
    assert.equal(r.rc, 2, r.err);
    assert.ok(r.err.length > 0 && r.out === '');
  }
  const tool = cli('call', 'get_btf_types', 'limit=abc');
  assert.equal(tool.rc, 3);
  assert.match(tool.err, /validation\/\w+: .*limit/);
  const perm = cli('call', 'load_program', '--profile', 'full', 'path=/nonexistent.o');
  assert.equal(perm.rc, 3);
  assert.match(perm.err, /permission\/PATH_NOT_ALLOWED/);
  const objs = path.join(BUILD, 'bpf');
  const kernel = cli('call', 'load_program', '--profile', 'full', '--object-dir', objs,
    `path=${path.join(objs, 'load_reject.bpf.o')}`);
  assert.equal(kernel.rc, 4, kernel.err);
  assert.match(kernel.err, /kernel\/VERIFIER_REJECTED/);
  const notListed = cli('call', 'load_program', 'path=/x.o');   // observe: not on offer
  assert.equal(notListed.rc, 2);
});

test('--help documents the commands and exit statuses', () => {
  const r = cli('--help');
  assert.equal(r.rc, 0);
  for (const s of ['ebpf-mcp tools', 'ebpf-mcp call TOOL', '--format table', 'Exit status'])
    assert.ok(r.out.includes(s), s);
});

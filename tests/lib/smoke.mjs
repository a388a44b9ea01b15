// The smoke suite: the few checks that show a server works end to end on the
// kernel it runs on. The same checks run wherever the binary goes: on this
// host over stdio, in an empty root (chroot), in a qemu guest over its port,
// over ssh. Each check names itself, so a failure says which one and where.
//
//   const done = await smoke(server, { release, pid });
//
// server: an initialized Server (tests/lib/mcp.mjs); release: the kernel
// release the server must report; pid: the server's pid as the kernel it runs
// on sees it (the witness for the tracer check). Returns the names of the
// checks passed, in order; throws on the first failure.
import assert from 'node:assert/strict';

export const SMOKE_CHECKS = ['tools/list', 'info', 'list_bpf_program_types', 'get_btf_types',
  'list_tracepoints', 'trace_open'];

const MUST_LIST = ['info', 'get_btf_types', 'list_tracepoints', 'trace_open', 'syscall_stats'];

// The open the tracer must see: info reads this file on every call.
const WITNESS_PATH = '/proc/sys/kernel/bpf_stats_enabled';

async function toolsList(s) {
  const r = await s.request('tools/list', {});
  assert.ok(!r.error, `tools/list: ${JSON.stringify(r.error)}`);
  const names = r.result.tools.map((t) => t.name);
  for (const n of MUST_LIST) assert.ok(names.includes(n), `tools/list lacks ${n}`);
  for (const t of r.result.tools) {
    assert.equal(t.inputSchema?.type, 'object', `${t.name} has an inputSchema`);
    assert.equal(t.outputSchema?.type, 'object', `${t.name} has an outputSchema`);
  }
}

async function info(s, env) {
  const r = await s.ok('info');
  assert.equal(r.kernel.release, env.release, 'info reports the kernel it runs on');
  assert.equal(r.kernel.machine, 'x86_64');
  assert.equal(r.btf.vmlinux, true, 'vmlinux BTF is found');
  assert.ok(r.btf.vmlinux_bytes > 1e6, `vmlinux BTF size ${r.btf.vmlinux_bytes}`);
  assert.equal(r.filesystems.tracefs.mounted, true, 'tracefs is mounted');
  assert.equal(r.server.pid, env.pid, 'info reports the pid the kernel gave the server');
}

async function progTypes(s) {
  const r = await s.ok('list_bpf_program_types');
  const byName = new Map(r.types.map((t) => [t.name, t]));
  for (const n of ['kprobe', 'tracepoint', 'raw_tracepoint', 'perf_event'])
    assert.equal(byName.get(n)?.supported, true, `program type ${n} is supported (probed)`);
}

async function btfTypes(s) {
  const r = await s.ok('get_btf_types', { name: 'task_struct' });
  const t = r.types.find((x) => x.name === 'task_struct' && x.kind === 'struct');
  assert.ok(t, 'struct task_struct is in vmlinux BTF');
  const pid = t.members.find((m) => m.name === 'pid');
  assert.ok(pid && pid.size === 4, 'task_struct.pid is a 4-byte member');
}

async function tracepoints(s) {
  const r = await s.ok('list_tracepoints', { category: 'syscalls', pattern: 'sys_enter_openat' });
  assert.ok(JSON.stringify(r).includes('sys_enter_openat'), 'syscalls:sys_enter_openat is listed');
}

// trace_open runs as a job; once its first progress notification arrives the
// programs are attached, and an info call made then opens WITNESS_PATH in the
// server's own process. The tracer must report that open, by that pid.
async function traceOpen(s, env) {
  const token = `smoke-${Date.now()}`;
  const pending = s.request('tools/call', {
    name: 'trace_open', arguments: { pid: env.pid, duration_ms: env.traceMs ?? 1500 },
    _meta: { progressToken: token },
  }, { timeoutMs: 120000 });
  const deadline = Date.now() + 60000;
  while (!s.notifications.some((n) => n.method === 'notifications/progress' &&
      n.params?.progressToken === token)) {
    assert.ok(Date.now() < deadline, 'trace_open sent no progress within 60 s');
    await new Promise((res) => setTimeout(res, 20));
  }
  await s.ok('info');
  const { result: r, error } = await pending;
  assert.ok(!error, `trace_open: ${JSON.stringify(error)}`);
  assert.ok(!r.isError, `trace_open: ${JSON.stringify(r.structuredContent)}`);
  const ev = r.structuredContent.events.filter((e) => e.path === WITNESS_PATH);
  assert.ok(ev.length >= 1, `trace_open saw the server open ${WITNESS_PATH}: ` +
    JSON.stringify(r.structuredContent.events.slice(0, 5)));
  for (const e of ev) assert.equal(e.pid, env.pid);
}

const RUN = {
  'tools/list': toolsList, info, list_bpf_program_types: progTypes, get_btf_types: btfTypes,
  list_tracepoints: tracepoints, trace_open: traceOpen,
};

export async function smoke(s, env) {
  const done = [];
  for (const name of SMOKE_CHECKS) {
    try {
      await RUN[name](s, env);
    } catch (e) {
      e.message = `smoke check ${name}: ${e.message}`;
      throw e;
    }
    done.push(name);
  }
  return done;
}

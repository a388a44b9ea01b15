// --config FILE in the seed design's YAML shape: the seed file an operator
// pastes, the README's version of it, the design's full production file key
// by key, and the refusals. Witnesses: the limits `info` reports, tools/list,
// the audit log on disk, the policy verdict of load_program (checked before
// the kernel sees anything), the profile a daemon gives each peer it knows by
// SO_PEERCRED, and the exit status and stderr of a refused start-up. No HTTP
// server is started: server.bind_address is checked for what --http's own
// setter accepts and refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, BUILD, ROOT, ensureMounts, withServer } from '../lib/mcp.mjs';
import { Daemon, auditLines, connectOnce, publicDir, script } from '../lib/daemon.mjs';

ensureMounts();

// The seed as the task gives it (the shape operators paste).
const SEED = `server:
  bind_address: "127.0.0.1:8080"
  max_concurrent_requests: 100
  request_timeout: "30s"
security:
  audit_log: "/var/log/ebpf-mcp/audit.log"
  bytecode_validation:
    max_instructions: 4096
    blocked_helpers:
      - "bpf_probe_write_user"
      - "bpf_override_return"
  access_control:
    permitted_users: ["ebpf-user", "monitoring"]
    permitted_groups: ["ebpf", "admin"]
resources:
  max_programs: 10
  max_maps: 50
  max_memory_mb: 64
  max_events_per_second: 10000
tools:
  map_dump:
    max_entries: 1000
  trace:
    max_duration: "60s"
    max_events: 10000
  deploy:
    enabled: true
    allowed_types: ["kprobe", "tracepoint"]
`;

// Users and groups that resolve on any host (numbers need no /etc entry;
// the daemon tests below use 41051..41054, like serve.test.mjs's 41001..).
const USERS = '["root", "41051"]', GROUPS = '["root", "41052"]';

// The seed with this host's paths and names: the audit log in dir.
const seedIn = (dir, text = SEED) => text
  .replace('/var/log/ebpf-mcp/audit.log', path.join(dir, 'audit.log'))
  .replace('["ebpf-user", "monitoring"]', USERS)
  .replace('["ebpf", "admin"]', GROUPS);

function tmp() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-yaml-'));
  return { dir, file: (name, text) => { const p = path.join(dir, name); writeFileSync(p, text); return p; },
    cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// `ebpf-mcp call info` with args; { rc, out, err }.
function run(...args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000 });
  return { rc: r.status, out: r.stdout, err: r.stderr };
}

const names = async (s) => (await s.request('tools/list', {})).result.tools.map((t) => t.name);
const OBJ = (n) => path.join(BUILD, 'bpf', `${n}.bpf.o`);

test('the seed file sets the limits info reports, the audit log and the bytecode policy', async () => {
  const t = tmp();
  try {
    const conf = t.file('production.yaml', seedIn(t.dir));
    await withServer(['--config', conf], async (s) => {
      const info = await s.ok('info');
      const want = {
        http_requests: 100, call_ms: 30000, prog_insns: 4096, programs: 10, maps: 50,
        map_memory_bytes: 64 * 1024 * 1024, events_per_second: 10000, map_entries: 1000, trace_ms: 60000,
        stream_events: 10000,
      };
      for (const [k, v] of Object.entries(want)) assert.equal(info.limits[k], v, k);
      assert.equal(info.server.profile, 'observe', 'the YAML has no profile: the default stands');
      assert.ok((await names(s)).includes('stream_events'));
    });
    const lines = auditLines(path.join(t.dir, 'audit.log'));
    assert.ok(lines.some((l) => l.event === 'tool_call' && l.tool === 'info'), 'security.audit_log is the audit log');
    // allowed_types names kprobe and tracepoint only: socket_filter, a default
    // type, is refused; the tracepoint program passes, and the report says so
    await withServer(['--config', conf, '--profile', 'full', '--object-dir', path.join(BUILD, 'bpf')], async (s) => {
      const e = (await s.call('load_program', { path: OBJ('load_basic') })).structuredContent.error;
      assert.equal(e.code, 'PROG_TYPE_NOT_ALLOWED');
      assert.deepEqual([e.context.program, e.context.type], ['lb_sock', 'socket_filter']);
      const r = await s.ok('load_program', { path: OBJ('load_basic'), programs: ['lb_tp'], verify_only: true });
      assert.deepEqual(r.policy.allowed_types, ['kprobe', 'tracepoint']);
      assert.equal(r.policy.insn_cap, 4096);
      for (const h of ['bpf_probe_write_user', 'bpf_override_return'])
        assert.ok(r.policy.blocked.some((b) => b.name === h), h);
    });
  } finally {
    t.cleanup();
  }
});

test('each key moves its own limit; blocked_helpers takes names with or without bpf_', async () => {
  const t = tmp();
  try {
    const conf = t.file('moved.yml', [
      'server:',
      '  max_concurrent_requests: 37',
      '  request_timeout: 1500ms        # a plain duration',
      'security:',
      '  bytecode_validation:',
      '    max_instructions: 5000',
      '    blocked_helpers: [ktime_get_ns]',
      'resources:',
      '  max_programs: 3',
      '  max_maps: 4',
      '  max_memory_mb: 5',
      '  max_events_per_second: 2000',
      'tools:',
      '  map_dump:',
      '    max_entries: 77',
      '  trace:',
      '    max_duration: 2             # seconds',
      '    max_events: 55',
      '',
    ].join('\n'));
    await withServer(['--config', conf, '--profile', 'full', '--object-dir', path.join(BUILD, 'bpf')], async (s) => {
      const l = (await s.ok('info')).limits;
      assert.deepEqual([l.http_requests, l.call_ms, l.prog_insns, l.programs, l.maps, l.map_memory_bytes,
        l.events_per_second, l.map_entries, l.trace_ms, l.stream_events],
      [37, 1500, 5000, 3, 4, 5 * 1024 * 1024, 2000, 77, 2000, 55]);
      // lb_tp reaches bpf_ktime_get_ns through lb_bump
      const e = (await s.call('load_program', { path: OBJ('load_basic'), programs: ['lb_tp'], verify_only: true }))
        .structuredContent.error;
      assert.equal(e.code, 'HELPER_BLOCKED');
      assert.equal(e.context.helper, 'bpf_ktime_get_ns');
    });
    // options after --config override it; before it, it overrides them
    await withServer(['--limit', 'maps=9', '--config', conf, '--limit', 'programs=8'], async (s) => {
      const l = (await s.ok('info')).limits;
      assert.deepEqual([l.maps, l.programs], [4, 8]);
    });
  } finally {
    t.cleanup();
  }
});

test('tools.trace.max_duration caps duration_ms of stream_events and the tracers (trace_ms)', async () => {
  const t = tmp();
  try {
    const conf = t.file('trace.yaml', 'tools:\n  trace:\n    max_duration: "1s"\n');
    await withServer(['--config', conf], async (s) => {
      assert.equal((await s.ok('info')).limits.trace_ms, 1000);
      // checked before the map is looked for: no map needed
      const over = (await s.call('stream_events', { map_id: 4294967295, duration_ms: 1001 })).structuredContent.error;
      assert.deepEqual([over.code, over.context.limit, over.context.value], ['LIMIT_TRACE_MS', 'trace_ms', 1000]);
      assert.match(over.message, /duration_ms 1001 is over the trace_ms cap/);
      const at = (await s.call('stream_events', { map_id: 4294967295, duration_ms: 1000 })).structuredContent.error;
      assert.notEqual(at.code, 'LIMIT_TRACE_MS', 'at the cap: on to the map, which does not exist');
      const tracer = (await s.call('syscall_stats', { duration_ms: 1500 })).structuredContent.error;
      assert.equal(tracer.code, 'LIMIT_TRACE_MS');
      // without duration_ms a tracer's default (5000) is lowered to the cap
      const r = await s.ok('syscall_stats', { comm: 'no-such-comm' });
      assert.equal(r.stopped_by, 'duration');
      assert.ok(r.duration_ms >= 1000 && r.duration_ms < 2500, `ran ${r.duration_ms} ms`);
    });
  } finally {
    t.cleanup();
  }
});

test('tools.deploy.enabled: false takes load_program, attach_program and pin_object off tools/list', async () => {
  const t = tmp();
  try {
    const off = t.file('off.yaml', 'tools:\n  deploy:\n    enabled: false\n');
    const on = t.file('on.yaml', 'tools:\n  deploy:\n    enabled: true\n');
    const DEPLOY = ['load_program', 'attach_program', 'pin_object'];
    await withServer(['--config', off, '--profile', 'full'], async (s) => {
      const listed = await names(s);
      for (const n of DEPLOY) assert.ok(!listed.includes(n), n);
      for (const n of ['unload_program', 'detach_link', 'unpin_object', 'map_update', 'inspect_state'])
        assert.ok(listed.includes(n), `${n} stays: it removes or writes data, it deploys no code`);
      const r = await s.request('tools/call', { name: 'load_program', arguments: { path: OBJ('load_basic') } });
      assert.equal(r.error?.code, -32602, 'refused when called anyway');
    });
    await withServer(['--config', on, '--profile', 'full'], async (s) => {
      const listed = await names(s);
      for (const n of DEPLOY) assert.ok(listed.includes(n), n);
    });
  } finally {
    t.cleanup();
  }
});

test('permitted_users and permitted_groups admit peers of the daemon with the final --profile', async () => {
  const pub = publicDir('yaml');
  let d;
  try {
    const conf = path.join(pub.dir, 'access.yaml');
    writeFileSync(conf, 'security:\n  access_control:\n    permitted_users: ["41051"]\n    permitted_groups: [41052]\n');
    const info = [{ jsonrpc: '2.0', id: 'i', method: 'tools/call', params: { name: 'info', arguments: {} } }];
    const callerOf = (ids) => {
      const r = connectOnce(d.socket, ids, { bin: pub.bin, input: script(info) });
      const line = r.lines.find((l) => l.id === 'i');
      return { status: r.status, caller: line?.result?.structuredContent?.server?.caller, refused: r.lines[0]?.error };
    };
    // the socket open to all: the rules decide who is served
    const serve = ['--socket-mode', '0666', '--config', conf, '--profile', 'full'];
    d = await Daemon.start(serve, { pub });
    assert.equal(callerOf({ uid: 41051 }).caller.profile, 'full', 'a permitted user gets --profile, given after --config');
    assert.equal(callerOf({ uid: 41053, groups: [41052] }).caller.profile, 'full', 'a member of a permitted group');
    const stranger = callerOf({ uid: 41054 });
    assert.notEqual(stranger.status, 0);
    assert.equal(stranger.caller, undefined, 'no rule for 41054: refused');
    await d.stop();
    // access_control.profile names the profile instead
    writeFileSync(conf, 'security:\n  access_control:\n    permitted_users: ["41051"]\n    profile: readonly\n');
    d = await Daemon.start(serve, { pub });
    assert.equal(callerOf({ uid: 41051 }).caller.profile, 'readonly');
  } finally {
    await d?.kill();
    pub.cleanup();
  }
});

// The design's full production file (seed 002), key by key: each key we do
// not honour stops start-up at its line and column with the reason; with it
// taken out the next one does, until what is left loads.
const PRODUCTION = `server:
  bind_address: "127.0.0.1:8080"
  max_concurrent_requests: 100
  request_timeout: "30s"
  tls:
    enabled: true
    cert_file: "/etc/ebpf-mcp/server.crt"
    key_file: "/etc/ebpf-mcp/server.key"

security:
  enable_sandboxing: true
  enable_audit: true
  audit_log: "/var/log/ebpf-mcp/audit.log"
  
  bytecode_validation:
    max_instructions: 4096
    allowed_opcodes:
      - "BPF_ALU"
      - "BPF_LD"
      - "BPF_ST"
      - "BPF_JMP"
    blocked_symbols:
      - "kallsyms_lookup_name"
      - "kernel_text_address"
    blocked_helpers:
      - "bpf_probe_write_user"
      - "bpf_override_return"

  access_control:
    permitted_users: ["ebpf-user", "monitoring"]
    permitted_groups: ["ebpf", "admin"]
    required_capabilities: ["CAP_BPF", "CAP_PERFMON"]

resources:
  max_programs: 10
  max_maps: 50
  max_memory_mb: 64
  max_cpu_time_ms: 1000
  cleanup_interval: "5m"
  max_events_per_second: 10000

ebpf:
  enable_btf: true
  enable_core: true
  program_timeout: "30s"
  map_cleanup_interval: "10m"

observability:
  metrics:
    enabled: true
    prometheus_endpoint: ":9090/metrics"
    collection_interval: "15s"
  
  logging:
    level: "info"
    format: "json"
    file: "/var/log/ebpf-mcp/server.log"
  
  health:
    endpoint: "/health"
    check_interval: "30s"

tools:
  map_dump:
    enabled: true
    max_entries: 1000
    timeout: "10s"
  
  trace:
    enabled: true
    max_duration: "60s"
    max_events: 10000
  
  deploy:
    enabled: false  # Disabled by default in production
    allowed_types: ["xdp", "tc"]
`;

// The line (1-based) of the first line matching re, and its indentation.
function locate(text, re) {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `${re} is in the file`);
  return { line: i + 1, col: lines[i].search(/\S/) + 1, lines, i };
}

// text without the key at `at` and the lines indented under it.
function without(text, at) {
  const { lines, i } = at;
  const ind = lines[i].search(/\S/);
  let j = i + 1;
  while (j < lines.length && (lines[j].trim() === '' || lines[j].search(/\S/) > ind)) j++;
  return [...lines.slice(0, i), ...lines.slice(j)].join('\n');
}

test('the full production file: each key we do not honour is refused at FILE:LINE:COL with why', () => {
  const t = tmp();
  try {
    const refused = [
      [/^  tls:/, 'server.tls', 'TLS is terminated in front of ebpf-mcp: see docs/deploy'],
      [/^  enable_audit:/, 'security.enable_audit', 'audit_log turns the audit log on'],
      [/^    allowed_opcodes:/, 'security.bytecode_validation.allowed_opcodes',
        'the verifier and the helper policy decide; opcode lists are not enforced'],
      [/^    blocked_symbols:/, 'security.bytecode_validation.blocked_symbols', 'the verifier and the helper policy decide'],
      [/^    required_capabilities:/, 'security.access_control.required_capabilities', 'capabilities are checked'],
      [/^  max_cpu_time_ms:/, 'resources.max_cpu_time_ms', 'BPF programs run to completion'],
      [/^  cleanup_interval:/, 'resources.cleanup_interval', 'leases: --limit lease_ms'],
      [/^ebpf:/, 'ebpf', 'BTF and CO-RE are used whenever the kernel has them'],
      [/^observability:/, 'observability', 'metrics are on /metrics of --http'],
      [/^    enabled: true/, 'tools.map_dump.enabled', 'tools are chosen by the profile, --allow-tools and --deny-tools'],
      [/^    timeout:/, 'tools.map_dump.timeout', 'server.request_timeout bounds every call'],
      [/^    enabled: true/, 'tools.trace.enabled', 'tools are chosen by the profile'],
    ];
    let text = seedIn(t.dir, PRODUCTION);
    for (const [re, key, why] of refused) {
      const conf = t.file('production.yaml', text);
      const at = locate(text, re);
      const r = run('call', 'info', '--config', conf);
      assert.equal(r.rc, 2, `${key}: start-up refused`);
      assert.equal(r.out, '', 'nothing on stdout');
      assert.ok(r.err.includes(`${conf}:${at.line}:${at.col}: key '${key}' is not supported: ${why}`),
        `${key} at ${at.line}:${at.col}: ${r.err}`);
      text = without(text, at);
    }
    // "tc" is libbpf's sched_cls
    let conf = t.file('production.yaml', text);
    const tc = locate(text, /allowed_types/);
    let r = run('call', 'info', '--config', conf);
    assert.equal(r.rc, 2);
    assert.ok(r.err.includes(`${conf}:${tc.line}:${tc.lines[tc.i].indexOf('"tc"') + 1}: tools.deploy.allowed_types: `
      + '--only-prog-type needs a program type libbpf names (e.g. tracepoint, kprobe, xdp, sched_cls for tc'), r.err);
    conf = t.file('production.yaml', text.replace('"tc"', '"sched_cls"'));
    r = run('tools', '--config', conf, '--profile', 'full');
    assert.equal(r.rc, 0, r.err);
    const listed = JSON.parse(r.out).tools.map((x) => x.name);
    assert.ok(!listed.includes('load_program') && listed.includes('unload_program'), 'deploy.enabled: false');
  } finally {
    t.cleanup();
  }
});

test('unknown keys, wrong value types and YAML outside the subset stop start-up with FILE:LINE:COL', () => {
  const t = tmp();
  try {
    const cases = [
      ['server:\n  bind_address: "nope"\n', '2:17: server.bind_address: --http takes ADDR:PORT'],
      ['server:\n  bind_address: "127.0.0.1:8080"\n  port: 9\n', "3:3: key 'server.port' is not supported: unknown key"],
      ['resources:\n  max_programs: ten\n', '2:17: resources.max_programs: expects an integer (decimal digits, no leading 0), not \'ten\''],
      ['resources:\n  max_programs: [10]\n', '2:17: resources.max_programs: expects an integer, not a list'],
      ['resources:\n  max_programs: 2000\n', '2:17: resources.max_programs: limit programs=2000 is out of range [1, 1024]'],
      ['server:\n  request_timeout: 2h\n', '2:20: server.request_timeout: limit call_ms=7200000 is out of range [100, 600000]'],
      ['security:\n  bytecode_validation:\n    blocked_helpers: bpf_x\n',
        "3:22: security.bytecode_validation.blocked_helpers: expects a list ([a, b], or '- a' lines), not a single value"],
      ['tools:\n  deploy:\n    enabled: no\n', "3:14: tools.deploy.enabled: expects true or false (unquoted), not 'no'"],
      ['defaults: &d\n  max_programs: 1\n', '1:11: anchors (&) are not supported'],
      ['server:\n  request_timeout: |\n    30s\n', '2:20: block scalars (| and >) are not supported'],
      ['resources:\n  max_maps: 1\n  max_maps: 2\n', "3:3: duplicate key 'max_maps' (first at line 2)"],
      ['resources:\n\tmax_maps: 1\n', '2:1: a tab in indentation'],
      ['resources:\n  max_maps: 1\n---\nresources: {}\n', "3:1: a second document ('---')"],
    ];
    for (const [text, where] of cases) {
      const conf = t.file('bad.yaml', text);
      const r = run('call', 'info', '--config', conf);
      assert.equal(r.rc, 2, where);
      assert.ok(r.err.includes(`${conf}:${where}`), `want ${where}, got ${r.err}`);
    }
    // bind_address passes --http's check (no server is started on stdio)
    const ok = run('call', 'info', '--config', t.file('ok.yaml', 'server:\n  bind_address: "[::1]:8080"\n'));
    assert.equal(ok.rc, 0, ok.err);
  } finally {
    t.cleanup();
  }
});

test('the README\'s configuration file loads as shown', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Configuration file'));
  const m = section.match(/```yaml\n([\s\S]*?)```/);
  assert.ok(m, 'a yaml block under "### Configuration file"');
  assert.ok(m[1].includes('max_concurrent_requests') && m[1].includes('allowed_types'), 'the seed\'s shape');
  const t = tmp();
  try {
    // its audit log's directory is the one thing a host must make
    const conf = t.file('ebpf-mcp.yaml', m[1].replace('/var/log/ebpf-mcp/audit.log', path.join(t.dir, 'audit.log')));
    const r = run('call', 'info', '--config', conf);
    assert.equal(r.rc, 0, r.err);
    assert.equal(JSON.parse(r.out).limits.prog_insns, 4096);
  } finally {
    t.cleanup();
  }
});

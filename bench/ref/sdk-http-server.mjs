// The reference for bench/http.mjs: an MCP server on the official
// TypeScript SDK (the one pinned in tests/package.json) serving Streamable
// HTTP on /mcp with StreamableHTTPServerTransport, the way the SDK's own
// examples do (examples/server/jsonResponseStreamableHttp.js and
// simpleStatelessStreamableHttp.js), with one tool, `info`.
//
//   node bench/ref/sdk-http-server.mjs [--stateless] [--port N]
//
// Stateful (default): an initialize without Mcp-Session-Id makes a McpServer
// and a transport (sessionIdGenerator randomUUID, enableJsonResponse) kept
// in a Map by session id until DELETE; later requests find their transport
// by the header. This is the counterpart of ebpf-mcp's 2025-11-25 era.
// Stateless (--stateless): every POST gets a fresh McpServer and transport
// (sessionIdGenerator undefined), closed when the response is: the SDK
// refuses to reuse a stateless transport, so this is its only stateless
// shape. The counterpart of ebpf-mcp's 2026-07-28 era (the v1 SDK does not
// speak 2026-07-28; its clients send 2025-11-25 and no session id).
//
// Choices that favour the reference (so a ratio it loses is not an
// artefact of a handicap): plain node:http instead of the examples' express
// app and express.json() (the body is read and JSON.parse'd here, then
// passed as parsedBody); enableJsonResponse (one JSON body, not an SSE
// stream: what ebpf-mcp sends when nothing comes before the reply); the
// tool declares no outputSchema, so the SDK does not validate its result
// (ebpf-mcp validates only with --validate-output, which the bench does not
// pass). The server keeps idle keep-alive connections open (keepAliveTimeout
// 0, as ebpf-mcp keeps them for http_idle_ms) so the idle-session RSS test
// can hold them.
//
// The `info` tool does the same work as ebpf-mcp's info (src/tools/info.c),
// synchronously as that one does on its worker: it reads /proc/self/status,
// calls uname (os.release/version/machine/hostname), stats
// /sys/kernel/btf/vmlinux and lists /sys/kernel/btf, reads /proc/self/mounts
// and /proc/filesystems once for each of 5 filesystems, the effective
// capability set (CapEff), /sys/kernel/security/lockdown and 5 BPF sysctls,
// and answers the same shape (server, kernel, btf, filesystems,
// capabilities, security, limits, memory: ~7 KiB of JSON) as a text block
// and as structuredContent, like ebpf-mcp. It has the same title and
// description, so tools/list lists one tool of about the same size (ebpf-mcp
// lists its outputSchema too, ~4 KiB more, with --allow-tools info).
//
// Prints `sdk-http-server: serving MCP over HTTP on http://127.0.0.1:PORT/mcp`
// on stderr once listening.
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { McpServer } from '../../tests/node_modules/@modelcontextprotocol/sdk/dist/esm/server/mcp.js';
import { StreamableHTTPServerTransport } from '../../tests/node_modules/@modelcontextprotocol/sdk/dist/esm/server/streamableHttp.js';
import { isInitializeRequest } from '../../tests/node_modules/@modelcontextprotocol/sdk/dist/esm/types.js';

const argv = process.argv.slice(2);
const STATELESS = argv.includes('--stateless');
const PORT = argv.includes('--port') ? Number(argv[argv.indexOf('--port') + 1]) : 0;
const STARTED = Date.now();

const DESCRIPTION = 'What this host offers for eBPF, read from the running kernel: release and architecture, vmlinux BTF, '
  + 'whether sysfs/proc/tracefs/debugfs/bpffs are mounted (or mountable) and the command that mounts each one missing, '
  + 'effective capabilities, lockdown, unprivileged BPF, JIT and BPF stats settings; and this server\'s version, '
  + 'protocol, profile, limits and memory use. Call it first.';

const CAPS = ['chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module',
  'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time',
  'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog',
  'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf', 'checkpoint_restore'];

const FILESYSTEMS = [
  ['sysfs', 'sysfs', 'vmlinux BTF (get_btf_types, CO-RE tracers), the CPU list, the mount points below', 'mount -t sysfs sysfs /sys'],
  ['proc', 'proc', 'kallsyms (list_kernel_functions, stack symbols), process maps, the sysctls here', 'mount -t proc proc /proc'],
  ['tracefs', 'tracefs', 'tracepoints (list_tracepoints, trace_open, trace_tcp, attach by name)', 'mount -t tracefs tracefs /sys/kernel/tracing'],
  ['debugfs', 'debugfs', 'tracefs under /sys/kernel/debug/tracing (older setups)', 'mount -t debugfs debugfs /sys/kernel/debug'],
  ['bpffs', 'bpf', 'pins (pin_object, the pins inspect_state lists)', 'mount -t bpf bpf /sys/fs/bpf'],
];

// The limits ebpf-mcp reports (names and its defaults: same size of output).
const LIMITS = {
  request_bytes: 1048576, json_tokens: 32768, json_depth: 64, response_bytes: 4194304, scratch_bytes: 4194304,
  heap_bytes: 134217728, list_items: 1000, scan_items: 2000000, string_bytes: 4096, call_ms: 30000, pin_walk_depth: 8,
  log_line_bytes: 1024, tools_page: 100, programs: 64, maps: 64, links: 64, map_memory_bytes: 268435456,
  verifier_log_bytes: 65536, object_bytes: 16777216, prog_insns: 131072, map_entries: 1000, audit_arg_bytes: 1024,
  jobs: 4, stream_events: 100000, events_per_second: 1000000, programs_total: 256, maps_total: 256, links_total: 256,
  map_memory_bytes_total: 1073741824, sessions: 64, workers: 4, lease_ms: 300000, watches: 16, http_connections: 1024,
  http_requests: 256, http_request_ms: 10000, http_idle_ms: 60000, http_session_idle_ms: 600000,
};

const read = (p) => { try { return readFileSync(p, 'utf8'); } catch { return null; } };
const readInt = (p) => { const s = read(p); return s === null ? null : Number.parseInt(s, 10); };
const statusKiB = (status, key) => {
  const m = status && new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : null;
};

let requests = 0, toolCalls = 0, sessions = 0;

function info(sessionId) {
  const status = read('/proc/self/status');
  const server = {
    name: 'sdk-http-server', version: '1.0.0', mode: 'daemon', protocol_version: '2025-11-25', profile: 'observe',
    tools: ['info'], pid: process.pid, uptime_ms: Date.now() - STARTED, session: sessionId, sessions,
    workers: 0, requests, tool_calls: toolCalls, errors: 0,
    caller: { auth: 'none', uid: null, gid: null, pid: null, user: 'anonymous', profile: 'observe', allow_foreign: false },
  };
  const kernel = { release: os.release(), version: os.version(), machine: os.machine(), hostname: os.hostname() };
  let vmlinux = null;
  try { vmlinux = statSync('/sys/kernel/btf/vmlinux'); } catch { /* absent */ }
  let mods = 0;
  try { mods = readdirSync('/sys/kernel/btf').filter((n) => n !== 'vmlinux').length; } catch { /* absent */ }
  const btf = { vmlinux: !!vmlinux, vmlinux_bytes: vmlinux ? vmlinux.size : 0, modules_with_btf: mods, hint: vmlinux ? null : 'no vmlinux BTF' };
  const filesystems = {};
  for (const [key, type, needed, fix] of FILESYSTEMS) {
    const mount = (read('/proc/self/mounts') ?? '').split('\n').map((l) => l.split(' ')).find((f) => f[2] === type);
    const supported = (read('/proc/filesystems') ?? '').split('\n').some((l) => l.split('\t')[1] === type);
    filesystems[key] = { mounted: !!mount, path: mount ? mount[1] : null, supported, needed_for: needed, fix: mount ? null : fix };
  }
  const eff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(status ?? 'CapEff: 0')?.[1] ?? '0'}`);
  const has = (b) => ((eff >> BigInt(b)) & 1n) === 1n;
  const admin = has(21);
  const capabilities = {
    effective: CAPS.filter((_, b) => has(b)), bpf: admin || has(39), perfmon: admin || has(38), sys_admin: admin,
    net_admin: has(12),
    missing: [...(!admin && !has(39) ? ['bpf'] : []), ...(!admin && !has(38) ? ['perfmon'] : []), ...(!has(12) ? ['net_admin'] : [])],
  };
  const lockdown = /\[(\w+)\]/.exec(read('/sys/kernel/security/lockdown') ?? '')?.[1] ?? null;
  const security = {
    lockdown,
    unprivileged_bpf_disabled: readInt('/proc/sys/kernel/unprivileged_bpf_disabled'),
    jit_enable: readInt('/proc/sys/net/core/bpf_jit_enable'),
    jit_harden: readInt('/proc/sys/net/core/bpf_jit_harden'),
    jit_kallsyms: readInt('/proc/sys/net/core/bpf_jit_kallsyms'),
    bpf_stats_enabled: readInt('/proc/sys/kernel/bpf_stats_enabled'),
  };
  const mu = process.memoryUsage();
  const memory = {
    heap_cap_bytes: 0, heap_mapped_bytes: mu.heapTotal, heap_peak_bytes: mu.heapUsed, heap_refusals: 0,
    rss_bytes: statusKiB(status, 'VmRSS'), rss_peak_bytes: statusKiB(status, 'VmHWM'),
  };
  return { server, kernel, btf, filesystems, capabilities, security, limits: LIMITS, memory };
}

function makeServer() {
  const server = new McpServer({ name: 'sdk-http-server', version: '1.0.0' });
  server.registerTool('info', {
    title: 'Host and server facts',
    description: DESCRIPTION,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, async (extra) => {   // no inputSchema: the callback gets only extra
    toolCalls++;
    const sc = info(extra.sessionId ?? null);
    return { content: [{ type: 'text', text: JSON.stringify(sc) }], structuredContent: sc };
  });
  return server;
}

const transports = new Map();   // stateful: session id -> transport

function jsonError(res, status, code, message) {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

async function statefulPost(req, res, body) {
  const sid = req.headers['mcp-session-id'];
  if (sid) {
    const t = transports.get(sid);
    if (!t) return jsonError(res, 404, -32001, 'Session not found');
    return t.handleRequest(req, res, body);
  }
  if (!isInitializeRequest(body)) return jsonError(res, 400, -32000, 'Bad Request: No valid session ID provided');
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: true,
    onsessioninitialized: (id) => { transports.set(id, transport); sessions++; },
  });
  transport.onclose = () => {
    if (transport.sessionId && transports.delete(transport.sessionId)) sessions--;
  };
  const server = makeServer();
  await server.connect(transport);
  return transport.handleRequest(req, res, body);
}

async function statelessPost(req, res, body) {
  const server = makeServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => { transport.close(); server.close(); });
  await server.connect(transport);
  return transport.handleRequest(req, res, body);
}

async function handle(req, res) {
  requests++;
  if (req.url !== '/mcp') return jsonError(res, 404, -32000, 'Not found');
  if (req.method === 'POST') {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return jsonError(res, 400, -32700, 'Parse error');
    }
    return STATELESS ? statelessPost(req, res, body) : statefulPost(req, res, body);
  }
  if (STATELESS) return jsonError(res, 405, -32000, 'Method not allowed');
  const t = transports.get(req.headers['mcp-session-id']);
  if (!t) return jsonError(res, 404, -32001, 'Session not found');
  return t.handleRequest(req, res);   // GET stream, DELETE
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    console.error('sdk-http-server:', e);
    if (!res.headersSent) jsonError(res, 500, -32603, 'Internal server error');
  });
});
httpServer.keepAliveTimeout = 0;   // idle keep-alive connections stay (the RSS test holds 1000)
httpServer.headersTimeout = 0;
httpServer.requestTimeout = 0;
httpServer.maxHeadersCount = 64;
httpServer.listen(PORT, '127.0.0.1', () => {
  console.error(`sdk-http-server: serving MCP over HTTP on http://127.0.0.1:${httpServer.address().port}/mcp (${STATELESS ? 'stateless' : 'stateful'})`);
});
process.on('SIGTERM', () => process.exit(0));

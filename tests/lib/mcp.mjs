// Test helpers: run bin/ebpf-mcp as a child and talk MCP to it over stdio.
// Every server started here runs with --validate-output, so a result that
// does not match its outputSchema fails the call (-32603) in every test.
import { spawn, execSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const BIN = process.env.EBPF_MCP_BIN || path.join(ROOT, 'bin/ebpf-mcp');
export const BUILD = process.env.EBPF_MCP_BUILD || path.join(ROOT, 'build');

export class Server {
  // wrap: a command prefix the server is exec'd under (e.g. unshare for a
  // private mount namespace); the binary and its arguments follow it.
  // transport: talk to a server that is already running elsewhere (a qemu
  // guest's port, an ssh session) instead: { input, output, exited, end }
  // with input writable, output readable, exited a promise of { code, sig }.
  // bin: another build of the server (the fault-injection one) instead of BIN.
  constructor(args = [], { validate = true, wrap = [], transport, bin = BIN } = {}) {
    const argv = validate ? ['--validate-output', ...args] : args;
    if (transport) {
      this.proc = { stdin: transport.input, stdout: transport.output, end: transport.end };
      this.exited = transport.exited;
    } else {
      const [cmd, ...pre] = [...wrap, bin];
      this.proc = spawn(cmd, [...pre, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
      this.exited = new Promise((res) => this.proc.on('exit', (code, sig) => res({ code, sig })));
    }
    this.pending = new Map();
    this.lines = [];          // every stdout line, parsed
    this.notifications = [];
    this.stderr = '';
    this.nextId = 1;
    let buf = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.onLine(line);
      }
    });
    this.proc.stderr?.on('data', (d) => { this.stderr += d; });
    this.waiters = [];
    this.exitStatus = null;
    this.exited.then((e) => { this.exitStatus = e; });
  }

  died() {
    const e = this.exitStatus;
    if (!e) return '';
    return e.sig === 'SIGSYS' ? ' (the server was killed by its sandbox: SIGSYS; the kernel log names the call)'
      : ` (the server exited: ${JSON.stringify(e)})`;
  }

  onLine(line) {
    const msg = JSON.parse(line);   // a non-JSON stdout line throws: a test failure
    this.lines.push(msg);
    if (msg.id === undefined) this.notifications.push(msg);
    const key = JSON.stringify(msg.id);
    if (this.pending.has(key)) {
      this.pending.get(key)(msg);
      this.pending.delete(key);
    }
    for (const w of this.waiters.splice(0)) w();
  }

  // Next stdout message after `count` already seen (for id-less replies).
  async nextLine(timeoutMs = 10000) {
    const seen = this.lines.length;
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === seen) {
      if (Date.now() > deadline) throw new Error('timeout waiting for a line');
      await new Promise((res) => { this.waiters.push(res); setTimeout(res, 50); });
    }
    return this.lines[seen];
  }

  sendRaw(text) { this.proc.stdin.write(text); }
  send(obj) { this.proc.stdin.write(JSON.stringify(obj) + '\n'); }

  request(method, params, { id, timeoutMs = 60000 } = {}) {
    const rid = id ?? this.nextId++;
    const msg = { jsonrpc: '2.0', id: rid, method };
    if (params !== undefined) msg.params = params;
    return new Promise((resolve, reject) => {
      // a server the sandbox killed (SIGSYS) never answers: say so at the timeout
      const t = setTimeout(() => reject(new Error(`timeout: ${method}${this.died()}`)), timeoutMs);
      this.pending.set(JSON.stringify(rid), (m) => { clearTimeout(t); resolve(m); });
      this.send(msg);
    });
  }

  async init(version = '2025-11-25') {
    const r = await this.request('initialize', {
      protocolVersion: version, capabilities: {}, clientInfo: { name: 'tests', version: '1' },
    });
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return r;
  }

  // tools/call; returns the CallToolResult (throws on a JSON-RPC error).
  async call(name, args = {}, opts) {
    const r = await this.request('tools/call', { name, arguments: args }, opts);
    if (r.error) throw new Error(`${name}: JSON-RPC error ${r.error.code}: ${r.error.message}\n${this.stderr}`);
    return r.result;
  }

  // tools/call that must succeed; returns structuredContent.
  async ok(name, args = {}, opts) {
    const r = await this.call(name, args, opts);
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.structuredContent)}`);
    return r.structuredContent;
  }

  // Ends the session. A call the sandbox refused (src/sys/sandbox.c logs
  // each on stderr) fails the test that made it: every path a test takes
  // must run under the filter.
  async close() {
    if (this.proc.end) this.proc.end();
    else this.proc.stdin.end();
    const e = await this.exited;
    assertNoRefusal(this.stderr);
    return e;
  }
}

export function assertNoRefusal(stderr) {
  const m = stderr.match(/^.*sandbox: refused.*$/m);
  if (m) throw new Error(`the sandbox refused a call: ${m[0]}`);
}

export async function withServer(args, fn, opts) {
  const s = new Server(args, opts);
  try {
    await s.init();
    return await fn(s);
  } finally {
    await s.close();
  }
}

export function sh(cmd, opts = {}) {
  return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...opts });
}

// Tests mount what they need themselves (nothing is mounted at boot here).
export function ensureMounts() {
  const mounts = () => sh('cat /proc/self/mounts');
  const want = [
    ['bpf', '/sys/fs/bpf'],
    ['tracefs', '/sys/kernel/tracing'],
    ['debugfs', '/sys/kernel/debug'],
  ];
  for (const [type, dir] of want) {
    if (mounts().split('\n').some((l) => l.split(' ')[2] === type)) continue;
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    try { sh(`mount -t ${type} ${type} ${dir}`); } catch { /* reported by the tests that need it */ }
  }
}

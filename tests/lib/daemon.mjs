// Helpers for the daemon tests (tests/integration/serve.test.mjs, systemd.test.mjs):
// start `ebpf-mcp serve` on a socket in a temp directory, wait until the
// kernel lists that socket as listening, stop it with a signal, and open MCP
// sessions on it, either over a raw unix socket from this (root) process or
// through `ebpf-mcp connect` run as another uid/gid under setpriv.
//
// Other users cannot reach into a checkout that sits under a 0700 directory
// (mktemp -d makes them so in CI), so everything an unprivileged client runs
// or opens (the binary, the socket) lives in a 0755 temp directory made here.
// The uids and gids used are numbers with no /etc/passwd or /etc/group entry
// (41001..41099), so nothing is left on the machine.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BIN, Server, assertNoRefusal } from './mcp.mjs';
import { sleep, until } from './kern.mjs';

export { sleep, until };   // the daemon tests import their waits from here

// A 0755 temp directory holding a 0755 copy of the built binary.
export function publicDir(tag = 'serve') {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ebpf-mcp-${tag}-`));
  chmodSync(dir, 0o755);
  const bin = path.join(dir, 'ebpf-mcp');
  copyFileSync(BIN, bin);
  chmodSync(bin, 0o755);
  return { dir, bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// The kernel's table of unix sockets (/proc/net/unix): for each bound path,
// whether a socket is listening on it (the __SO_ACCEPTCON flag, 0x10000) and
// its inode. This is how a test knows the daemon accepts without connecting
// (a connection would be a session, or a "refused" line in the audit log).
export function unixSockets() {
  const out = [];
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    out.push({ flags: parseInt(f[3], 16), state: parseInt(f[5], 16), inode: Number(f[6]), path: f.slice(7).join(' ') });
  }
  return out;
}
export const listening = (p) => unixSockets().find((s) => s.path === p && (s.flags & 0x10000));

// The socket inodes a process holds open (readlink /proc/PID/fd/* = socket:[N]).
export function socketInodes(pid) {
  const out = new Map();
  const r = spawnSync('sh', ['-c', `for f in /proc/${pid}/fd/*; do printf '%s %s\\n' "\${f##*/}" "$(readlink "$f")"; done`],
    { encoding: 'utf8' });
  for (const line of r.stdout.split('\n')) {
    const m = line.match(/^(\d+) socket:\[(\d+)\]$/);
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

// Uid, gid and supplementary groups of a process, from /proc/PID/status.
export function credsOf(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => st.match(new RegExp(`^${name}:[ \\t]*(.*)$`, 'm'))[1].trim().split(/\s+/).filter(Boolean).map(Number);
  return { uid: field('Uid')[0], gid: field('Gid')[0], groups: field('Groups') };
}

// A prefix that ends the command with SIGTERM when the test process dies
// (prctl PR_SET_PDEATHSIG; kept across the exec).
export const DIE_WITH_PARENT = ['setpriv', '--pdeathsig', 'SIGTERM'];

const exitOf = (proc) => new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));

// A daemon process whose output is collected: spawn, stop by signal, kill.
export class DaemonProcess {
  spawn(argv, env) {
    this.argv = argv;
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    this.stdout = '';
    this.stderr = '';
    this.proc.stdout.setEncoding('utf8').on('data', (s) => { this.stdout += s; });
    this.proc.stderr.setEncoding('utf8').on('data', (s) => { this.stderr += s; });
    this.exited = exitOf(this.proc);
    this.exit = null;
    this.exited.then((e) => { this.exit = e; });
  }

  get pid() { return this.proc.pid; }

  // Sends sig and waits for the exit ({code, sig}); SIGKILL after timeoutMs.
  async stop(sig = 'SIGTERM', timeoutMs = 15000) {
    if (this.exit) return this.exit;
    this.proc.kill(sig);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const e = await this.exited;
    clearTimeout(t);
    assertNoRefusal(this.stderr);
    return e;
  }

  // For finally blocks: the daemon gone whatever happened.
  async kill() {
    if (!this.exit) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

export class Daemon extends DaemonProcess {
  // Starts `BIN serve --socket SOCKET --validate-output ...args` and waits
  // until its socket listens. opts.bin: the binary (default: a public copy's);
  // opts.socket: the path (default <dir>/s.sock); opts.wrap: a command prefix.
  static async start(args = [], { pub, socket, wrap = [], env, waitListen = true } = {}) {
    const d = new Daemon();
    d.pub = pub ?? publicDir();
    d.ownPub = !pub;
    d.socket = socket ?? path.join(d.pub.dir, 's.sock');
    // SIGTERM (release and exit) if this process dies without stopping it
    d.spawn([...DIE_WITH_PARENT, ...wrap, d.pub.bin, 'serve', '--socket', d.socket, '--validate-output', ...args], env);
    if (waitListen) {
      try {
        await until(`the daemon to listen on ${d.socket}`, () => {
          if (d.exit) throw new Error(`the daemon exited (${JSON.stringify(d.exit)}) before listening: ${d.stderr}`);
          return listening(d.socket);
        });
      } catch (e) {
        await d.kill();
        throw e;
      }
    }
    return d;
  }

  // For finally blocks: the daemon gone whatever happened, and its temp dir.
  async kill() {
    await super.kill();
    if (this.ownPub) this.pub.cleanup();
  }

  // A session over a raw unix socket from this process (uid 0).
  raw() { return rawSession(this.socket); }

  // A session through `ebpf-mcp connect`, run as uid/gid (see connectAs).
  as(ids, opts = {}) { return connectAs(this.socket, ids, { bin: this.pub.bin, ...opts }); }
}

// A Server (tests/lib/mcp.mjs) on a unix socket of this process: the socket
// is its transport; `exited` resolves when the daemon's side closes.
export function rawSession(socketPath) {
  const sock = net.createConnection(socketPath);
  const s = new Server([], {
    transport: {
      input: sock,
      output: sock,
      exited: new Promise((res) => sock.on('close', () => res({ code: 0, sig: null }))),
      end: () => sock.end(),
    },
  });
  s.socket = sock;
  s.errors = [];
  sock.on('error', (e) => { s.errors.push(e); });   // ECONNRESET after a refusal: the test reads s.errors
  s.closed = false;
  sock.on('close', () => { s.closed = true; });
  s.connected = new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  return s;
}

// setpriv's arguments for uid/gid and supplementary groups ([] clears them).
export function setprivArgs({ uid, gid = uid, groups = [] }) {
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, groups.length ? `--groups=${groups.join(',')}` : '--clear-groups'];
}

// `ebpf-mcp connect SOCKET` as uid/gid (+ groups) under setpriv, wrapped as a
// Server: its stdin/stdout are the session, its stderr is s.stderr, its exit
// s.exited. setpriv execs the binary, so s.proc.pid is the daemon's peer pid.
export function connectAs(socketPath, ids, { bin, extra = [] } = {}) {
  const argv = [...setprivArgs(ids), bin, 'connect', ...extra, ...(socketPath === null ? [] : [socketPath])];
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = exitOf(proc);
  const s = new Server([], { transport: { input: proc.stdin, output: proc.stdout, exited, end: () => proc.stdin.end() } });
  proc.stderr.setEncoding('utf8').on('data', (d) => { s.stderr += d; });
  proc.stdin.on('error', () => { /* EPIPE once connect has exited: its exit status says why */ });
  s.child = proc;
  s.pid = proc.pid;
  return s;
}

// Runs `ebpf-mcp connect` to completion as uid/gid with `input` on its stdin
// (then EOF); returns { status, signal, stdout, stderr, lines }.
export function connectOnce(socketPath, ids, { bin, input = '', timeout = 30000 } = {}) {
  const argv = [...setprivArgs(ids), bin, 'connect', ...(socketPath === null ? [] : [socketPath])];
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', timeout });
  return { ...r, lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

// JSON-RPC lines for a session that initializes and then sends `more`.
export function script(more = []) {
  return [
    { jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'tests', version: '1' } } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    ...more,
  ].map((m) => JSON.stringify(m) + '\n').join('');
}

// The audit log's lines, parsed ([] before the file exists).
export function auditLines(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
}

export const isSocket = (p) => { try { return lstatSync(p).isSocket(); } catch { return false; } };

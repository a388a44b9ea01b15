// Helpers for the deployment recipe tests (tests/integration/deploy*.test.mjs):
// read the recipe files under docs/deploy/, start a server the way a recipe
// says (a command line the client would run, an ssh session, a capability
// set) and talk MCP to it through tests/lib/mcp.mjs, and find processes on
// this host from /proc (the witness for "which pid is the server").
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ROOT, BIN, Server } from './mcp.mjs';

export const DEPLOY = path.join(ROOT, 'docs/deploy');
// Where the recipes say the binary is installed; tests run the built one.
export const INSTALLED_BIN = '/usr/local/bin/ebpf-mcp';

export function readJson(rel) {
  return JSON.parse(readFileSync(path.join(DEPLOY, rel), 'utf8'));
}

// Start cmd with args (no shell, as MCP clients spawn stdio servers) and wrap
// its stdin/stdout as a Server transport. The caller owns close().
export function spawnServer(cmd, args, { env = process.env, cwd } = {}) {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env, cwd });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
  const server = new Server([], {
    transport: { input: proc.stdin, output: proc.stdout, exited, end: () => proc.stdin.end() },
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { server.stderr += d; });
  return { proc, server, exited };
}

// initialize, or fail at once (with its stderr) if the process exits first.
export function initOrExit({ server, exited }) {
  return Promise.race([server.init(), exited.then((e) => {
    throw new Error(`exited before initialize (${JSON.stringify(e)}): ${server.stderr}`);
  })]);
}

// pid -> ppid for every process now, from /proc/<pid>/stat (the comm field
// may hold spaces and parentheses: the ppid follows the last ')').
export function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), Number(rest[1]));
    } catch { /* it exited while we looked */ }
  }
  return table;
}

export function exeOf(pid) {
  try { return readlinkSync(`/proc/${pid}/exe`); } catch { return null; }
}

// Every process below root (children, grandchildren...).
export function descendants(root) {
  const table = processTable();
  const out = [];
  const walk = (p) => {
    for (const [pid, ppid] of table) if (ppid === p) { out.push(pid); walk(pid); }
  };
  walk(root);
  return out;
}

// The descendants of root whose executable is the built binary.
export function serversBelow(root) {
  const bin = realpathSync(BIN);
  return descendants(root).filter((pid) => exeOf(pid) === bin);
}

export async function waitFor(what, fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

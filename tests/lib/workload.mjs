// The workload fixture (build/test/tools/workload) and the witnesses the
// tracer tests read about it: its own "ready PID"/"done" lines, strace's
// view of the window it worked in, and /proc/<pid>/schedstat.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD } from './mcp.mjs';

export const WORKLOAD = path.join(BUILD, 'test/tools/workload');
export const LINE_TIMEOUT_MS = 20000;   // one line of a fixture's output

// Lines of a child's stdout, awaited one at a time.
export class Lines {
  constructor(stream) {
    this.queue = [];
    this.waiters = [];
    this.ended = false;
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) this.queue.push(buf.slice(0, nl));
      this.waiters.splice(0).forEach((w) => w());
    });
    stream.on('end', () => { this.ended = true; this.waiters.splice(0).forEach((w) => w()); });
  }

  async next(what) {
    const deadline = Date.now() + LINE_TIMEOUT_MS;
    while (!this.queue.length) {
      if (this.ended) throw new Error(`${what}: output ended`);
      if (Date.now() > deadline) throw new Error(`${what}: timeout`);
      await new Promise((res) => { this.waiters.push(res); setTimeout(res, 100); });
    }
    return this.queue.shift();
  }
}

export function exited(child) {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
}

// Children still running, killed by reap() after each test.
const children = new Set();
export function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
export async function reap() {
  for (const c of [...children]) { c.kill('SIGKILL'); await exited(c); }
}

// workload -w MODE ARGS (optionally under a wrapper such as strace, or
// unshare -n, which execs it): its pid comes from its own "ready PID" line;
// go() starts the work, waits for "done 0" and returns the lines the mode
// printed before it (sleep's "slept US"); finish() lets it exit and
// resolves to how it exited.
export async function startWorkload(args, wrap = []) {
  const argv = [...wrap, WORKLOAD, '-w', ...args];
  const child = track(spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = new Lines(child.stdout);
  const ready = (await lines.next(args[0])).split(' ');
  assert.equal(ready[0], 'ready');
  return {
    pid: Number(ready[1]),
    async go() {
      child.stdin.write('go\n');
      const out = [];
      for (let l = await lines.next(args[0]); ; l = await lines.next(args[0])) {
        if (!l.startsWith('done ')) { out.push(l); continue; }
        assert.equal(l, 'done 0');
        return out;
      }
    },
    // Starts the work without waiting for "done" (a workload that gets
    // killed never says it).
    begin() {
      child.stdin.write('go\n');
    },
    async finish() {
      child.stdin.end();
      return exited(child);
    },
  };
}

export function runWorkload(args) {
  const r = spawnSync(WORKLOAD, args, { encoding: 'utf8' });
  return { pid: r.pid, status: r.status, signal: r.signal };
}

// /proc/<pid>/schedstat: time on CPU, time waiting on a run queue (ns), times run.
export function schedstat(pid) {
  const [run, wait, slices] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  return { run, wait, slices };
}

// Until the process sleeps (state S in /proc/<pid>/stat).
export async function sleeping(pid) {
  for (let i = 0; i < 200; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('S')) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`${pid} does not sleep`);
}

// strace -o lines between the workload's "go" read and its "done" write:
// the window in which the tracer was attached.
export function straceWindow(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const from = lines.findIndex((l) => l.includes('read(0, "go\\n"'));
  const to = lines.findIndex((l) => l.includes('"done 0\\n"'));
  assert.ok(from >= 0 && to > from, `strace window in ${file}`);
  return lines.slice(from + 1, to);
}

export function tally(list, keyOf) {
  const m = {};
  for (const x of list) m[keyOf(x)] = (m[keyOf(x)] ?? 0) + 1;
  return m;
}

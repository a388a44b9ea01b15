// What BPF objects a server process holds, read from its /proc/PID/fd and
// fdinfo, and checked against bpftool: while a tracer runs (its programs,
// one link each, its maps) and after it ends (nothing of it left, in the
// process or in the kernel).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './mcp.mjs';
import { bpftool, sleep } from './kern.mjs';

// Program, link and map ids behind a process's descriptors (fdinfo).
export function held(pid) {
  const out = { progs: [], links: [], maps: [] };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target, info;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch { continue; }   // closed meanwhile
    const id = (key) => Number(info.match(new RegExp(`^${key}:\\s*(\\d+)`, 'm'))[1]);
    if (target === 'anon_inode:bpf-prog') out.progs.push(id('prog_id'));
    else if (target === 'anon_inode:bpf_link') out.links.push(id('link_id'));
    else if (target === 'anon_inode:bpf-map') out.maps.push(id('map_id'));
  }
  return out;
}

export const fdCount = (pid) => readdirSync(`/proc/${pid}/fd`).length;

export const minus = (a, b) => ({
  progs: a.progs.filter((x) => !b.progs.includes(x)),
  links: a.links.filter((x) => !b.links.includes(x)),
  maps: a.maps.filter((x) => !b.maps.includes(x)),
});

// The programs of bpf/<tracer>.bpf.c, by function name.
export function programsOf(tracer) {
  const src = readFileSync(path.join(ROOT, 'bpf', `${tracer}.bpf.c`), 'utf8');
  return [...src.matchAll(/^SEC\("(?:tp_btf|tracepoint|raw_tp|perf_event)[^"]*"\)\s*\nint (?:BPF_PROG\()?(\w+)/gm)].map((m) => m[1]);
}

// Whether bpf/<tracer>.bpf.c samples perf events (one link per CPU).
const samples = (tracer) => /^SEC\("perf_event/m.test(readFileSync(path.join(ROOT, 'bpf', `${tracer}.bpf.c`), 'utf8'));

// While a run holds `ids`: bpftool shows exactly these tracers' programs,
// each attached by one of the links (a sampler by one per CPU), and the maps.
export function assertRunning(ids, tracers) {
  const want = tracers.flatMap(programsOf).sort();
  const progs = bpftool('prog show').filter((p) => ids.progs.includes(p.id));
  assert.equal(progs.length, ids.progs.length, 'every held program is loaded');
  // bpftool names a program by its BTF function name, or the kernel's 15 bytes of it
  const names = progs.map((p) => want.find((w) => w === p.name || (p.name.length === 15 && w.startsWith(p.name))) ?? p.name).sort();
  assert.deepEqual(names, want, 'the programs are the tracer\'s own');
  const links = bpftool('link show').filter((l) => ids.links.includes(l.id));
  if (tracers.some(samples)) {
    assert.ok(links.length >= want.length && links.every((l) => ids.progs.includes(l.prog_id)), 'links of the programs');
  } else {
    assert.equal(links.length, want.length, 'one link per program');
    assert.deepEqual(links.map((l) => l.prog_id).sort(), ids.progs.slice().sort());
  }
  assert.ok(ids.maps.length > 0 && bpftool('map show').filter((m) => ids.maps.includes(m.id)).length === ids.maps.length);
}

// What of `ids` is left: in the kernel (bpftool), or held by process pid
// (when it still runs). With `all`, every object pid holds counts, not
// only those of `ids`: the server is back to holding nothing.
export function leftOf(ids, pid, { all = false } = {}) {
  const now = pid ? held(pid) : { progs: [], links: [], maps: [] };
  const mine = (kind) => now[kind].filter((x) => all || ids[kind].includes(x));
  return {
    progs: bpftool('prog show').filter((p) => ids.progs.includes(p.id)).map((p) => p.id).concat(mine('progs')),
    links: bpftool('link show').filter((l) => ids.links.includes(l.id)).map((l) => l.id).concat(mine('links')),
    maps: bpftool('map show').filter((m) => ids.maps.includes(m.id)).map((m) => m.id).concat(mine('maps')),
  };
}

// Nothing of `ids` is left (see leftOf), within timeoutMs: a release runs
// on a worker after the answer, and a detach waits for RCU grace periods
// (longer on a busy machine).
export async function assertReleased(ids, pid, { timeoutMs = 20000, all = false } = {}) {
  let left;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    left = leftOf(ids, pid, { all });
    if (!left.progs.length && !left.links.length && !left.maps.length) return;
    if (Date.now() > deadline) break;
    await sleep(25);
  }
  assert.fail(`left in the kernel: ${JSON.stringify(left)}`);
}

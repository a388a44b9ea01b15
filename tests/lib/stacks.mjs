// Witnesses for the stack tracers' tests (profile_cpu, offcpu_profile):
// function symbols by nm, executable ranges by readelf, /proc/kallsyms,
// the frames as the tools print them, and what the server holds in the
// kernel by its descriptors.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { sh } from './mcp.mjs';

// `nm -S` (or -D -S) function symbols: name -> {start, size}.
export function nmFuncs(file, dynamic = false) {
  const out = new Map();
  for (const l of sh(`nm -S --defined-only ${dynamic ? '-D' : ''} ${file}`).split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [TtWwi] (\S+?)(@.*)?$/.exec(l);
    if (m && !out.has(m[3])) out.set(m[3], { start: BigInt(`0x${m[1]}`), size: BigInt(`0x${m[2]}`) });
  }
  return out;
}

// readelf -lW: executable PT_LOAD ranges (virtual addresses).
export function execLoads(file) {
  const load = /^\s*LOAD\s+(0x\S+)\s+(0x\S+)\s+(0x\S+)\s+(0x\S+)\s+(0x\S+)\s+([RWE ]+?)\s+(0x\S+)$/;
  return sh(`readelf -lW ${file}`).split('\n').map((l) => load.exec(l)).filter((m) => m?.[6].includes('E'))
    .map((m) => ({ start: BigInt(m[2]), end: BigInt(m[2]) + BigInt(m[4]) }));
}

// "name+0xoff" or "name+0xoff [mod]".
export function parseFrame(s) {
  const m = /^(.+)\+0x([0-9a-f]+)(?: \[(\S+)\])?$/.exec(s);
  return m ? { name: m[1], off: BigInt(`0x${m[2]}`), mod: m[3] } : null;
}
export const bare = (s) => parseFrame(s)?.name ?? '[unknown]';

// /proc/kallsyms text symbols: by name, and every address in order.
export function kallsyms() {
  const byName = new Map(), addrs = [];
  for (const l of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([tTwW]) (\S+)(?:\t\[(\S+)\])?/.exec(l);
    if (!m) continue;
    const a = BigInt(`0x${m[1]}`);
    if (!/^__(pfx|cfi)_/.test(m[3])) addrs.push(a);   // padding before a function is not one
    if (!byName.has(m[3])) byName.set(m[3], []);
    byName.get(m[3]).push({ addr: a, mod: m[4] });
  }
  addrs.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const next = (a) => {   // where the next function starts
    let lo = 0, hi = addrs.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (addrs[mid] <= a) lo = mid + 1; else hi = mid; }
    return addrs[lo] ?? (1n << 64n);
  };
  return { byName, next };
}

// The server's BPF programs, links and perf events, from its descriptors.
export function held(pid) {
  const out = { progs: new Set(), links: new Set(), perf: 0 };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target, info;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch { continue; }   // closed meanwhile
    if (target === 'anon_inode:[perf_event]') out.perf++;
    const link = /^link_id:\s*(\d+)/m.exec(info), prog = /^prog_id:\s*(\d+)/m.exec(info);
    if (link) out.links.add(Number(link[1]));
    else if (prog) out.progs.add(Number(prog[1]));
  }
  return out;
}

// A result's frames as its folded line names them: the comm, user frames
// outermost first, then kernel frames outermost first, then the value.
export function foldedOf(x, value) {
  const user = x.user.map((f) => (parseFrame(f)?.name ?? (/^0x/.test(f) ? '[unknown]' : f)));
  const kern = x.kernel.map((f) => { const p = parseFrame(f); return p ? (p.mod ? `${p.name} [${p.mod}]` : p.name) : '[unknown]'; });
  const expect = [x.comm, ...user.reverse(), ...(x.user_error?.startsWith('stack not stored') ? ['[user stack lost]'] : []),
    ...kern.reverse(), ...(x.kernel_error?.startsWith('stack not stored') ? ['[kernel stack lost]'] : [])];
  return `${expect.join(';')} ${value}`;
}

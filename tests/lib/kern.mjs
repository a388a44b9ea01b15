// Witness helpers for tests that attach programs: bpftool reads, counter
// maps decoded from bpftool's raw bytes, a veth pair across two network
// namespaces, a cgroup v2 directory, and the trigger fixture.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { sh, BUILD } from './mcp.mjs';

export const BPFTOOL = '/usr/sbin/bpftool';
export const TRIGGER = path.join(BUILD, 'test/tools/attach_trigger');
export const OBJ_DIR = path.join(BUILD, 'bpf');

export const bpftool = (cmd) => JSON.parse(sh(`${BPFTOOL} -j ${cmd}`).trim() || '[]');  // cgroup show prints nothing for none
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns something truthy (and returns that); throws
// after timeoutMs. Waits in tests end as soon as the state is seen, so the
// bound is a wide margin, never a measurement.
export async function until(what, fn, timeoutMs = 10000, everyMs = 25) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timeout (${timeoutMs} ms) waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function linkExists(id) {
  try { bpftool(`link show id ${id}`); return true; } catch { return false; }
}
export function progExists(id) {
  try { bpftool(`prog show id ${id}`); return true; } catch { return false; }
}
// Every kernel link running one of these program ids.
export const linksOf = (progIds) => bpftool('link show').filter((l) => progIds.includes(l.prog_id));

// Little-endian unsigned from bpftool's ["0x..", ...] byte list.
const le = (bytes) => Number(bytes.reduceRight((acc, b) => acc * 256n + BigInt(parseInt(b, 16)), 0n));

// key -> value of a map of integers, read by bpftool (raw bytes, not BTF).
export function counts(mapId) {
  const m = new Map();
  for (const e of bpftool(`map dump id ${mapId}`)) m.set(le(e.key), le(e.value));
  return m;
}

// Runs the trigger fixture (optionally inside a netns); returns its pid.
export function trigger(args, { netns, input } = {}) {
  const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, TRIGGER, ...args]] : [TRIGGER, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`trigger ${args.join(' ')}: status ${r.status} ${r.stderr}`);
  return r.pid;
}

// The objects load_program returned, by name.
export async function load(s, name) {
  const r = await s.ok('load_program', { path: path.join(OBJ_DIR, `${name}.bpf.o`) });
  return {
    handle: r.handle,
    prog: Object.fromEntries(r.programs.map((p) => [p.name, p.id])),
    map: Object.fromEntries(r.maps.map((m) => [m.name, m.id])),
  };
}

// A tool call that must fail; returns its error object.
export async function fails(s, tool, args) {
  const r = await s.call(tool, args);
  if (!r.isError) throw new Error(`${tool} succeeded: ${JSON.stringify(r.structuredContent)}`);
  return r.structuredContent.error;
}

// veth `${tag}a` (this namespace, .1) <-> `${tag}b` (netns `${tag}`, .2),
// IPv6 off so nothing but the test's own packets crosses it.
export function vethPair(tag, octet) {
  const ns = tag, a = `${tag}a`, b = `${tag}b`;
  const net = { ns, a, b, addrA: `10.213.${octet}.1`, addrB: `10.213.${octet}.2` };
  net.cleanup = () => {
    try { sh(`ip link del ${a}`); } catch { /* gone with the netns */ }
    try { sh(`ip netns del ${ns}`); } catch { /* never made */ }
  };
  net.cleanup();
  sh(`ip netns add ${ns}`);
  sh(`ip link add ${a} type veth peer name ${b}`);
  sh(`sysctl -qw net.ipv6.conf.${a}.disable_ipv6=1`);
  sh(`ip link set ${b} netns ${ns}`);
  sh(`ip netns exec ${ns} sysctl -qw net.ipv6.conf.${b}.disable_ipv6=1`);
  sh(`ip addr add ${net.addrA}/24 dev ${a} && ip link set ${a} up`);
  sh(`ip -n ${ns} addr add ${net.addrB}/24 dev ${b} && ip -n ${ns} link set ${b} up && ip -n ${ns} link set lo up`);
  net.ifindex = JSON.parse(sh(`ip -j link show dev ${a}`))[0].ifindex;
  // packets sent by b (all of them arrive at a) and sent by a
  net.txB = () => JSON.parse(sh(`ip -n ${ns} -s -j link show dev ${b}`))[0].stats64.tx.packets;
  net.txA = () => Number(readFileSync(`/sys/class/net/${a}/statistics/tx_packets`, 'utf8'));
  net.send = (n) => trigger(['udp', String(n), net.addrA], { netns: ns });     // b -> a
  net.sendFromA = (n) => trigger(['udp', String(n), net.addrB]);                // a -> b
  return net;
}

export function cgroup2Mount() {
  const line = readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  if (!line) throw new Error('no cgroup2 mount');
  return line.split(' ')[1];
}

export function makeCgroup(name) {
  const dir = path.join(cgroup2Mount(), name);
  if (!existsSync(dir)) mkdirSync(dir);
  return { dir, name, cleanup: () => { try { rmdirSync(dir); } catch { /* busy or gone */ } } };
}

// The systemd units in docs/deploy/systemd/, tried as far as a machine with
// no running systemd allows:
//
// - both files are parsed; the socket unit's listener, mode and group, and
//   the service's type, ExecStart (the binary's `serve` with options its
//   --help lists), restart policy and capability set are what docs say;
// - `systemd-analyze verify` reads them (it works offline: it loads the
//   units without a manager), with ExecStart pointing at the built binary;
// - the service runs as systemd would start it for the socket unit:
//   systemd-socket-activate (systemd's own tool: it binds the socket, waits
//   for the first connection, then execs the command with LISTEN_FDS=1 and
//   LISTEN_PID) runs ExecStart's command line verbatim. What the unit's
//   [Service] section asks of the manager is emulated where a tool can do
//   it (SERVICE_KEYS says which and how): the capability bounding set and
//   no_new_privs with setpriv; ProtectSystem, ProtectHome, PrivateTmp,
//   LogsDirectory, the ebpf-mcp group and the binary's install path in a
//   private mount namespace. SocketMode/SocketGroup, which the activator
//   has no option for, are applied to its socket file before the first
//   connection. A client in the ebpf-mcp group then has a session through
//   `ebpf-mcp connect`; /proc shows the daemon's command line, its fd 3 as
//   the activator's socket, its capabilities and no_new_privs; SIGTERM ends
//   it with status 0 and leaves the socket file (the activator's, not the
//   daemon's) in place.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync,
  statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, ROOT, ensureMounts } from '../lib/mcp.mjs';
import {
  Daemon, publicDir, until, listening, socketInodes, credsOf, connectAs, connectOnce, script, auditLines, DIE_WITH_PARENT,
} from '../lib/daemon.mjs';

const UNITS = path.join(ROOT, 'docs/deploy/systemd');
const INSTALLED_BIN = '/usr/local/bin/ebpf-mcp';
const GROUP_GID = 41020;          // the ebpf-mcp group, in the daemon's emulated /etc/group
const MEMBER = 41021, OUTSIDER = 41022;
const CAPS = ['CAP_BPF', 'CAP_PERFMON', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_DAC_READ_SEARCH'];
const CAP_BITS = { CAP_DAC_READ_SEARCH: 2, CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 };

before(() => ensureMounts());

// ---- reading unit files -----------------------------------------------------------

// systemd's unit syntax, as far as these files use it: [Section] headers,
// Key=Value lines, # and ; comments, a trailing backslash continues a line.
// Returns { Section: { Key: [values...] } }.
function parseUnit(file) {
  const out = {};
  let sec = null;
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + lines[++i].trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const h = line.match(/^\[([A-Za-z]+)\]$/);
    if (h) { sec = out[h[1]] ??= {}; continue; }
    const kv = line.match(/^([A-Za-z0-9]+)\s*=\s*(.*)$/);
    assert.ok(sec && kv, `${path.basename(file)}:${i + 1}: not a Key=Value line in a section: ${line}`);
    (sec[kv[1]] ??= []).push(kv[2]);
  }
  return out;
}
const one = (sec, key) => {
  assert.equal(sec[key]?.length, 1, `exactly one ${key}=`);
  return sec[key][0];
};

// ExecStart's words (no quotes, escapes or prefixes such as - @ + ! in ours).
function execStart(service) {
  const line = one(service.Service, 'ExecStart');
  assert.doesNotMatch(line, /["'\\$%]/, 'ExecStart needs no quoting or specifiers');
  assert.match(line, /^\//, 'an absolute path, no prefix');
  return line.split(/\s+/);
}

// Every [Service] key of the unit, and what this test does with it. A key
// added to the unit must be added here, with how it is checked.
const SERVICE_KEYS = {
  Type: 'checked: simple (the daemon does not fork or notify)',
  ExecStart: 'run verbatim under systemd-socket-activate',
  Restart: 'checked: on-failure (the manager restarts; not emulated)',
  RestartSec: 'the manager\'s',
  KillSignal: 'SIGTERM: the test sends it and expects exit 0',
  TimeoutStopSec: 'the manager\'s',
  LogsDirectory: 'emulated: a test directory bound at /var/log/<name>',
  LogsDirectoryMode: 'emulated: that directory\'s mode',
  UMask: 'emulated: umask before exec',
  CapabilityBoundingSet: 'emulated: setpriv --bounding-set; /proc/PID/status checked',
  AmbientCapabilities: 'emulated: none (setpriv --inh-caps=-all)',
  LimitMEMLOCK: 'not emulated: raising RLIMIT_MEMLOCK needs CAP_SYS_RESOURCE, which this machine\'s root may lack; '
    + 'kernels from 5.11 do not charge BPF to it',
  NoNewPrivileges: 'emulated: setpriv --no-new-privs; /proc/PID/status checked',
  ProtectSystem: 'emulated (full): /usr, /boot, /efi, /etc bound read-only',
  ProtectHome: 'emulated (read-only): /home, /root, /run/user bound read-only',
  PrivateTmp: 'emulated: fresh tmpfs on /tmp and /var/tmp',
  ProtectKernelModules: 'not emulated (systemd drops CAP_SYS_MODULE, not in the set anyway, and hides module files)',
  ProtectHostname: 'not emulated (a UTS namespace)',
  RestrictAddressFamilies: 'not emulated (a seccomp filter made by systemd)',
  RestrictNamespaces: 'not emulated (a seccomp filter made by systemd)',
  RestrictRealtime: 'not emulated (a seccomp filter made by systemd)',
  RestrictSUIDSGID: 'not emulated (a seccomp filter made by systemd)',
  LockPersonality: 'not emulated (a seccomp filter made by systemd)',
  MemoryDenyWriteExecute: 'not emulated (a seccomp filter made by systemd)',
  SystemCallArchitectures: 'not emulated (a seccomp filter made by systemd)',
};

const socketUnit = () => parseUnit(path.join(UNITS, 'ebpf-mcp.socket'));
const serviceUnit = () => parseUnit(path.join(UNITS, 'ebpf-mcp.service'));

test('the socket unit: /run/ebpf-mcp.sock, mode 0660, group ebpf-mcp, one service for all connections, enabled by sockets.target', () => {
  const u = socketUnit();
  assert.deepEqual(Object.keys(u).sort(), ['Install', 'Socket', 'Unit']);
  assert.equal(one(u.Socket, 'ListenStream'), '/run/ebpf-mcp.sock');
  assert.equal(one(u.Socket, 'SocketMode'), '0660');
  assert.equal(one(u.Socket, 'SocketGroup'), 'ebpf-mcp');
  assert.equal(one(u.Socket, 'SocketUser'), 'root');
  assert.equal(one(u.Socket, 'Accept'), 'no', 'the daemon accepts; Accept=yes would start one per connection');
  assert.equal(one(u.Install, 'WantedBy'), 'sockets.target');
  // the path the unit listens on is connect's default
  const help = spawnSync(BIN, ['--help'], { encoding: 'utf8' }).stdout;
  assert.match(help, /ebpf-mcp connect \[PATH\]/);
  assert.match(help, /default \/run\/ebpf-mcp\.sock/);
});

test('the service unit: ExecStart is `serve` with options the binary accepts; hardening that keeps bpffs and tracefs', () => {
  const u = serviceUnit();
  assert.deepEqual(Object.keys(u).sort(), ['Install', 'Service', 'Unit']);
  assert.deepEqual(Object.keys(u.Service).filter((k) => !(k in SERVICE_KEYS)), [], 'keys this test does not know');
  assert.equal(one(u.Service, 'Type'), 'simple');
  assert.equal(one(u.Service, 'Restart'), 'on-failure');
  assert.equal(one(u.Service, 'KillSignal'), 'SIGTERM');
  assert.equal(one(u.Service, 'NoNewPrivileges'), 'yes');
  assert.ok(one(u.Unit, 'Requires').split(/\s+/).includes('ebpf-mcp.socket'));
  assert.ok(one(u.Unit, 'After').split(/\s+/).includes('ebpf-mcp.socket'));
  assert.deepEqual(one(u.Service, 'CapabilityBoundingSet').split(/\s+/).sort(), [...CAPS].sort());
  assert.equal(one(u.Service, 'AmbientCapabilities'), '');
  // nothing that would make /sys (bpffs, tracefs) read-only or hidden
  assert.equal(u.Service.ProtectKernelTunables, undefined);
  assert.notEqual(one(u.Service, 'ProtectSystem'), 'strict');
  assert.equal(u.Service.PrivateNetwork, undefined);
  assert.equal(u.Service.ProtectProc, undefined);

  const argv = execStart(u);
  assert.equal(argv[0], INSTALLED_BIN);
  assert.equal(argv[1], 'serve');
  assert.ok(!argv.includes('--socket'), 'under socket activation the socket comes from systemd');
  const known = new Set([...spawnSync(BIN, ['--help'], { encoding: 'utf8' }).stdout.matchAll(/^\s+--([a-z-]+)/gm)].map((m) => m[1]));
  for (const w of argv.filter((a) => a.startsWith('--'))) assert.ok(known.has(w.slice(2).split('=')[0]), `${w} is an option of the binary`);
  const access = argv.filter((_, i) => argv[i - 1] === '--access');
  assert.deepEqual(access, ['gid:ebpf-mcp=observe'], 'the group the socket is open to gets observe');
  // the audit log lives in the LogsDirectory systemd makes
  const audit = argv[argv.indexOf('--audit-log') + 1];
  assert.equal(path.dirname(audit), `/var/log/${one(u.Service, 'LogsDirectory')}`);
  assert.equal(one(u.Install, 'Also'), 'ebpf-mcp.socket');
});

// systemd-analyze verify loads units without a running manager (checked on
// systemd 252: unknown keys and bad values come out on stderr, a missing
// ExecStart binary makes it exit 1). The install path is swapped for the
// built binary, which must exist and be executable.
test('systemd-analyze verify accepts both units (ExecStart pointing at the built binary)', (t) => {
  const which = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  if (which.status !== 0) return t.skip('systemd-analyze is not installed (vendor/deps.sh installs package systemd)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-units-'));
  try {
    copyFileSync(path.join(UNITS, 'ebpf-mcp.socket'), path.join(dir, 'ebpf-mcp.socket'));
    const svc = readFileSync(path.join(UNITS, 'ebpf-mcp.service'), 'utf8');
    assert.ok(svc.includes(`ExecStart=${INSTALLED_BIN} `));
    writeFileSync(path.join(dir, 'ebpf-mcp.service'), svc.replace(`ExecStart=${INSTALLED_BIN} `, `ExecStart=${BIN} `));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'ebpf-mcp.socket'), path.join(dir, 'ebpf-mcp.service')],
      { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'no warning');
    // the check has teeth: a key systemd does not know is reported
    writeFileSync(path.join(dir, 'ebpf-mcp.service'), svc.replace('[Service]\n', '[Service]\nProtectSysten=full\n')
      .replace(`ExecStart=${INSTALLED_BIN} `, `ExecStart=${BIN} `));
    const bad = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'ebpf-mcp.service')], { encoding: 'utf8' });
    assert.match(bad.stderr, /Unknown key 'ProtectSysten'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- running it as systemd would ------------------------------------------------------

// A shell script for `unshare -m`: the service's view of the file system.
// $1 the built binary, $2 an /etc/group with the ebpf-mcp group, $3 the
// directory to show as /var/log/<LogsDirectory>; the rest is the command.
function sandboxScript(u) {
  const logs = `/var/log/${one(u.Service, 'LogsDirectory')}`;
  const logsMode = one(u.Service, 'LogsDirectoryMode');
  assert.equal(one(u.Service, 'ProtectSystem'), 'full');
  assert.equal(one(u.Service, 'ProtectHome'), 'read-only');
  assert.equal(one(u.Service, 'PrivateTmp'), 'yes');
  const ro = (dirs) => dirs.map((d) => `if [ -d ${d} ]; then mount --rbind ${d} ${d} && mount -o remount,bind,ro ${d}; fi`);
  return [
    'set -e',
    'B="$1" G="$2" L="$3"; shift 3',
    // ProtectSystem=full, ProtectHome=read-only
    ...ro(['/usr', '/boot', '/efi', '/etc', '/home', '/root', '/run/user']),
    // the unit's install path holds the built binary; the group file names ebpf-mcp
    `mount -t tmpfs -o mode=0755 tmpfs ${path.dirname(INSTALLED_BIN)}`,
    `touch ${INSTALLED_BIN} && mount --bind "$B" ${INSTALLED_BIN}`,
    'mount --bind "$G" /etc/group',
    // LogsDirectory=
    'mount -t tmpfs -o mode=0755 tmpfs /var/log',
    `mkdir -m ${logsMode} ${logs} && mount --bind "$L" ${logs} && chmod ${logsMode} ${logs}`,
    // PrivateTmp=yes (last: the paths above may be under /tmp)
    'mount -t tmpfs -o mode=1777 tmpfs /tmp',
    'mount -t tmpfs -o mode=1777 tmpfs /var/tmp',
    `umask ${one(u.Service, 'UMask')}`,
    'exec "$@"',
  ].join('\n');
}

function capMask(status, field) {
  return BigInt('0x' + status.match(new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm'))[1]);
}

test('under systemd-socket-activate the service serves the socket systemd made: a member of ebpf-mcp has an observe session; SIGTERM exits 0', async (t) => {
  const which = spawnSync('sh', ['-c', 'command -v systemd-socket-activate'], { encoding: 'utf8' });
  if (which.status !== 0) return t.skip('systemd-socket-activate is not installed (vendor/deps.sh installs package systemd)');
  const u = serviceUnit(), s = socketUnit();
  const pub = publicDir('systemd');            // the client's binary and the socket's directory
  const logs = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-logs-'));
  const sock = path.join(pub.dir, 'ebpf-mcp.sock');
  const groupFile = path.join(pub.dir, 'group');
  const hadRunSock = existsSync('/run/ebpf-mcp.sock');
  writeFileSync(groupFile, readFileSync('/etc/group', 'utf8').split('\n').filter((l) => l && !l.startsWith('ebpf-mcp:'))
    .concat(`ebpf-mcp:x:${GROUP_GID}:`, '').join('\n'));
  chmodSync(groupFile, 0o644);
  const argv = execStart(u);
  const caps = one(u.Service, 'CapabilityBoundingSet').split(/\s+/).map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
  const setpriv = ['setpriv', `--bounding-set=-all,${caps.join(',')}`, '--inh-caps=-all'];
  if (one(u.Service, 'NoNewPrivileges') === 'yes') setpriv.push('--no-new-privs');
  const cmd = [...DIE_WITH_PARENT, 'systemd-socket-activate', '-l', sock,
    'unshare', '-m', '--propagation', 'private', 'sh', '-c', sandboxScript(u), 'sh', BIN, groupFile, logs,
    ...setpriv, ...argv];
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '', exit = null;
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => { exit = { code, sig }; res(exit); }));
  const sessions = [];
  try {
    // the activator binds and listens; nothing has run the daemon yet
    const l = await until('the activator to listen', () => {
      if (exit) throw new Error(`systemd-socket-activate exited ${JSON.stringify(exit)}: ${stderr}`);
      return listening(sock);
    });
    assert.equal(socketInodes(proc.pid).get(3), l.inode, "the activator's fd 3 is the socket");
    assert.match(readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8'), /^systemd-socket-activate\0/);
    // SocketUser/SocketGroup/SocketMode: what systemd would have set on it
    const mode = parseInt(one(s.Socket, 'SocketMode'), 8);
    assert.equal(one(s.Socket, 'SocketGroup'), 'ebpf-mcp');
    chownSync(sock, 0, GROUP_GID);
    chmodSync(sock, mode);
    const ino = statSync(sock).ino;

    // a member of the group: the first connection starts the service
    const m = connectAs(sock, { uid: MEMBER, groups: [GROUP_GID] }, { bin: pub.bin });
    sessions.push(m);
    await Promise.race([m.init(), exited.then((e) => { throw new Error(`exited ${JSON.stringify(e)}: ${stderr}`); })]);
    const info = (await m.ok('info')).server;
    assert.equal(info.mode, 'daemon');
    assert.equal(info.pid, proc.pid, 'the activator exec\'d the daemon: same pid');
    assert.deepEqual(info.caller, { auth: 'peer', uid: MEMBER, gid: MEMBER, pid: m.pid, user: String(MEMBER), profile: 'observe', allow_foreign: false });
    assert.deepEqual(credsOf(m.pid).groups, [GROUP_GID]);

    // /proc: ExecStart's command line, fd 3 the activator's socket, the unit's capabilities
    assert.deepEqual(readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0').slice(0, -1), argv);
    assert.equal(socketInodes(proc.pid).get(3), l.inode, 'the daemon serves the socket it was passed');
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    const want = CAPS.reduce((acc, c) => acc | (1n << BigInt(CAP_BITS[c])), 0n);
    assert.equal(capMask(status, 'CapBnd'), want, 'bounding set');
    assert.equal(capMask(status, 'CapEff'), want, 'effective set');
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    // what observe offers works with these capabilities and this file-system view
    const st = await m.ok('inspect_state', { kinds: ['program'], limit: 1 });
    assert.ok(st.programs.total >= 0);
    await m.ok('list_tracepoints', { category: 'syscalls', limit: 1 });
    // full-profile tools are not offered to the group
    const r = await m.request('tools/call', { name: 'load_program', arguments: { path: '/x.o' } });
    assert.equal(r.error?.code, -32602);

    // SocketMode keeps out a user outside the group; the daemon never sees it
    const out = connectOnce(sock, { uid: OUTSIDER }, { bin: pub.bin, input: script() });
    assert.equal(out.status, 1);
    assert.match(out.stderr, new RegExp(`\\(mode 0660, owner 0:${GROUP_GID}\\) is not open to uid ${OUTSIDER}`));

    assert.deepEqual(await m.close(), { code: 0, sig: null });
    // the audit log went to LogsDirectory
    await until('the session\'s shutdown line', () => auditLines(path.join(logs, 'audit.log')).some((x) => x.event === 'shutdown'));
    const lines = auditLines(path.join(logs, 'audit.log'));
    assert.deepEqual(lines[0].peer, { uid: MEMBER, gid: MEMBER, pid: m.pid, user: String(MEMBER) });
    assert.equal(lines[0].detail, 'profile observe');
    assert.equal(statSync(path.join(logs, 'audit.log')).mode & 0o777, 0o600);

    // systemctl stop: SIGTERM
    proc.kill('SIGTERM');
    assert.deepEqual(await exited, { code: 0, sig: null }, stderr);
    assert.equal(statSync(sock).ino, ino, 'the socket file stays: systemd made it and removes it (RemoveOnStop)');
    assert.equal(existsSync('/run/ebpf-mcp.sock'), hadRunSock, 'the daemon made no socket of its own');
  } finally {
    for (const x of sessions) if (x.child.exitCode === null) x.child.kill('SIGKILL');
    if (!exit) { proc.kill('SIGKILL'); await exited; }
    rmSync(logs, { recursive: true, force: true });
    pub.cleanup();
  }
});

test('LISTEN_FDS meant for another process is ignored: the daemon makes its own socket', async () => {
  const env = { ...process.env, LISTEN_FDS: '1', LISTEN_PID: String(process.pid) };
  const d = await Daemon.start(['--access', `uid:${MEMBER}=observe`, '--socket-mode', '0666'], { env });
  try {
    assert.ok(listening(d.socket), 'listening on --socket');
    const r = connectOnce(d.socket, { uid: MEMBER }, { bin: d.pub.bin, input: script() });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(await d.stop(), { code: 0, sig: null });
    assert.equal(existsSync(d.socket), false, 'its own socket file is removed at exit');
  } finally {
    await d.kill();
  }
});

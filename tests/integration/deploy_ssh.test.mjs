// The ssh recipe (docs/deploy/ssh.md): `ssh host` as a remote stdio
// transport, with a forced command in authorized_keys.
//
// A private sshd runs on 127.0.0.1 at a free port with its own host key,
// config (the recipe's sshd_config lines plus paths into a temp dir) and an
// authorized_keys line built from the recipe's example: its options and
// forced command, with the built binary and a temp audit log in place of the
// installed paths. The client is the recipe's client config (mcp.json): its
// command and args, with the destination swapped for root@127.0.0.1 and the
// test's key, port and host-key options put before it.
//
// Witnesses, all on this host: the server's pid is found in /proc as the
// process running the built binary below the sshd we started (not from the
// server's own output); the smoke suite's tracer check must see that pid
// open a file; the audit log the forced command names records the calls and
// the shutdown at EOF; and after the client closes, that pid is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, rmdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BIN, ensureMounts } from '../lib/mcp.mjs';
import { smoke, SMOKE_CHECKS } from '../lib/smoke.mjs';
import { DEPLOY, INSTALLED_BIN, readJson, spawnServer, serversBelow, waitFor } from '../lib/deploy.mjs';

const SSHD = '/usr/sbin/sshd';
const PRIVSEP_DIR = '/run/sshd';   // compiled into Debian's sshd; the init script makes it
const INSTALLED_AUDIT = '/var/log/ebpf-mcp-audit.log';

let tmp, port, sshd, sshdLog = '', madePrivsep = false;

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

function canConnect(p) {
  return new Promise((res) => {
    const c = net.connect(p, '127.0.0.1');
    c.on('connect', () => { c.destroy(); res(true); });
    c.on('error', () => res(false));
  });
}

// The recipe's authorized_keys line: options (with the forced command) and
// the key type; the example key is replaced by the test's own public key.
function authorizedKeysLine(pubkey) {
  const text = readFileSync(path.join(DEPLOY, 'ssh/authorized_keys.example'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  assert.equal(lines.length, 1, 'authorized_keys.example has one key line');
  const m = lines[0].match(/^(.+) (ssh-ed25519) \S+/);
  assert.ok(m, 'options, then an ed25519 key');
  const options = m[1];
  assert.match(options, /(^|,)restrict(,|$)/, 'the key is restricted (no pty, no forwarding)');
  assert.ok(options.includes(`command="${INSTALLED_BIN} --profile observe`), 'a forced command');
  return options.replace(INSTALLED_BIN, BIN).replace(INSTALLED_AUDIT, path.join(tmp, 'audit.log')) +
    ' ' + pubkey.trim();
}

before(async () => {
  ensureMounts();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-ssh-'));
  for (const k of ['host_key', 'client_key'])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', path.join(tmp, k)]);
  writeFileSync(path.join(tmp, 'authorized_keys'),
    authorizedKeysLine(readFileSync(path.join(tmp, 'client_key.pub'), 'utf8')) + '\n');
  port = await freePort();
  const recipe = readFileSync(path.join(DEPLOY, 'ssh/sshd_config.example'), 'utf8');
  writeFileSync(path.join(tmp, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${tmp}/host_key`, `PidFile ${tmp}/sshd.pid`,
    `AuthorizedKeysFile ${tmp}/authorized_keys`,
    'StrictModes no',          // the temp dir sits under world-writable /tmp
    'UsePAM no', recipe,
  ].join('\n') + '\n');
  if (!existsSync(PRIVSEP_DIR)) { mkdirSync(PRIVSEP_DIR, { mode: 0o755 }); madePrivsep = true; }
  execFileSync(SSHD, ['-t', '-f', path.join(tmp, 'sshd_config')]);
  sshd = spawn(SSHD, ['-D', '-e', '-f', path.join(tmp, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr.on('data', (d) => { sshdLog += d; });
  const deadline = Date.now() + 10000;
  while (!(await canConnect(port))) {
    assert.ok(Date.now() < deadline && sshd.exitCode === null, `sshd did not start: ${sshdLog}`);
    await new Promise((res) => setTimeout(res, 50));
  }
});

after(async () => {
  if (sshd && sshd.exitCode === null) {
    const gone = new Promise((res) => sshd.once('exit', res));
    sshd.kill('SIGTERM');
    await gone;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (madePrivsep) rmdirSync(PRIVSEP_DIR);
});

// The recipe's client entry, pointed at the private sshd. `remote` is an
// optional command line the client asks for (the forced command wins).
function sshArgv(remote = []) {
  const e = readJson('ssh/mcp.json').mcpServers['ebpf-mcp-node1'];
  assert.equal(e.command, 'ssh');
  assert.ok(e.args.includes('-T'), 'no pty: the channel carries bytes unchanged');
  const dest = e.args.at(-1);
  assert.match(dest, /^root@/, 'the destination is the last argument');
  const local = ['-p', String(port), '-i', path.join(tmp, 'client_key'), '-F', '/dev/null',
    '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR'];
  return [...e.args.slice(0, -1), ...local, 'root@127.0.0.1', ...remote];
}

async function session(remote, fn) {
  const { server, exited } = spawnServer('ssh', sshArgv(remote));
  let pid;
  try {
    await server.init();
    // Exactly one server below our sshd: the one this session started.
    pid = await waitFor('the server process below sshd', () => {
      const p = serversBelow(sshd.pid);
      return p.length === 1 ? p[0] : null;
    });
    await fn(server, pid);
  } finally {
    await server.close();
  }
  assert.deepEqual(await exited, { code: 0, sig: null }, `ssh exits 0: ${server.stderr}`);
  if (pid) await waitFor(`server pid ${pid} to exit after EOF`, () => !existsSync(`/proc/${pid}`));
}

test('ssh -T with a forced command: the smoke suite passes over the ssh channel', async () => {
  await session([], async (s, pid) => {
    assert.deepEqual(await smoke(s, { release: os.release(), pid }), SMOKE_CHECKS);
    const info = await s.ok('info');
    assert.equal(info.server.profile, 'observe', 'the profile the forced command names');
  });
  // The audit log named in the forced command, on the traced host.
  const audit = readFileSync(path.join(tmp, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const tools = audit.filter((a) => a.event === 'tool_call').map((a) => a.tool);
  for (const t of ['info', 'list_bpf_program_types', 'get_btf_types', 'list_tracepoints', 'trace_open'])
    assert.ok(tools.includes(t), `audit log records ${t}: ${tools}`);
  const end = audit.at(-1);
  assert.equal(end.event, 'shutdown');
  assert.equal(end.reason, 'eof', 'the server ended because the ssh channel closed its stdin');
});

test('the forced command wins over the command a client asks for', async () => {
  await session(['/bin/sh', '-c', 'echo not-mcp'], async (s, pid) => {
    const info = await s.ok('info');
    assert.equal(info.server.pid, pid);
    assert.equal(info.server.profile, 'observe');
  });
});

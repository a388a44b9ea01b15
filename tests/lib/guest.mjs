// Boots the appliance under qemu (TCG: this machine's /dev/kvm cannot run a
// guest) and speaks MCP to it over a virtio serial port.
//
// The pieces come from `make guest` (initramfs/initramfs.mk): the pinned
// Debian kernel's uncompressed vmlinux, booted through its PVH entry, and
// build/guest/initramfs.cpio (the binary as /init plus the virtio console
// modules). qemu connects the port to a unix socket this process listens on
// before qemu starts, so the guest never finds its port without a client.
// The kernel console (ttyS0) goes to a file: it must never reach the port.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILD, Server } from './mcp.mjs';

export const GUEST = path.join(BUILD, 'guest');
export const GUEST_RELEASE = () => readFileSync(path.join(GUEST, 'release'), 'utf8').trim();
export const PORT_NAME = 'ebpf-mcp';   // the virtio port's name, mcp_port= in the guest
const BOOT_TIMEOUT_MS = 120000;   // TCG boots in seconds; a loaded CI host is slower

// The MCP channel: a virtio serial port (flow-controlled, reads end of file
// when the host side closes), or with port 'ttyS1' the second 8250 UART.
function channel(port, sock) {
  if (port.startsWith('tty'))
    return ['-chardev', `socket,id=mcp,path=${sock}`, '-serial', 'chardev:mcp'];
  return ['-device', 'virtio-serial-pci', '-chardev', `socket,id=mcp,path=${sock}`,
    '-device', `virtserialport,chardev=mcp,name=${port}`];
}

// A UART echoes what it receives until the guest sets it raw, so nothing is
// written to a tty port before init says on the console that it serves.
async function untilServing(guest, exited) {
  let done = false;
  exited.then(() => { done = true; });
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  while (!/ebpf-mcp init: serving MCP/.test(guest.userConsole())) {
    if (done || Date.now() > deadline) throw new Error('init never said it serves');
    await new Promise((res) => setTimeout(res, 50));
  }
}

// args: server options, passed after `--` on the kernel command line;
// port: mcp_port= for the guest (a tty name puts the channel on that UART;
// any other name still gets the virtio port named PORT_NAME); append: more
// kernel command-line words.
export async function startGuest({ args = [], port = PORT_NAME, append = [], memMiB = 768 } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-guest-'));
  const sock = path.join(dir, 'mcp.sock');
  const consoleLog = path.join(dir, 'console.log');
  const listener = net.createServer();
  await new Promise((res) => listener.listen(sock, res));
  const connected = new Promise((res) => listener.once('connection', res));
  const t0 = Date.now();
  const qemu = spawn('qemu-system-x86_64', [
    '-accel', 'tcg', '-m', String(memMiB), '-smp', '1', '-nodefaults', '-no-user-config',
    '-display', 'none', '-no-reboot',
    '-kernel', path.join(GUEST, 'vmlinux'), '-initrd', path.join(GUEST, 'initramfs.cpio'),
    '-append', ['console=ttyS0', 'panic=-1', `mcp_port=${port}`, ...append, '--', ...args].join(' '),
    '-serial', `file:${consoleLog}`, ...channel(port.startsWith('tty') ? port : PORT_NAME, sock),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let qemuErr = '';
  qemu.stderr.on('data', (d) => { qemuErr += d; });
  const exited = new Promise((res) => qemu.on('exit', (code, sig) => res({ code, sig })));
  const conn = await Promise.race([connected, exited.then((e) => {
    throw new Error(`qemu exited (${JSON.stringify(e)}) before connecting: ${qemuErr}`);
  })]);
  const raw = [];   // every byte the guest sent on its port, for the noise check
  conn.on('data', (d) => raw.push(String(d)));
  const server = new Server([], { transport: { input: conn, output: conn, exited, end: () => conn.end() } });
  const guest = {
    server, qemu, exited, t0, dir, port, listener,
    console: () => { try { return readFileSync(consoleLog, 'utf8'); } catch { return ''; } },
    // What init and the server said, without the kernel's lines: printk can
    // land in the middle of a line userspace writes to the same UART.
    userConsole: () => guest.console().replace(/\[\s*\d+\.\d+\] [^\n]*\n/g, ''),
    portText: () => raw.join(''),
    async kill() {
      qemu.kill('SIGKILL');
      await exited;
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return guest;
}

// startGuest, then initialize: resolves once the guest has answered.
export async function bootGuest(opts) {
  const guest = await startGuest(opts);
  const { server, exited, t0 } = guest;
  try {
    if (guest.port.startsWith('tty')) await untilServing(guest, exited);
    const init = await server.request('initialize', {
      protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'tests', version: '1' },
    }, { timeoutMs: BOOT_TIMEOUT_MS });
    guest.firstReplyMs = Date.now() - t0;
    guest.init = init;
    server.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  } catch (e) {
    const text = guest.console();
    await guest.kill();
    throw new Error(`${e.message}\nguest console:\n${text.slice(-3000)}`);
  }
  guest.listener.close();
  return guest;
}

// A small Chrome DevTools Protocol client for Debian's chromium, headless,
// over --remote-debugging-pipe (the browser reads commands on fd 3 and
// writes replies and events on fd 4, each a JSON message ended by a NUL):
// no WebSocket, no downloaded browser. Used to render the MCP Apps in a
// test host page, watch every request and console message, click, and
// take screenshots.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const COMMAND_TIMEOUT_MS = 30000;

export function chromiumPath() {
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (spawnSync(p, ['--version'], { encoding: 'utf8' }).status === 0) return p;
  }
  return null;
}

export class Browser {
  constructor(proc, dir) {
    this.proc = proc;
    this.dir = dir;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Map();   // "sessionId method" -> [fn]
    this.stderr = '';
    let buf = Buffer.alloc(0);
    proc.stdio[4].on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (let z; (z = buf.indexOf(0)) >= 0; buf = buf.subarray(z + 1)) this.dispatch(JSON.parse(buf.subarray(0, z).toString('utf8')));
    });
    proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
    this.exited = new Promise((res) => proc.once('exit', res));
  }

  dispatch(m) {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error) p.reject(new Error(`${p.method}: ${m.error.message}${m.error.data ? ` (${m.error.data})` : ''}`));
      else p.resolve(m.result);
      return;
    }
    for (const fn of this.listeners.get(`${m.sessionId ?? ''} ${m.method}`) ?? []) fn(m.params, m.sessionId);
    for (const fn of this.listeners.get(`* ${m.method}`) ?? []) fn(m.params, m.sessionId);
  }

  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    const msg = { id, method, params, ...(sessionId ? { sessionId } : {}) };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer, method });
      this.proc.stdio[3].write(`${JSON.stringify(msg)}\0`);
    });
  }

  // fn(params, sessionId) for each event `method` of one session ('*': all).
  on(method, fn, sessionId = '*') {
    const k = `${sessionId} ${method}`;
    if (!this.listeners.has(k)) this.listeners.set(k, []);
    this.listeners.get(k).push(fn);
  }

  async newPage({ width = 1100, height = 800 } = {}) {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId, targetId);
    await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    return page;
  }

  async close() {
    this.send('Browser.close').catch(() => {});
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(killer);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class Page {
  constructor(browser, sessionId, targetId) {
    Object.assign(this, { browser, sessionId, targetId });
  }

  send(method, params = {}) {
    return this.browser.send(method, params, this.sessionId);
  }

  on(method, fn) {
    this.browser.on(method, fn, this.sessionId);
  }

  // The value of a JS expression (awaited when it is a promise), in the
  // page or in an execution context (a frame's world).
  async evaluate(expression, contextId) {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true, ...(contextId ? { contextId } : {}) });
    if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  }

  async click(x, y) {
    for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased'])
      await this.send('Input.dispatchMouseEvent', { type, x, y, button: type === 'mouseMoved' ? 'none' : 'left', clickCount: 1 });
  }

  async hover(x, y) {
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y, button: 'none' });
  }

  async screenshot() {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    return Buffer.from(data, 'base64');
  }
}

// Starts chromium headless with nothing of its own going to the network
// (no component updates, sync, safe browsing...). All frames share the
// page's process, so one session sees the app's frame too.
export async function launch() {
  const bin = chromiumPath();
  if (!bin) throw new Error('chromium is not installed (vendor/deps.sh installs Debian\'s chromium)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-chromium-'));
  const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe', `--user-data-dir=${dir}`,
    '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-domain-reliability',
    '--disable-client-side-phishing-detection', '--safebrowsing-disable-auto-update', '--metrics-recording-only',
    '--no-pings', '--mute-audio', '--hide-scrollbars', '--disable-site-isolation-trials',
    '--disable-features=IsolateSandboxedIframes,IsolateOrigins,site-per-process,Translate,OptimizationHints,MediaRouter',
    '--font-render-hinting=none', 'about:blank'];
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const b = new Browser(proc, dir);
  const early = await Promise.race([b.send('Browser.getVersion').then(() => null), b.exited.then((c) => c ?? 'signal')]);
  if (early !== null) throw new Error(`chromium exited (${early}): ${b.stderr}`);
  return b;
}

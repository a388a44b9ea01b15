// A test host for the MCP Apps: a local HTTP server gives the host page
// (apps_host.html, which uses the extension's own AppBridge) and the npm
// modules it imports; chromium (tests/lib/cdp.mjs) renders it. Every request
// is paused and only the host page's own, to this server, goes on: any
// other (from the app's frame, or to anywhere else) is failed and recorded,
// as is every console error and uncaught exception, in any frame.
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './cdp.mjs';
import { BUILD } from './mcp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const MODULES = realpathSync(path.join(here, '../node_modules'));
export const SHOTS = path.join(BUILD, 'test/apps');   // screenshots

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json' };

function serve() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = null;
    if (url.pathname === '/host.html') file = path.join(here, 'apps_host.html');
    else if (url.pathname.startsWith('/nm/')) {
      const f = path.resolve(MODULES, `.${decodeURIComponent(url.pathname.slice(3))}`);
      if (f.startsWith(`${MODULES}/`) && TYPES[path.extname(f)] && statSync(f, { throwIfNoEntry: false })?.isFile()) file = f;
    }
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)], 'cache-control': 'no-store' }).end(readFileSync(file));
  });
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res(server)));
}

export async function startHost() {
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launch();
  const page = await browser.newPage();
  const seen = { requests: [], blocked: [], console: [], exceptions: [], log: [] };
  let mainFrame = null, onToolCall = null;

  page.on('Network.requestWillBeSent', (p) => seen.requests.push({ url: p.request.url, frameId: p.frameId }));
  page.on('Fetch.requestPaused', (p) => {
    const own = p.request.url.startsWith(`${origin}/`) && p.frameId === mainFrame;
    if (own) return page.send('Fetch.continueRequest', { requestId: p.requestId }).catch(() => {});
    seen.blocked.push({ url: p.request.url, frameId: p.frameId });
    return page.send('Fetch.failRequest', { requestId: p.requestId, errorReason: 'BlockedByClient' }).catch(() => {});
  });
  page.on('Runtime.consoleAPICalled', (p) => {
    if (p.type === 'error' || p.type === 'assert' || p.type === 'warning')
      seen.console.push({ type: p.type, text: p.args.map((a) => a.value ?? a.description).join(' ') });
  });
  page.on('Runtime.exceptionThrown', (p) => seen.exceptions.push(p.exceptionDetails.exception?.description ?? p.exceptionDetails.text));
  page.on('Log.entryAdded', (p) => { if (p.entry.level === 'error' || p.entry.level === 'warning') seen.log.push(p.entry); });
  page.on('Runtime.bindingCalled', async (p) => {
    if (p.name !== 'hostCallTool') return;
    const { id, params } = JSON.parse(p.payload);
    try {
      const result = await onToolCall(params);
      await page.evaluate(`window.host.reply(${id}, ${JSON.stringify(result)})`);
    } catch (e) {
      await page.evaluate(`window.host.fail(${id}, ${JSON.stringify(e.message)})`);
    }
  });
  for (const d of ['Page', 'Runtime', 'Network', 'Log']) await page.send(`${d}.enable`);
  await page.send('Fetch.enable', { patterns: [{ urlPattern: '*' }] });
  await page.send('Runtime.addBinding', { name: 'hostCallTool' });
  mainFrame = (await page.send('Page.getFrameTree')).frameTree.frame.id;
  await page.send('Page.navigate', { url: `${origin}/host.html` });
  for (let i = 0; i < 100 && !(await page.evaluate('window.hostReady === true').catch(() => false)); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await page.evaluate('window.hostReady === true'))) throw new Error(`the host page did not load: ${JSON.stringify(seen)}`);
  mkdirSync(SHOTS, { recursive: true });

  let appContext = null, appFrame = null;
  const host = {
    page, browser, seen, origin,
    set onToolCall(fn) { onToolCall = fn; },
    // Hands the app the tool, its resources/read content, arguments and result.
    async show(show) {
      const app = await page.evaluate(`window.host.show(${JSON.stringify(show)})`);
      const tree = (await page.send('Page.getFrameTree')).frameTree;
      appFrame = tree.childFrames?.[0]?.frame.id;
      if (!appFrame) throw new Error('no app frame');
      ({ executionContextId: appContext } = await page.send('Page.createIsolatedWorld', { frameId: appFrame, worldName: 'checks' }));
      return app;
    },
    // An expression evaluated against the app's DOM (an isolated world of its frame).
    inApp: (expr) => page.evaluate(expr, appContext),
    // Waits until expr (in the app's DOM) is truthy.
    async until(what, expr, ms = 15000) {
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50)))
        if (await host.inApp(expr)) return;
      throw new Error(`${what}: not within ${ms} ms`);
    },
    // Page coordinates of a point given in the app's own coordinates.
    async toPage(x, y) {
      const r = await page.evaluate('(() => { const b = document.querySelector("iframe").getBoundingClientRect(); return [b.left, b.top]; })()');
      return [r[0] + x, r[1] + y];
    },
    async click(x, y) { await page.click(...(await host.toPage(x, y))); },
    async hover(x, y) { await page.hover(...(await host.toPage(x, y))); },
    async shot(name) {
      const file = path.join(SHOTS, `${name}.png`);
      writeFileSync(file, await page.screenshot());
      return file;
    },
    hostLog: () => page.evaluate('window.host.log'),
    appFrame: () => appFrame,
    // What should never happen: console errors or warnings, exceptions, a
    // request that was not the host page's own.
    problems() {
      const foreign = seen.requests.filter((r) => !r.url.startsWith('data:') && (!r.url.startsWith(`${origin}/`) || r.frameId !== mainFrame));
      return { console: seen.console, exceptions: seen.exceptions, log: seen.log, blocked: seen.blocked, foreign };
    },
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
  return host;
}

// Helpers for the HTTP tests: start `ebpf-mcp serve --http 127.0.0.1:0`,
// learn its port from the line it always prints on stderr, talk to it with
// fetch (both MCP eras) or with raw bytes over TCP (hostile input), and read
// server-sent event streams.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BIN } from './mcp.mjs';
import { DaemonProcess, DIE_WITH_PARENT, until } from './daemon.mjs';

export const MODERN = '2026-07-28';
export const LEGACY = '2025-11-25';
export const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const ACCEPT = 'application/json, text/event-stream';

// A 0700 temp directory with a 0600 token file of `name token profile` lines
// (tokens: [{ name, token, profile }]). Returns { dir, file, cleanup }.
export function tokenFile(tokens) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-tokens-'));
  chmodSync(dir, 0o700);
  const file = path.join(dir, 'tokens');
  writeFileSync(file, tokens.map((t) => `${t.name} ${t.token} ${t.profile}\n`).join(''), { mode: 0o600 });
  chmodSync(file, 0o600);
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export class HttpDaemon extends DaemonProcess {
  // Starts `BIN serve --http ADDR --validate-output ...args` (ADDR default
  // 127.0.0.1:0) and waits for its "serving MCP over HTTP on URL" line.
  static async start(args = [], { addr = '127.0.0.1:0', bin = BIN, env, validate = true } = {}) {
    const d = new HttpDaemon();
    d.spawn([...DIE_WITH_PARENT, bin, 'serve', '--http', addr, ...(validate ? ['--validate-output'] : []), ...args], env);
    try {
      const m = await until('the daemon to say its HTTP address', () => {
        if (d.exit) throw new Error(`the daemon exited (${JSON.stringify(d.exit)}) before listening: ${d.stderr}`);
        return d.stderr.match(/serving MCP over HTTP on (http:\/\/(\S+?):(\d+)\/mcp)/);
      });
      d.url = m[1];
      d.host = m[2];
      d.port = Number(m[3]);
      d.base = `http://${d.host}:${d.port}`;
    } catch (e) {
      await d.kill();
      throw e;
    }
    return d;
  }

  // POSTs one JSON-RPC message to /mcp. headers are added to the defaults
  // (Content-Type, Accept); a modern message gets MCP-Protocol-Version,
  // Mcp-Method and Mcp-Name from its body unless given. Returns
  // { status, headers, text, json (for application/json), events (for SSE) }.
  async post(msg, headers = {}, { token, raw } = {}) {
    const h = { 'content-type': 'application/json', accept: ACCEPT, ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const v = msg?.params?._meta?.[META_VERSION];
    if (v && !raw) {
      h['mcp-protocol-version'] = v;
      h['mcp-method'] = msg.method;
      const name = msg.method === 'resources/read' ? msg.params.uri
        : (msg.method === 'tools/call' || msg.method === 'prompts/get') ? msg.params.name : undefined;
      if (name !== undefined) h['mcp-name'] = name;
    }
    Object.assign(h, headers);
    for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
    const res = await fetch(this.url, { method: 'POST', headers: h, body: typeof msg === 'string' ? msg : JSON.stringify(msg) });
    return readResponse(res);
  }

  async get(pathname, headers = {}) {
    const res = await fetch(this.base + pathname, { headers });
    return readResponse(res);
  }
}

export async function readResponse(res) {
  const text = await res.text();
  const out = { status: res.status, headers: Object.fromEntries(res.headers), text };
  const ct = res.headers.get('content-type') ?? '';
  if (ct.startsWith('application/json') && text) out.json = JSON.parse(text);
  if (ct.startsWith('text/event-stream')) out.events = parseSse(text);
  return out;
}

// The data of each `event: message` in an SSE body, parsed as JSON
// (comments and keep-alives skipped).
export function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart());
    if (data.length) events.push(JSON.parse(data.join('\n')));
  }
  return events;
}

// A modern-era message: _meta names the protocol version and the client's
// capabilities (both required in every 2026-07-28 request; none declared).
export const META_CAPS = 'io.modelcontextprotocol/clientCapabilities';
export function modern(id, method, params = {}) {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: { [META_VERSION]: MODERN, [META_CAPS]: {}, ...(params._meta ?? {}) } } };
}

// Sends raw bytes over TCP and collects everything the server sends until
// it closes or idleMs pass without data. Returns { data, closed }.
export function rawExchange(port, bytes, { idleMs = 1000, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ port, host });
    let data = Buffer.alloc(0);
    let timer = null;
    const done = (closed) => { clearTimeout(timer); sock.destroy(); resolve({ data: data.toString('latin1'), closed }); };
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => done(false), idleMs); };
    sock.on('connect', () => { if (bytes.length) sock.write(bytes); arm(); });
    sock.on('data', (d) => { data = Buffer.concat([data, d]); arm(); });
    sock.on('end', () => done(true));
    sock.on('close', () => done(true));
    sock.on('error', (e) => (e.code === 'ECONNRESET' ? done(true) : reject(e)));
  });
}

// The status code of the first response in raw bytes, or null.
export function firstStatus(data) {
  const m = data.match(/^HTTP\/1\.1 (\d{3}) /);
  return m ? Number(m[1]) : null;
}

// A fetch for an SDK client transport's `fetch` option that records each
// exchange: the request's method, headers (lower-case names) and JSON body,
// the response's status, content type and Mcp-Session-Id, and for an event
// stream its text as it arrives (`sse`) and `ended` once the server closed
// it. The responses the client gets are the server's, byte for byte.
export function tapFetch(base = fetch) {
  const log = [];
  const tapped = async (url, init = {}) => {
    const e = { method: init.method ?? 'GET', headers: Object.fromEntries(new Headers(init.headers)) };
    try { e.body = JSON.parse(init.body); } catch { e.body = init.body; }
    log.push(e);
    const res = await base(url, init);
    e.status = res.status;
    e.contentType = res.headers.get('content-type') ?? '';
    e.sessionId = res.headers.get('mcp-session-id');
    if (!e.contentType.startsWith('text/event-stream') || !res.body) return res;
    e.sse = '';
    e.ended = false;
    const dec = new TextDecoder();
    const body = res.body.pipeThrough(new TransformStream({
      transform(chunk, ctl) { e.sse += dec.decode(chunk, { stream: true }); ctl.enqueue(chunk); },
      flush() { e.ended = true; },
    }));
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return { fetch: tapped, log };
}

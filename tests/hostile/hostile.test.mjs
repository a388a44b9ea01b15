// Hostile input: every file in tests/corpus (expectations in
// tests/corpus/manifest.json), then generated abuse — a 40 MiB line, limits
// just under/at/over, thousands of pipelined requests, byte-at-a-time and
// random chunking, mutation fuzz. One server takes all of it in sequence;
// after every case it must still answer `ping`, and each bad line must get
// exactly the replies expected (one error naming the right code, and the
// limit when a limit was hit — never a crash, never a second reply).
//
// Peak RSS (VmHWM in /proc/<pid>/status, read before stdin is closed) of
// every server started here must stay under 16 MiB; the figures are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from '../lib/mcp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CORPUS = path.join(here, '../corpus');
const MIB = 1024 * 1024;
const RSS_MAX_KIB = 16 * 1024;
let LIMITS;   // the caps in force, as `info` reports them (the defaults here)

const rss = [];   // { what, kib }

function vmhwmKiB(pid) {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmHWM in /proc/<pid>/status');
  return Number(m[1]);
}

async function closeMeasured(s, what) {
  rss.push({ what, kib: vmhwmKiB(s.proc.pid) });
  const { code, sig } = await s.close();
  assert.equal(sig, null, `${what}: killed by ${sig}\n${s.stderr}`);
  assert.equal(code, 0, `${what}: exit status\n${s.stderr}`);
}

// Writes with backpressure, so 40 MiB does not pile up in this process.
async function write(s, data) {
  if (!s.proc.stdin.write(data)) await once(s.proc.stdin, 'drain');
}

let pings = 0;
// Sends data (a whole line, or the rest of one) then a ping; returns the
// replies that came before the ping's, which proves the server is alive.
async function exchange(s, data) {
  const start = s.lines.length;
  await write(s, data);
  const id = `ping-${++pings}`;
  const pong = await s.request('ping', undefined, { id, timeoutMs: 30000 });
  assert.deepEqual(pong, { jsonrpc: '2.0', id, result: {} }, 'server answers ping afterwards');
  const end = s.lines.indexOf(pong);
  return s.lines.slice(start, end).filter((m) => m.method !== 'notifications/message');
}

function assertError(reply, code, { id = null, limit, value } = {}) {
  assert.equal(reply.jsonrpc, '2.0');
  assert.deepEqual(reply.id, id);
  assert.equal(reply.result, undefined);
  assert.equal(reply.error.code, code, reply.error.message);
  assert.equal(typeof reply.error.message, 'string');
  assert.ok(reply.error.message.length > 0 && reply.error.message.length < 1024, 'a bounded message');
  if (limit) {
    assert.equal(reply.error.data?.limit, limit, `names the ${limit} limit`);
    // a tunable cap is named in the message, with how to raise it
    if (LIMITS[limit] !== undefined) assert.ok(reply.error.message.includes(limit), 'the message names the limit');
    if (value !== undefined) assert.equal(reply.error.data.value, value);
  }
}

let s;
before(async () => {
  s = new Server([]);
  await s.init();
  LIMITS = (await s.ok('info', {})).limits;
  assert.equal(LIMITS.request_bytes, MIB, 'the tests below assume the default request_bytes');
});
after(async () => {
  if (s.proc.exitCode === null) await s.close();
});

// ---- the corpus ------------------------------------------------------------------

const manifest = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8'));

test('the corpus manifest names every file, and only files that exist', () => {
  const listed = Object.keys(manifest).sort();
  assert.ok(listed.length >= 40, `${listed.length} corpus files`);
  for (const f of listed) assert.ok(readFileSync(path.join(CORPUS, f)).length > 0, f);
});

for (const [file, want] of Object.entries(manifest)) {
  test(`corpus ${file}: ${want.why}`, async () => {
    const bytes = readFileSync(path.join(CORPUS, file));
    assert.ok(!bytes.includes(0x0a), 'a corpus input is one line');
    const replies = await exchange(s, Buffer.concat([bytes, Buffer.from('\n')]));
    if (want.none) {
      assert.equal(replies.length, 0, JSON.stringify(replies));
      return;
    }
    assert.equal(replies.length, 1, `exactly one reply: ${JSON.stringify(replies).slice(0, 500)}`);
    const r = replies[0];
    if (want.code) {
      assertError(r, want.code, { id: want.id, limit: want.limit, value: LIMITS[want.limit] });
      if (want.message) assert.ok(r.error.message.includes(want.message), `the message names ${want.message}: ${r.error.message}`);
    } else if (want.result) {
      assert.deepEqual(r, { jsonrpc: '2.0', id: want.id, result: {} });
    } else if (want.isError) {
      assert.deepEqual(r.id, want.id);
      assert.equal(r.result.isError, true);
      assert.equal(r.result.structuredContent.error.code, 'SCHEMA');
      assert.deepEqual(JSON.parse(r.result.content[0].text), r.result.structuredContent);
    } else {
      assert.fail(`manifest entry for ${file} expects nothing testable`);
    }
  });
}

// ---- request_bytes ----------------------------------------------------------------

// A ping padded to exactly n bytes (without the newline).
function pingOfBytes(n, id = 1) {
  const head = `{"jsonrpc":"2.0","id":${id},"method":"ping","params":{"pad":"`;
  const tail = '"}}';
  return head + 'x'.repeat(n - head.length - tail.length) + tail;
}

test('a 40 MiB line sent in chunks: one request_bytes error, the rest discarded', async () => {
  const head = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"';
  const chunk = 'y'.repeat(MIB);
  const start = s.lines.length;
  await write(s, head);
  for (let k = 0; k < 40; k++) await write(s, chunk);
  // the refusal may arrive while the line is still being sent
  const early = s.lines.slice(start);
  const replies = await exchange(s, '"}}\n');
  const all = [...early, ...replies];
  assert.equal(all.length, 1, `one reply for the whole line: ${JSON.stringify(all).slice(0, 500)}`);
  assertError(all[0], -32600, { limit: 'request_bytes', value: MIB });
  assert.match(all[0].error.message, /--limit request_bytes=N/);
});

test('request_bytes: a line of 1 MiB - 1 and of exactly 1 MiB is served, 1 MiB + 1 is refused', async () => {
  for (const n of [MIB - 1, MIB]) {
    const line = pingOfBytes(n, n);
    assert.equal(Buffer.byteLength(line), n);
    const replies = await exchange(s, line + '\n');
    assert.deepEqual(replies, [{ jsonrpc: '2.0', id: n, result: {} }], `${n} bytes`);
  }
  const replies = await exchange(s, pingOfBytes(MIB + 1) + '\n');
  assert.equal(replies.length, 1);
  assertError(replies[0], -32600, { limit: 'request_bytes', value: MIB });
  // CRLF: the CR counts toward the line, and is then dropped
  const crlf = await exchange(s, pingOfBytes(MIB - 1, 7) + '\r\n');
  assert.deepEqual(crlf, [{ jsonrpc: '2.0', id: 7, result: {} }]);
});

test('request_bytes at its minimum (4096): just under, at and over', async () => {
  const t = new Server(['--limit', 'request_bytes=4096']);
  try {
    await t.init();
    for (const n of [4095, 4096]) {
      const replies = await exchange(t, pingOfBytes(n, n) + '\n');
      assert.deepEqual(replies, [{ jsonrpc: '2.0', id: n, result: {} }]);
    }
    for (const n of [4097, 8192, 8193, 3 * 4097]) {
      const replies = await exchange(t, pingOfBytes(n) + '\n');
      assert.equal(replies.length, 1, `${n} bytes: ${JSON.stringify(replies)}`);
      assertError(replies[0], -32600, { limit: 'request_bytes', value: 4096 });
    }
    // an over-long line followed at once by a good one in the same write
    const replies = await exchange(t, pingOfBytes(5000) + '\n' + pingOfBytes(100, 9) + '\n');
    assert.equal(replies.length, 2);
    assertError(replies[0], -32600, { limit: 'request_bytes' });
    assert.deepEqual(replies[1], { jsonrpc: '2.0', id: 9, result: {} });
  } finally {
    await closeMeasured(t, 'request_bytes=4096 server');
  }
});

// ---- json_tokens and json_depth ---------------------------------------------------

// jsmn tokens of a JSON value: one per value, plus one per object key.
function tokens(v) {
  if (Array.isArray(v)) return 1 + v.reduce((a, x) => a + tokens(x), 0);
  if (v && typeof v === 'object') return 1 + Object.values(v).reduce((a, x) => a + 1 + tokens(x), 0);
  return 1;
}

function pingWithTokens(n, id) {
  const msg = { jsonrpc: '2.0', id, method: 'ping', params: { a: [] } };
  const fixed = tokens(msg);
  msg.params.a = new Array(n - fixed).fill(0);
  assert.equal(tokens(msg), n);
  return JSON.stringify(msg);
}

test('json_tokens: 32767 and 32768 tokens are served, 32769 is refused', async () => {
  const lim = LIMITS.json_tokens;
  for (const n of [lim - 1, lim]) {
    const replies = await exchange(s, pingWithTokens(n, n) + '\n');
    assert.deepEqual(replies, [{ jsonrpc: '2.0', id: n, result: {} }], `${n} tokens`);
  }
  const replies = await exchange(s, pingWithTokens(lim + 1, 1) + '\n');
  assert.equal(replies.length, 1);
  assertError(replies[0], -32600, { limit: 'json_tokens', value: lim });
});

test('json_tokens at its minimum (64): just under, at and over', async () => {
  const t = new Server(['--limit', 'json_tokens=64', '--validate-output']);
  try {
    // initialize itself needs only a few tokens
    await t.init();
    for (const n of [63, 64]) {
      const replies = await exchange(t, pingWithTokens(n, n) + '\n');
      assert.deepEqual(replies, [{ jsonrpc: '2.0', id: n, result: {} }]);
    }
    const replies = await exchange(t, pingWithTokens(65, 1) + '\n');
    assertError(replies[0], -32600, { limit: 'json_tokens', value: 64 });
  } finally {
    await closeMeasured(t, 'json_tokens=64 server');
  }
});

// A ping whose params nest arrays so the whole request is `depth` deep.
function pingOfDepth(depth, id) {
  const inner = depth - 2;   // the request object and params are two levels
  return `{"jsonrpc":"2.0","id":${id},"method":"ping","params":{"a":${'['.repeat(inner)}${']'.repeat(inner)}}}`;
}

test('json_depth: 63 and 64 levels are served, 65 is refused', async () => {
  const lim = LIMITS.json_depth;
  for (const d of [lim - 1, lim]) {
    const replies = await exchange(s, pingOfDepth(d, d) + '\n');
    assert.deepEqual(replies, [{ jsonrpc: '2.0', id: d, result: {} }], `depth ${d}`);
  }
  const replies = await exchange(s, pingOfDepth(lim + 1, 1) + '\n');
  assertError(replies[0], -32600, { limit: 'json_depth', value: lim });
});

test('json_depth at its hard maximum (1024): 1024 served, 1025 refused', async () => {
  const t = new Server(['--limit', 'json_depth=1024']);
  try {
    await t.init();
    const ok = await exchange(t, pingOfDepth(1024, 1) + '\n');
    assert.deepEqual(ok, [{ jsonrpc: '2.0', id: 1, result: {} }]);
    const bad = await exchange(t, pingOfDepth(1025, 1) + '\n');
    assertError(bad[0], -32600, { limit: 'json_depth', value: 1024 });
    const deep = await exchange(t, pingOfDepth(100000, 1) + '\n');
    assertError(deep[0], -32600, { limit: 'json_depth', value: 1024 });
  } finally {
    await closeMeasured(t, 'json_depth=1024 server');
  }
});

// ---- volume and framing -------------------------------------------------------------

test('5000 pipelined requests in one write are answered once each, in order', async () => {
  const N = 5000;
  let text = '';
  for (let k = 0; k < N; k++) {
    if (k % 500 === 250) text += '{"broken\n';                 // an error in between
    text += JSON.stringify({ jsonrpc: '2.0', id: k, method: k % 100 === 99 ? 'tools/list' : 'ping' }) + '\n';
  }
  const replies = await exchange(s, text);
  assert.equal(replies.length, N + N / 500);
  let k = 0;
  for (const r of replies) {
    if (r.id === null) {
      assert.equal(r.error.code, -32700);
      continue;
    }
    assert.equal(r.id, k, 'in order');
    if (k % 100 === 99) assert.ok(Array.isArray(r.result.tools));
    else assert.deepEqual(r.result, {});
    k++;
  }
  assert.equal(k, N);
});

test('requests split at every byte boundary and in random chunks are reassembled', async () => {
  // one byte per write, with the event loop turning in between
  const line = JSON.stringify({ jsonrpc: '2.0', id: 'slow', method: 'ping' }) + '\n';
  const start = s.lines.length;
  for (const b of Buffer.from(line)) {
    await write(s, Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  await exchange(s, '');
  assert.deepEqual(s.lines.slice(start).filter((m) => m.id === 'slow'), [{ jsonrpc: '2.0', id: 'slow', result: {} }]);
  // 300 requests written in random-sized chunks (deterministic PRNG)
  let seed = 42;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const all = Buffer.from(Array.from({ length: 300 },
    (_, k) => JSON.stringify({ jsonrpc: '2.0', id: k, method: 'ping', params: { p: 'z'.repeat(rnd(3000)) } }) + '\n').join(''));
  const before2 = s.lines.length;
  for (let off = 0; off < all.length;) {
    const n = 1 + rnd(9000);
    await write(s, all.subarray(off, off + n));
    off += n;
  }
  await exchange(s, '');
  const mine = s.lines.slice(before2).filter((m) => typeof m.id === 'number');
  assert.deepEqual(mine.map((m) => m.id), Array.from({ length: 300 }, (_, k) => k));
  assert.ok(mine.every((m) => m.result && !m.error));
});

test('mutation fuzz: 3000 corrupted requests get at most one reply each, all well formed', async () => {
  const seedLines = [
    '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    '{"jsonrpc":"2.0","id":"x","method":"tools/list","params":{"cursor":"0"}}',
    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"info","arguments":{}}}',
    '{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"warning"}}',
    '{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}',
  ];
  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const alphabet = Buffer.from('{}[]",:\\u0123456789abcdeftrunl \t\r\x00\x01\x7f\xc0\xe2\xed\xf4\xff-+.eE/');
  const N = 3000;
  const lines = [];
  for (let k = 0; k < N; k++) {
    const b = Buffer.from(seedLines[k % seedLines.length]);
    const flips = 1 + rnd(4);
    for (let f = 0; f < flips; f++) {
      const op = rnd(3);
      const at = rnd(b.length);
      if (op === 0) b[at] = alphabet[rnd(alphabet.length)];
      else if (op === 1) b[at] = 0x20;
      else b.fill(alphabet[rnd(alphabet.length)], at, Math.min(b.length, at + rnd(8)));
    }
    // the mutation must not create a line break (one line per case)
    for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) b[i] = 0x20;
    lines.push(b);
  }
  const replies = await exchange(s, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  assert.ok(replies.length <= N, `${replies.length} replies for ${N} lines`);
  assert.ok(replies.length > N / 2, 'most corrupted lines are answered');
  for (const r of replies) {
    assert.equal(r.jsonrpc, '2.0');
    assert.ok((r.result === undefined) !== (r.error === undefined), 'result xor error');
    if (r.error) assert.ok([-32700, -32600, -32601, -32602].includes(r.error.code), JSON.stringify(r.error));
  }
  // the session may have been re-initialized or its log level changed by the
  // fuzz; it must still work as before
  const info = await s.ok('info', {});
  assert.equal(info.server.name, 'ebpf-mcp');
});

test('stdin closing in the middle of a line: that line is still answered, exit 0', async () => {
  const t = new Server([]);
  await t.init();
  const got = t.nextLine();
  t.proc.stdin.end('{"jsonrpc":"2.0","id":"last","method":"ping"}');   // no newline
  assert.deepEqual(await got, { jsonrpc: '2.0', id: 'last', result: {} });
  const { code } = await t.exited;
  assert.equal(code, 0);
  const u = new Server([]);
  await u.init();
  const err = u.nextLine();
  u.proc.stdin.end('{"jsonrpc":"2.0","id":"cut","meth');
  assertError(await err, -32700);
  assert.equal((await u.exited).code, 0);
});

// ---- memory ---------------------------------------------------------------------------

test('peak RSS of every server under hostile input stays under 16 MiB', async () => {
  await closeMeasured(s, 'main hostile server (corpus, 40 MiB line, 5000 pipelined, fuzz)');
  for (const r of rss) console.log(`peak RSS ${(r.kib / 1024).toFixed(2)} MiB (VmHWM ${r.kib} kB): ${r.what}`);
  const worst = Math.max(...rss.map((r) => r.kib));
  console.log(`hostile suite peak RSS: ${(worst / 1024).toFixed(2)} MiB`);
  for (const r of rss) assert.ok(r.kib < RSS_MAX_KIB, `${r.what}: VmHWM ${r.kib} kB >= 16 MiB`);
});

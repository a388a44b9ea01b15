// Golden JSON-RPC transcripts, and protocol checks that walk tools/list.
//
// Each tests/transcripts/<name>.in.jsonl is sent to a fresh bin/ebpf-mcp
// byte for byte (CRLF, blank lines and a missing final newline included),
// with --validate-output and the arguments in <name>.args (one per line) if
// present; stdin is then closed. The reply lines, after normalise(), must equal <name>.out.jsonl
// line by line, and the process must exit with status 0.
//
// The normaliser replaces only values that legitimately differ between runs
// or hosts (pid, uptime, the host facts in `info`, the server version, and
// the lists of tools and limits, which grow as the server does); everything
// else — codes, messages, ids, counters, order — is compared exactly. Before a result's
// text block is replaced it is checked to be the JSON of structuredContent.
//
// Set TRANSCRIPTS_WRITE=1 to (re)write the .out files from the current
// binary; review the diff before committing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, Server } from '../lib/mcp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// Runs the binary on input; resolves { lines, code, stderr }.
function runTranscript(input, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['--validate-output', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('exit', (code, sig) => {
      if (!out.endsWith('\n') && out.length) reject(new Error('last reply line has no newline'));
      resolve({ lines: out.split('\n').filter((l) => l.length), code, sig, stderr: err });
    });
    p.stdin.end(input);
  });
}

const HOST_SECTIONS = ['kernel', 'btf', 'filesystems', 'capabilities', 'security', 'memory'];

// Replaces run- and host-specific values with fixed markers (see above).
export function normalise(msg) {
  const m = structuredClone(msg);
  const r = m.result;
  if (r?.serverInfo?.version !== undefined) r.serverInfo.version = '<version>';
  const si = r?._meta?.['io.modelcontextprotocol/serverInfo'];   // modern results
  if (si?.version !== undefined) si.version = '<version>';
  if (r && Array.isArray(r.content) && r.structuredContent !== undefined) {
    assert.equal(r.content.length, 1, 'one text block');
    assert.equal(r.content[0].type, 'text');
    assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent,
      'the text block is the JSON of structuredContent');
    r.content[0].text = '<json of structuredContent>';
    const sc = r.structuredContent;
    if (sc.server && typeof sc.server === 'object') {   // the `info` tool
      for (const k of ['pid', 'uptime_ms', 'session']) {
        assert.ok(Number.isInteger(sc.server[k]), `server.${k} is an integer`);
        sc.server[k] = `<${k}>`;
      }
      // the caller is whoever runs the test (its parent pid, its user)
      for (const k of ['pid', 'uid', 'gid', 'user']) {
        assert.ok(k in sc.server.caller, `server.caller.${k}`);
        sc.server.caller[k] = `<caller ${k}>`;
      }
      assert.ok(Array.isArray(sc.server.tools));
      sc.server.version = '<version>';
      sc.server.tools = '<tools>';
      // limits: every cap is an integer; the set grows as limits are added
      assert.ok(Object.values(sc.limits).every(Number.isInteger), 'limits are integers');
      sc.limits = '<limits>';
      // the sandbox's lists are the product's; the descriptor limit is the host's
      assert.ok(Number.isInteger(sc.sandbox.rlimit_nofile), 'rlimit_nofile');
      sc.sandbox.rlimit_nofile = '<host rlimit_nofile>';
      for (const k of HOST_SECTIONS) {
        assert.equal(typeof sc[k], 'object', `${k} is an object`);
        sc[k] = `<host ${k}>`;
      }
    }
  }
  return m;
}

const cases = readdirSync(here).filter((f) => f.endsWith('.in.jsonl')).map((f) => f.slice(0, -9)).sort();

test('there are transcripts', () => assert.ok(cases.length >= 10, `${cases.length} transcripts`));

for (const name of cases) {
  test(`transcript ${name}`, async () => {
    const input = readFileSync(path.join(here, `${name}.in.jsonl`));
    const argsFile = path.join(here, `${name}.args`);
    const args = existsSync(argsFile)
      ? readFileSync(argsFile, 'utf8').split('\n').filter((l) => l.length) : [];
    const { lines, code, sig, stderr } = await runTranscript(input, args);
    assert.equal(sig, null, `killed by ${sig}: ${stderr}`);
    assert.equal(code, 0, `exit status on stdin EOF (stderr: ${stderr})`);
    const got = lines.map((l) => normalise(JSON.parse(l)));
    const outFile = path.join(here, `${name}.out.jsonl`);
    if (process.env.TRANSCRIPTS_WRITE) {
      writeFileSync(outFile, got.map((g) => JSON.stringify(g)).join('\n') + '\n');
    }
    const want = readFileSync(outFile, 'utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
    for (let k = 0; k < Math.max(got.length, want.length); k++) {
      assert.deepEqual(got[k], want[k], `${name}: reply line ${k + 1}`);
    }
  });
}

// ---- tools/list, walked generically (covers tools that land later) ---------

async function listAll(args, { pageLimit = 1000 } = {}) {
  const s = new Server(args);
  try {
    await s.init();
    const pages = [];
    let cursor;
    for (let k = 0; k < pageLimit; k++) {
      const r = await s.request('tools/list', cursor === undefined ? {} : { cursor });
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      pages.push(r.result);
      cursor = r.result.nextCursor;
      if (cursor === undefined) break;
      assert.equal(typeof cursor, 'string');
    }
    return { pages, tools: pages.flatMap((p) => p.tools) };
  } finally {
    await s.close();
  }
}

test('tools/list with tools_page=1 walks every tool, one per page, by cursor', async () => {
  const all = await listAll(['--profile', 'full']);
  assert.equal(all.pages.length, 1, 'the default page holds every tool');
  assert.ok(all.tools.length >= 1);
  const names = all.tools.map((t) => t.name);
  assert.equal(new Set(names).size, names.length, 'no tool listed twice');
  const paged = await listAll(['--profile', 'full', '--limit', 'tools_page=1']);
  assert.equal(paged.pages.length, all.tools.length, 'one page per tool');
  for (const p of paged.pages) assert.equal(p.tools.length, 1);
  assert.deepEqual(paged.tools, all.tools, 'same tools, same order, same descriptors');
  assert.equal(paged.pages.at(-1).nextCursor, undefined, 'the last page has no cursor');
});

test('tools/list with tools_page=2 pages in twos and the cursors are replayable', async () => {
  const all = await listAll(['--profile', 'full']);
  const paged = await listAll(['--profile', 'full', '--limit', 'tools_page=2']);
  assert.equal(paged.pages.length, Math.ceil(all.tools.length / 2));
  assert.deepEqual(paged.tools, all.tools);
  // asking again with a cursor we were given returns the same page
  const s = new Server(['--profile', 'full', '--limit', 'tools_page=2']);
  try {
    await s.init();
    const first = (await s.request('tools/list', {})).result;
    if (first.nextCursor !== undefined) {
      const a = await s.request('tools/list', { cursor: first.nextCursor });
      const b = await s.request('tools/list', { cursor: first.nextCursor });
      assert.deepEqual(a.result, b.result);
    }
  } finally {
    await s.close();
  }
});

test('every tool descriptor has the fields MCP requires', async () => {
  const { tools } = await listAll(['--profile', 'full']);
  for (const t of tools) {
    assert.match(t.name, /^[a-z][a-z0-9_]*$/, t.name);
    assert.equal(typeof t.title, 'string', `${t.name}.title`);
    assert.ok(t.description.length > 40, `${t.name} has a real description`);
    assert.equal(t.inputSchema.type, 'object', `${t.name}.inputSchema`);
    assert.equal(t.inputSchema.additionalProperties, false, `${t.name} refuses unknown arguments`);
    assert.equal(t.outputSchema.type, 'object', `${t.name}.outputSchema`);
    for (const h of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']) {
      assert.equal(typeof t.annotations[h], 'boolean', `${t.name}.annotations.${h}`);
    }
  }
});

// Read-only tools that observe the system over time (streams, tracers,
// prog_stats) start at the observe profile; readonly is reflection and map
// reads.
const OBSERVING = /^(stream_events|trace_.*|syscall_stats|profile_cpu|offcpu_profile|runq_latency|block_io_latency|skb_drops|oom_kills|prog_stats|tcp_retransmits)$/;

test('--profile readonly hides nothing read-only but streams/tracers, and shows nothing else', async () => {
  const full = (await listAll(['--profile', 'full'])).tools;
  const ro = (await listAll(['--profile', 'readonly'])).tools;
  const roNames = ro.map((t) => t.name);
  for (const t of full) {
    if (t.annotations.readOnlyHint && !OBSERVING.test(t.name))
      assert.ok(roNames.includes(t.name), `${t.name} is read-only but hidden`);
    if (OBSERVING.test(t.name)) assert.ok(!roNames.includes(t.name), `${t.name} offered in readonly`);
  }
  for (const t of ro) {
    assert.equal(t.annotations.readOnlyHint, true, `${t.name} offered in readonly`);
    assert.equal(t.annotations.destructiveHint, false, `${t.name} offered in readonly`);
  }
  // the default profile (observe) sits between the two
  const obs = (await listAll([])).tools.map((t) => t.name);
  for (const n of roNames) assert.ok(obs.includes(n), `${n} in observe`);
  for (const n of obs) assert.ok(full.some((t) => t.name === n), `${n} in full`);
});

test('--deny-tools info hides info from tools/list and refuses a call to it', async () => {
  const full = (await listAll(['--profile', 'full'])).tools.map((t) => t.name);
  const denied = (await listAll(['--profile', 'full', '--deny-tools', 'info'])).tools.map((t) => t.name);
  assert.ok(!denied.includes('info'));
  assert.deepEqual(denied, full.filter((n) => n !== 'info'), 'nothing else is hidden');
  // paging skips the denied tool too
  const pagedDenied = (await listAll(['--profile', 'full', '--deny-tools', 'info', '--limit', 'tools_page=1']))
    .tools.map((t) => t.name);
  assert.deepEqual(pagedDenied, denied);
  const s = new Server(['--profile', 'full', '--deny-tools', 'info']);
  try {
    await s.init();
    const r = await s.request('tools/call', { name: 'info', arguments: {} });
    assert.equal(r.error.code, -32602);
    assert.match(r.error.message, /unknown tool 'info'/);
  } finally {
    await s.close();
  }
});

test('--allow-tools info offers exactly info', async () => {
  const names = (await listAll(['--profile', 'full', '--allow-tools', 'info'])).tools.map((t) => t.name);
  assert.deepEqual(names, ['info']);
});

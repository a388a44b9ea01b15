// The MCP Apps (ui://ebpf-mcp/*) and the CLI's pictures, against this
// kernel. Each app is read from the server as a host reads it, rendered in
// headless chromium inside a test host page that uses the extension's own
// AppBridge (tests/lib/apps.mjs), and handed a real result: a profile of
// known workloads, a syscall_stats run, inspect_state of a loaded fixture.
// What is drawn is checked through the DOM against the result and against
// witnesses of its own (the merged stacks recomputed here, percentiles
// recomputed from the buckets, bpftool for maps and links, the workload's
// own call counts); every request, console message and exception of the
// page is watched. Screenshots go to build/test/apps/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getToolUiResourceUri, RESOURCE_MIME_TYPE } from '@modelcontextprotocol/ext-apps/app-bridge';
import { BIN, BUILD, ROOT, withServer, sh, ensureMounts } from '../lib/mcp.mjs';
import { startWorkload, reap, track, WORKLOAD } from '../lib/workload.mjs';
import { startHost, SHOTS } from '../lib/apps.mjs';

const APP_BYTES_MAX = 64 * 1024;   // SCH_APP_BYTES_MAX
const APPS = { flamegraph: ['offcpu_profile', 'profile_cpu'], histogram: ['block_io_latency', 'runq_latency', 'syscall_stats', 'trace_function'],
  programs: ['inspect_state', 'prog_stats'] };
const OBSERVE = ['--profile', 'observe'];

let host, lastProfile, lastSyscalls;   // real results, drawn again in the shapes other tools take
before(async () => {
  ensureMounts();
  host = await startHost();
});
after(async () => {
  await host?.close();
  await reap();
});

// The tool's descriptor and its app as a host gets them (tools/list, resources/read).
async function appOf(s, name) {
  const tool = (await s.request('tools/list', {})).result.tools.find((t) => t.name === name);
  const r = await s.request('resources/read', { uri: getToolUiResourceUri(tool) });
  return { tool, resource: r.result.contents[0] };
}

// A cgroup of its own for the workloads, so that filters see no other
// worker's processes.
function cgroup(tag) {
  const root = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2')[1];
  const name = `ebpf-mcp-apps-${tag}-${process.pid}`;
  mkdirSync(path.join(root, name));
  return {
    name,
    add: (pid) => writeFileSync(path.join(root, name, 'cgroup.procs'), String(pid)),
    remove: () => rmdirSync(path.join(root, name)),
  };
}

// Nothing went wrong in the page: no console error or warning, no
// exception, no request but the host page's own.
function clean(t) {
  const p = host.problems();
  assert.deepEqual(p, { console: [], exceptions: [], log: [], blocked: [], foreign: [] }, JSON.stringify(p));
  t.diagnostic(`${host.seen.requests.length} requests seen, all the host page's own (its modules from ${host.origin}); none from the app`);
}

// Sets an input of the app (the DOM its isolated world shares) and clicks a
// button the way a person would.
async function clickSelector(sel) {
  const [x, y] = await host.inApp(`(() => { const r = document.querySelector(${JSON.stringify(sel)}).getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`);
  await host.click(x, y);
}

test('the apps are resources with the MCP Apps mime type, named by the tools\' _meta, each under 64 KiB', async (t) => {
  await withServer(OBSERVE, async (s) => {
    const init = await s.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
    assert.deepEqual(init.result.capabilities.extensions, { 'io.modelcontextprotocol/ui': { mimeTypes: [RESOURCE_MIME_TYPE] } });
    const tools = (await s.request('tools/list', {})).result.tools;
    const listed = (await s.request('resources/list', {})).result.resources.filter((r) => r.uri.startsWith('ui://'));
    assert.deepEqual(listed.map((r) => r.uri).sort(), Object.keys(APPS).map((a) => `ui://ebpf-mcp/${a}`));
    const sizes = [];
    for (const [app, names] of Object.entries(APPS)) {
      const uri = `ui://ebpf-mcp/${app}`;
      // the extension's own reading of _meta: ui.resourceUri, or the older flat key
      assert.deepEqual(tools.filter((x) => getToolUiResourceUri(x) === uri).map((x) => x.name).sort(), names);
      for (const x of tools.filter((y) => names.includes(y.name))) assert.equal(x._meta['ui/resourceUri'], uri);
      const item = listed.find((r) => r.uri === uri);
      assert.equal(item.mimeType, RESOURCE_MIME_TYPE);
      assert.ok(item.title && item.description.length > 40, JSON.stringify(item));
      const read = await s.request('resources/read', { uri });
      const [c] = read.result.contents;
      assert.deepEqual([c.uri, c.mimeType], [uri, RESOURCE_MIME_TYPE]);
      assert.match(c.text, /^<!DOCTYPE html>/);
      assert.ok(c.text.includes(`<title>${item.title}</title>`));
      const bytes = Buffer.byteLength(c.text);
      assert.ok(bytes <= APP_BYTES_MAX, `${app}: ${bytes} bytes`);
      assert.ok(!/<script[^>]+src|<link|fetch\(|XMLHttpRequest|WebSocket/i.test(c.text), `${app} fetches nothing`);
      sizes.push(`${app} ${bytes} bytes`);
    }
    const nope = await s.request('resources/read', { uri: 'ui://ebpf-mcp/nope' });
    assert.equal(nope.error.code, -32602);
    t.diagnostic(`apps: ${sizes.join(', ')}`);
  });
  // each fits the smallest reply a server may be set to, even under a long request id (as the build checks)
  await withServer([...OBSERVE, '--limit', 'response_bytes=64K'], async (s) => {
    for (const app of Object.keys(APPS)) {
      const r = await s.request('resources/read', { uri: `ui://ebpf-mcp/${app}` }, { id: 'i'.repeat(250) });
      assert.equal(r.result?.contents[0].mimeType, RESOURCE_MIME_TYPE, JSON.stringify(r.error));
    }
  });
});

// ---- the flame graph ------------------------------------------------------------

// The weight of every frame (by its path from the root), merged as a flame
// graph merges stacks: depth -> sorted "name weight" strings.
function mergedFrames(result) {
  const byPath = new Map();
  for (const x of result.stacks) {
    const names = x.folded.replace(/ \d+$/, '').split(';');   // (the line ends with its value)
    names.forEach((_, i) => {
      const key = names.slice(0, i + 1).join(';');
      byPath.set(key, (byPath.get(key) ?? 0) + x.count);
    });
  }
  const depths = new Map();
  for (const [key, w] of byPath) {
    const parts = key.split(';');
    const d = parts.length;
    if (!depths.has(d)) depths.set(d, []);
    depths.get(d).push(`${parts.at(-1)} ${w}`);
  }
  for (const v of depths.values()) v.sort();
  return depths;
}

const framesInApp = () => host.inApp(`[...document.querySelectorAll('svg.fg g.frame')].map((g) => {
  const r = g.querySelector('rect').getBoundingClientRect();
  return { name: g.dataset.name, w: +g.dataset.w, depth: +g.dataset.depth, x: r.left, width: r.width, above: g.classList.contains('above'),
    match: g.classList.contains('match'), label: g.querySelector('text').textContent };
})`);

test('flame graph: a profile of two workloads drawn from the tool result, widths by samples, click zooms, search, tooltip, run again', async (t) => {
  const cg = cgroup('flame');
  const spin = await startWorkload(['spin', '1500']), sys = await startWorkload(['sysloop', '1500']);
  try {
    cg.add(spin.pid);
    cg.add(sys.pid);
    await withServer(OBSERVE, async (s) => {
      const { tool, resource } = await appOf(s, 'profile_cpu');
      const args = { cgroup: cg.name, duration_ms: 2000, frequency_hz: 199, limit: 1000 };
      const call = s.call('profile_cpu', args, { timeoutMs: 60000 });
      await s.request('ping', {});   // answered once the profile runs
      await Promise.all([spin.go(), sys.go()]);
      const result = await call;
      assert.equal(result.isError, false);
      const r = result.structuredContent;
      assert.ok(r.samples_counted > 50 && !r.truncated, `${r.samples_counted} samples`);
      lastProfile = r;
      host.onToolCall = (p) => s.call(p.name, p.arguments, { timeoutMs: 60000 });

      assert.deepEqual(await host.show({ tool, resource, args, result }), { name: 'ebpf-mcp flamegraph', version: '1' });
      await host.until('frames drawn', 'document.querySelectorAll("svg.fg g.frame").length > 3');
      const shot = await host.shot('flamegraph');
      let frames = await framesInApp();

      // every frame: its samples are those of the stacks below it, and its width their share
      const root = frames.find((f) => f.depth === 0);
      assert.equal(root.w, r.samples_counted);
      const want = mergedFrames(r), got = new Map();
      for (const f of frames.filter((g) => g.depth > 0)) {
        if (!got.has(f.depth)) got.set(f.depth, []);
        got.get(f.depth).push(`${f.name} ${f.w}`);
      }
      for (const v of got.values()) v.sort();
      assert.deepEqual([...got.entries()].sort((a, b) => a[0] - b[0]), [...want.entries()].sort((a, b) => a[0] - b[0]));
      for (const f of frames) assert.ok(Math.abs(f.width - (f.w / root.w) * root.width) < 0.01, `${f.name}: ${f.width} px for ${f.w} of ${root.w}`);

      // the hottest function, as the tool ranks it, is named first and has its frame
      const hot = r.functions[0].function;
      assert.equal(await host.inApp('document.querySelector("#hot tbody tr td").textContent'), hot);
      assert.ok(frames.some((f) => f.name === hot && f.label.startsWith(hot.slice(0, 3))), `${hot} drawn and labelled`);
      assert.ok(frames.some((f) => f.name === 'workload_spin') && frames.some((f) => f.name === 'syscall' || /getppid/.test(f.name)), 'both workloads');

      // the tooltip over the hottest frame: its samples and share
      const hf = frames.filter((f) => f.name === hot).sort((a, b) => b.w - a.w)[0];
      const y0 = await host.inApp(`document.querySelector('g.frame[data-name=${JSON.stringify(hot)}] rect').getBoundingClientRect().top`);
      await host.hover(hf.x + hf.width / 2, y0 + 6);
      await host.until('tooltip', `document.querySelector('.tip')?.style.display === 'block'`);
      const tipText = await host.inApp('document.querySelector(".tip").textContent');
      assert.ok(tipText.startsWith(hot) && tipText.includes(`${hf.w.toLocaleString('en-US')} samples, ${(100 * hf.w / root.w).toFixed(2)}% of all`), tipText);

      // click a frame narrower than the whole: it fills the width, its children scale with it
      // (a frame narrower than the whole when both workloads were sampled; else any with children)
      const parent = (f) => f.depth >= 2 && frames.some((c) => c.depth === f.depth + 1 && c.x >= f.x - 0.01 && c.x < f.x + f.width);
      const pick = frames.find((f) => parent(f) && f.width > 30 && f.width < 0.8 * root.width) ?? frames.find(parent);
      assert.ok(pick, 'a frame to zoom into');
      const py = await host.inApp(`[...document.querySelectorAll('g.frame')].find((g) => g.dataset.name === ${JSON.stringify(pick.name)} && +g.dataset.depth === ${pick.depth}).querySelector('rect').getBoundingClientRect().top`);
      await host.click(pick.x + pick.width / 2, py + 6);
      await host.until('zoomed', '!document.getElementById("reset").disabled');
      const zoomShot = await host.shot('flamegraph-zoomed');
      frames = await framesInApp();
      const z = frames.find((f) => f.name === pick.name && f.depth === pick.depth && !f.above);
      assert.ok(Math.abs(z.width - root.width) < 0.01, `zoomed frame ${z.width} px`);
      assert.ok(frames.filter((f) => f.depth < pick.depth).every((f) => f.above && Math.abs(f.width - root.width) < 0.01), 'what it sits on spans the width');
      const below = frames.filter((f) => f.depth > pick.depth);
      assert.ok(below.length > 0);
      for (const f of below) assert.ok(Math.abs(f.width - (f.w / z.w) * root.width) < 0.01, `${f.name} scaled to the zoomed frame`);
      assert.equal(below.reduce((n, f) => n + (f.depth === pick.depth + 1 ? f.w : 0), 0) <= z.w, true);
      await clickSelector('#reset');
      await host.until('unzoomed', 'document.getElementById("reset").disabled');

      // search: the matching frames are marked, and their share said
      await clickSelector('#search');
      await host.page.send('Input.insertText', { text: 'workload_spin' });
      await host.until('matched', '/Matched/.test(document.getElementById("matched").textContent)');
      frames = await framesInApp();
      const spinW = frames.filter((f) => f.name === 'workload_spin').reduce((n, f) => n + f.w, 0);
      assert.ok(frames.filter((f) => f.match).every((f) => f.name === 'workload_spin') && frames.some((f) => f.match));
      assert.match(await host.inApp('document.getElementById("matched").textContent'), new RegExp(`^Matched: ${(100 * spinW / root.w).toFixed(2)}%`));
      const searchShot = await host.shot('flamegraph-search');

      // run again through the host, for another duration: a tools/call the host forwards
      await host.inApp('document.getElementById("secs").value = "0.3"');
      await clickSelector('#rerun button');
      await host.until('the new result drawn', '/over 3\\d\\d ms/.test(document.getElementById("summary").textContent)', 30000);
      const calls = (await host.hostLog()).filter((e) => e.call);
      assert.deepEqual(calls.map((e) => e.call), [{ name: 'profile_cpu', arguments: { ...args, duration_ms: 300 } }]);
      t.diagnostic(`${r.samples_counted} samples, ${frames.length} frames; hottest ${hot} (${r.functions[0].percent}%); zoomed into ${pick.name}`);
      t.diagnostic(`screenshots: ${shot} ${zoomShot} ${searchShot}`);
    });
    clean(t);
  } finally {
    await reap();
    cg.remove();
  }
});

// Frames by depth ("name weight", sorted) of rows {path, w}, merged by path.
function mergedRows(rows) {
  return mergedFrames({ stacks: rows.map((x) => ({ folded: x.path.join(';'), count: x.w })) });
}

async function framesByDepth() {
  const got = new Map();
  for (const f of (await framesInApp()).filter((g) => g.depth > 0)) {
    if (!got.has(f.depth)) got.set(f.depth, []);
    got.get(f.depth).push(`${f.name} ${f.w}`);
  }
  for (const v of got.values()) v.sort();
  return [...got.entries()].sort((a, b) => a[0] - b[0]);
}

test('flame graph: the profile\'s stacks as frame arrays weighted in ns, and as folded lines (the shapes of off-CPU and function tracers), draw the same frames', async (t) => {
  assert.ok(lastProfile, 'the profile of the test above');
  const r = lastProfile, periodNs = Math.round(1e9 / r.frequency_hz);
  await withServer(OBSERVE, async (s) => {
    const { tool, resource } = await appOf(s, 'profile_cpu');
    // innermost first, with offsets, in ns: the app strips the offsets and merges.
    // A stack without frames (a sample whose stacks the kernel could not read;
    // one more is added so that every run sees one) is drawn as one '[no frames]'.
    const asFrames = { duration_ms: r.duration_ms, stacks: r.stacks.map((x) => ({ total_ns: x.count * periodNs, frames: [...x.kernel, ...x.user] })) };
    asFrames.stacks.push({ total_ns: periodNs, frames: [] });
    const bare = (f) => f.replace(/\+0x[0-9a-f]+/, '');
    const pathOf = (frames) => (frames.length ? [...frames].reverse().map(bare) : ['[no frames]']);
    const want = mergedRows(asFrames.stacks.map((x) => ({ path: pathOf(x.frames), w: x.total_ns })));
    await host.show({ tool, resource, args: {}, result: { content: [{ type: 'text', text: JSON.stringify(asFrames) }], structuredContent: asFrames } });
    await host.until('frames drawn', 'document.querySelectorAll("svg.fg g.frame").length > 2');
    assert.deepEqual(await framesByDepth(), [...want.entries()].sort((a, b) => a[0] - b[0]));
    const root = (await framesInApp())[0];
    assert.equal(root.w, (r.samples_counted + 1) * periodNs);
    assert.match(await host.inApp('document.getElementById("summary").textContent'), /^[\d.]+ (ms|s) in \d+ stacks/);
    const nsShot = await host.shot('flamegraph-ns');
    const asLines = { folded: r.stacks.map((x) => x.folded) };   // (each ends with its count)
    await host.show({ tool, resource, args: {}, result: { content: [{ type: 'text', text: JSON.stringify(asLines) }], structuredContent: asLines } });
    await host.until('frames drawn', 'document.querySelectorAll("svg.fg g.frame").length > 2');
    assert.deepEqual(await framesByDepth(), [...mergedFrames(r).entries()].sort((a, b) => a[0] - b[0]));
    t.diagnostic(`${r.stacks.length} stacks drawn from frames[] in ns and from folded lines; ${nsShot}`);
  });
  clean(t);
});

// ---- the SVG of the CLI -------------------------------------------------------------

// Runs the CLI without blocking the event loop; its stdout, stderr and status.
function cli(args) {
  return new Promise((resolve) => {
    const c = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    c.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    c.on('exit', (status) => resolve({ status, out, err }));
  });
}

test('ebpf-mcp call profile_cpu --format svg: a standalone flame graph chromium renders with widths by samples; refused where there are no stacks', async (t) => {
  const spin = track(spawn(WORKLOAD, ['spin', '3000'], { stdio: 'ignore' }));
  const file = path.join(SHOTS, 'cpu.svg');
  const r = await cli(['call', 'profile_cpu', `pid=${spin.pid}`, 'duration_ms=1500', 'frequency_hz=199', '--format', 'svg']);
  await reap();
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /^<\?xml version="1.0" standalone="no"\?>\n<svg /);
  writeFileSync(file, r.out);

  const page = await host.browser.newPage({ width: 1220, height: 900 });
  await page.send('Page.enable');
  await page.send('Page.navigate', { url: `file://${file}` });
  for (let i = 0; i < 100 && !(await page.evaluate('document.readyState === "complete" && !!document.querySelector("g.frame")').catch(() => false)); i++)
    await new Promise((res) => setTimeout(res, 50));
  const frames = await page.evaluate(`[...document.querySelectorAll('g.frame')].map((g) => {
    const rect = g.querySelector('rect'), text = g.querySelector('text'), b = rect.getBoundingClientRect();
    const m = /^(.*) \\((\\d+) samples?, ([\\d.]+)%\\)$/.exec(g.querySelector('title').textContent);
    return { name: m[1], count: +m[2], pct: +m[3], w: +rect.dataset.w, width: b.width, x: b.left, y: b.top,
      label: text?.textContent ?? '', labelWidth: text ? text.getBBox().width : 0 };
  })`);
  const svgShot = path.join(SHOTS, 'cpu-svg.png');
  writeFileSync(svgShot, await page.screenshot());
  const root = frames[0];
  assert.equal(root.name, 'all');
  assert.ok(Math.abs(root.width - 1180) < 0.01, `${root.width}`);
  for (const f of frames) {
    assert.equal(f.count, f.w);
    assert.ok(Math.abs(f.width - (f.count / root.count) * 1180) < 0.01, `${f.name}: ${f.width} px for ${f.count} of ${root.count}`);
    assert.ok(Math.abs(f.pct - (100 * f.count) / root.count) < 0.006, `${f.name} ${f.pct}%`);
    if (f.label) assert.ok(f.labelWidth <= f.width, `${f.name}: its label fits (${f.labelWidth} <= ${f.width})`);
  }
  // the workload's own spinning function holds nearly every sample (as profile_cpu's tests find)
  const spinFrames = frames.filter((f) => f.name === 'workload_spin');
  const inSpin = spinFrames.reduce((n, f) => n + f.count, 0);
  assert.ok(root.count > 50 && inSpin >= 0.9 * root.count, `${inSpin} of ${root.count} in workload_spin`);
  assert.ok(spinFrames.some((f) => f.label === 'workload_spin'));
  await page.send('Target.closeTarget', { targetId: page.targetId }).catch(() => {});
  await host.browser.send('Target.closeTarget', { targetId: page.targetId }).catch(() => {});

  const refused = await cli(['call', 'syscall_stats', 'duration_ms=100', '--format', 'svg']);
  assert.equal(refused.status, 2);
  assert.equal(refused.out, '');
  assert.match(refused.err, /--format svg draws a flame graph .* syscall_stats's result has none to draw; tools with stacks: (\w+ )*profile_cpu/);
  const listing = await cli(['tools', '--format', 'svg']);
  assert.deepEqual([listing.status, listing.out], [2, '']);
  assert.match(listing.err, /a tools listing has none to draw/);
  t.diagnostic(`${root.count} samples, ${frames.length} frames, ${inSpin} in workload_spin; ${file} rendered: ${svgShot}`);
});

// ---- histograms ----------------------------------------------------------------------

// The slot (log2 bucket index) holding the q-th percentile of buckets, and
// the value the tracers report for it: the bucket's upper edge, never
// above the largest value seen.
function percentile(h, q) {
  const rank = Math.ceil((h.count * q) / 100);
  let seen = 0;
  for (const b of h.buckets) {
    seen += b.count;
    if (seen >= rank) return { slot: Math.log2(b.to_ns) - 1, value: Math.min(b.to_ns, h.max_ns) };
  }
  return null;
}

// A workload started (-w) whose pid is in cgroup cg.
async function inCgroup(cg, args) {
  const w = await startWorkload(args);
  cg.add(w.pid);
  return w;
}

test('histograms: syscall_stats of known workloads, one per syscall on a shared log2 axis, bars by counts, percentiles in their buckets, filter, run again', async (t) => {
  const cg = cgroup('hist');
  try {
    const gp = await inCgroup(cg, ['getppid', '20000']), op = await inCgroup(cg, ['openat', '/etc/hostname', '3000']);
    await withServer(OBSERVE, async (s) => {
      const { tool, resource } = await appOf(s, 'syscall_stats');
      const args = { cgroup: cg.name, duration_ms: 1500, limit: 50 };
      const call = s.call('syscall_stats', args, { timeoutMs: 60000 });
      await s.request('ping', {});
      await Promise.all([gp.go(), op.go()]);
      const result = await call;
      const r = result.structuredContent;
      lastSyscalls = r;
      // the workloads' own counts: every call in the window, and the tool's percentiles from its buckets
      const by = new Map(r.syscalls.map((x) => [x.syscall, x]));
      assert.equal(by.get('getppid')?.count, 20000);
      assert.equal(by.get('openat')?.count, 3000);
      for (const h of r.syscalls) for (const q of [50, 90, 99]) assert.equal(h[`p${q}_ns`], percentile(h, q).value, `${h.syscall} p${q}`);
      host.onToolCall = (p) => s.call(p.name, p.arguments, { timeoutMs: 60000 });
      await host.show({ tool, resource, args, result });
      await host.until('charts drawn', `document.querySelectorAll('.card').length === ${r.syscalls.length}`);
      const shot = await host.shot('histogram');
      const cards = await host.inApp(`[...document.querySelectorAll('.card')].map((c) => {
        const svg = c.querySelector('svg').getBoundingClientRect();
        return { label: c.dataset.label, stats: c.querySelector('.stats').textContent,
          bars: [...c.querySelectorAll('rect.bar')].map((b) => { const r = b.getBoundingClientRect();
            return { from: +b.dataset.from, to: +b.dataset.to, count: +b.dataset.count, x: r.left - svg.left, width: r.width, height: r.height }; }),
          marks: [...c.querySelectorAll('g.pct')].map((g) => ({ p: +g.dataset.p, ns: +g.dataset.ns, x: g.querySelector('line').getBoundingClientRect().left - svg.left })) };
      })`);
      assert.deepEqual(cards.map((c) => c.label), r.syscalls.map((x) => x.syscall));
      const colW = cards[0].bars[0].width + 1;                  // a bucket's column (its bar leaves 1 px)
      const xOfSlot = new Map();                                // one axis for every histogram
      for (const [i, c] of cards.entries()) {
        const h = r.syscalls[i];
        assert.deepEqual(c.bars.map((b) => [b.from, b.to, b.count]), h.buckets.map((b) => [b.from_ns, b.to_ns, b.count]));
        const top = Math.max(...h.buckets.map((b) => b.count)), full = Math.max(...c.bars.map((b) => b.height));
        for (const b of c.bars) {
          assert.ok(Math.abs(b.height - (b.count / top) * full) < 0.01, `${c.label} ${b.from}: ${b.height} px for ${b.count} of ${top}`);
          const slot = Math.log2(b.to) - 1;
          if (!xOfSlot.has(slot)) xOfSlot.set(slot, b.x);
          assert.ok(Math.abs(xOfSlot.get(slot) - b.x) < 0.01, `${c.label}: slot ${slot} at the same place in every histogram`);
        }
        for (let k = 1; k < c.bars.length; k++)
          assert.ok(Math.abs(c.bars[k].x - c.bars[k - 1].x - (Math.log2(c.bars[k].to / c.bars[k - 1].to)) * colW) < 0.01, 'log2 columns');
        // each percentile's marker stands in the column of the bucket that holds it
        assert.deepEqual(c.marks.map((m) => m.p), [50, 90, 99]);
        for (const m of c.marks) {
          const { slot, value } = percentile(h, m.p);
          const left = c.bars.find((b) => Math.log2(b.to) - 1 === slot).x - 0.5;
          assert.equal(m.ns, value);
          assert.ok(m.x >= left - 0.01 && m.x <= left + colW + 0.01, `${c.label} p${m.p}: ${m.x} in [${left}, ${left + colW}]`);
          if (value === 2 ** (slot + 1)) assert.ok(Math.abs(m.x - (left + colW)) < 0.01, `${c.label} p${m.p} on its bucket's upper edge`);
        }
      }
      assert.match(cards[r.syscalls.findIndex((x) => x.syscall === 'getppid')].stats, /^20,000 calls/);

      await clickSelector('#filter');
      await host.page.send('Input.insertText', { text: '^getppid$' });
      await host.until('filtered', `document.querySelectorAll('.card').length === 1`);
      assert.equal(await host.inApp('document.querySelector(".card").dataset.label'), 'getppid');

      await host.inApp('document.getElementById("secs").value = "0.2"');
      await clickSelector('#rerun button');
      await host.until('the new result drawn', '/over 2\\d\\d ms/.test(document.getElementById("summary").textContent)', 30000);
      const calls = (await host.hostLog()).filter((e) => e.call).map((e) => e.call);
      assert.deepEqual(calls.at(-1), { name: 'syscall_stats', arguments: { ...args, duration_ms: 200 } });
      t.diagnostic(`${cards.length} histograms, ${cards.reduce((n, c) => n + c.bars.length, 0)} bars, ${cards.length * 3} percentile markers checked; ${shot}`);
    });
    clean(t);
  } finally {
    await reap();
    cg.remove();
  }
});

test('histograms: one latency object (the shape of a function tracer\'s result) draws as one histogram', async (t) => {
  assert.ok(lastSyscalls, 'the syscall_stats run of the test above');
  const { syscall, nr, errors, total_ns, min_ns, ...latency } = lastSyscalls.syscalls.find((x) => x.syscall === 'getppid');
  const result = { function: '__x64_sys_getppid', duration_ms: lastSyscalls.duration_ms, latency };
  await withServer(OBSERVE, async (s) => {
    const { tool, resource } = await appOf(s, 'syscall_stats');
    await host.show({ tool, resource, args: {}, result: { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result } });
    await host.until('one chart', `document.querySelectorAll('.card').length === 1`);
    const card = await host.inApp(`(() => { const c = document.querySelector('.card');
      return { label: c.dataset.label, bars: [...c.querySelectorAll('rect.bar')].map((b) => +b.dataset.count), marks: [...c.querySelectorAll('g.pct')].map((g) => +g.dataset.ns) }; })()`);
    assert.deepEqual(card, { label: '__x64_sys_getppid', bars: latency.buckets.map((b) => b.count), marks: [latency.p50_ns, latency.p90_ns, latency.p99_ns] });
    t.diagnostic(`${card.bars.length} bars, ${latency.count} calls`);
  });
  clean(t);
});

// Waits until process pid holds a BPF link (its tracer is attached).
async function attached(pid) {
  for (let i = 0; i < 200; i++) {
    let fds = [];
    try { fds = readdirSync(`/proc/${pid}/fd`).map((f) => { try { return readlinkSync(`/proc/${pid}/fd/${f}`); } catch { return ''; } }); } catch { /* not yet */ }
    if (fds.some((l) => l === 'anon_inode:bpf_link')) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`no BPF link in process ${pid}`);
}

test('ebpf-mcp call syscall_stats --format table: log2 histograms as text bars, counts and percentiles from the buckets', async (t) => {
  const cg = cgroup('text');
  try {
    const w = await inCgroup(cg, ['getppid', '20000']);
    const c = spawn(BIN, ['call', 'syscall_stats', `cgroup=${cg.name}`, 'duration_ms=1500', '--format', 'table'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    c.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    const done = new Promise((res) => c.on('exit', res));
    await attached(c.pid);
    await w.go();
    assert.equal(await done, 0, err);
    const lines = out.split('\n');
    const at = lines.findIndex((l) => l.startsWith('getppid: '));
    assert.ok(at >= 0, out);
    const head = /^getppid: count (\d+), avg (\d+) ns, max (\d+) ns, p50 <= (\d+) ns, p90 <= (\d+) ns, p99 <= (\d+) ns/.exec(lines[at]);
    assert.ok(head, lines[at]);
    assert.equal(+head[1], 20000);   // the workload's own count
    assert.match(lines[at + 1], /^ +nsecs : count    distribution$/);
    const rows = [];
    for (let i = at + 2; lines[i]; i++) {
      const m = /^ *(\d+) -> (\d+) +: (\d+) +\|(\**) *\|((?: p\d+)*)$/.exec(lines[i]);
      assert.ok(m, lines[i]);
      rows.push({ from: +m[1], to: +m[2] + 1, count: +m[3], stars: m[4].length, marks: m[5].trim().split(' ').filter(Boolean) });
    }
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i].from, rows[i - 1].to, 'contiguous log2 rows');
    assert.ok(rows.every((r) => r.to === 2 * Math.max(r.from, 1)));
    const top = Math.max(...rows.map((r) => r.count));
    assert.equal(rows.reduce((n, r) => n + r.count, 0), 20000);
    for (const r of rows) assert.equal(r.stars, Math.floor((r.count * 40) / top));
    const h = { count: 20000, max_ns: +head[3], buckets: rows.filter((r) => r.count).map((r) => ({ to_ns: r.to, count: r.count })) };
    for (const [i, q] of [50, 90, 99].entries()) {
      const p = percentile(h, q);
      assert.equal(+head[4 + i], p.value, `p${q}`);
      assert.ok(rows.find((r) => r.to === 2 ** (p.slot + 1)).marks.includes(`p${q}`), `p${q} marked on its row`);
    }
    t.diagnostic(`getppid: ${rows.length} rows, 20000 calls; p50 <= ${head[4]} ns`);
  } finally {
    await reap();
    cg.remove();
  }
});

// ---- programs -------------------------------------------------------------------------

const BPFTOOL = '/usr/sbin/bpftool';
const bpftool = (what) => JSON.parse(sh(`${BPFTOOL} -j -f ${what}`));

// Run statistics on while fn runs: a fixture holding a BPF_ENABLE_STATS fd
// (the global sysctl stays as it is for other tests).
async function withStats(fn) {
  const child = track(spawn(path.join(BUILD, 'test/tools/bpf_stats'), [], { stdio: ['pipe', 'pipe', 'inherit'] }));
  await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => (String(d).startsWith('ready') ? resolve() : reject(new Error(String(d)))));
    child.once('exit', (code) => reject(new Error(`bpf_stats exited ${code}`)));
  });
  try {
    return await fn();
  } finally {
    child.stdin.end();
  }
}

test('programs: inspect_state of a loaded fixture by run time, with its maps and links (bpftool\'s), refresh and measure through the host', async (t) => {
  const dir = `/sys/fs/bpf/t_apps_progs_${process.pid}`;
  sh(`rm -rf ${dir}`);
  sh(`${path.join(BUILD, 'test/tools/bpf_attach')} ${path.join(BUILD, 'bpf/inspect_objs.bpf.o')} ${dir}`);
  try {
    const mine = bpftool('prog show').filter((p) => (p.pinned ?? []).some((x) => x.startsWith(`${dir}/`)));
    assert.equal(mine.length, 3);
    await withStats(() => withServer(OBSERVE, async (s) => {
      // the hooks run: getppid (the tracepoint), fork (raw tracepoint), exec (tp_btf)
      const w = await startWorkload(['getppid', '3000']);
      await w.go();
      for (let i = 0; i < 5; i++) sh('/bin/true');
      const { tool, resource } = await appOf(s, 'inspect_state');
      const args = { kinds: ['program', 'map', 'link'], limit: 1000 };
      const result = await s.call('inspect_state', args);
      const r = result.structuredContent;
      const ours = r.programs.items.filter((p) => mine.some((m) => m.id === p.id));
      assert.equal(ours.length, 3);
      assert.ok(ours.every((p) => p.run_time_ns > 0), JSON.stringify(ours.map((p) => [p.name, p.run_cnt, p.run_time_ns])));
      host.onToolCall = (p) => s.call(p.name, p.arguments, { timeoutMs: 60000 });
      await host.show({ tool, resource, args, result });
      await host.until('rows drawn', `document.querySelectorAll('#progs tbody tr').length === ${r.programs.items.length}`);
      const shot = await host.shot('programs');
      const rows = await host.inApp(`[...document.querySelectorAll('#progs tbody tr')].map((tr) => {
        const bar = tr.querySelector('.bar'), track = tr.querySelector('.track');
        return { id: +tr.dataset.id, cells: [...tr.children].map((td) => td.textContent), maps: [...tr.children[7].querySelectorAll('.chip')].map((c) => c.textContent),
          links: [...tr.children[8].querySelectorAll('.chip')].map((c) => c.textContent), share: bar ? +bar.dataset.share : null,
          width: bar ? bar.getBoundingClientRect().width / track.getBoundingClientRect().width : null };
      })`);
      assert.equal(await host.inApp('document.getElementById("share-head").textContent'), 'share of run time');
      const total = r.programs.items.reduce((n, p) => n + p.run_time_ns, 0), top = Math.max(...r.programs.items.map((p) => p.run_time_ns));
      // most run time first; each bar its share, drawn against the largest
      assert.deepEqual(rows.map((x) => x.id), [...r.programs.items].sort((a, b) => b.run_time_ns - a.run_time_ns || a.id - b.id).map((p) => p.id));
      for (const row of rows) {
        const p = r.programs.items.find((q) => q.id === row.id);
        assert.ok(Math.abs(row.share - (100 * p.run_time_ns) / total) < 1e-9);
        assert.ok(Math.abs(row.width - p.run_time_ns / top) < 0.005, `${p.name}: bar ${row.width} for ${p.run_time_ns} of ${top}`);
        assert.equal(row.cells[3], p.run_cnt.toLocaleString('en-US'));
      }
      // maps and links as bpftool lists them for our programs
      for (const m of mine) {
        const row = rows.find((x) => x.id === m.id);
        const names = (m.map_ids ?? []).map((id) => `${bpftool(`map show id ${id}`).name} #${id}`);
        assert.deepEqual(row.maps, names, `prog ${m.id} maps`);
        const links = bpftool('link show').filter((l) => l.prog_id === m.id);
        assert.equal(links.length, 1);
        assert.deepEqual(row.links.map((x) => +/^#(\d+)/.exec(x)[1]), links.map((l) => l.id), `prog ${m.id} links`);
        assert.ok(row.links[0].startsWith(`#${links[0].id} ${links[0].type}`) && row.links[0].includes(links[0].tp_name ?? ''), row.links[0]);
      }

      const calledFor = async (n) => {
        for (let i = 0; i < 300 && (await host.hostLog()).filter((e) => e.call).length < n; i++) await new Promise((res) => setTimeout(res, 50));
      };
      await clickSelector('#refresh');
      await calledFor(1);
      await host.until('refreshed', `!document.querySelector('#measure').disabled && document.getElementById('status').textContent === ''`);
      const hasStats = (await s.request('tools/list', {})).result.tools.some((x) => x.name === 'prog_stats');
      await clickSelector('#measure');
      await calledFor(2);
      if (hasStats) {
        await host.until('measured', `document.getElementById('share-head').textContent.startsWith('CPU')`, 30000);
      } else {   // not in this build: the host's error, shown as the app's status
        await host.until('refused', `document.getElementById('status').className === 'error' && /^prog_stats: /.test(document.getElementById('status').textContent)`, 30000);
      }
      const calls = (await host.hostLog()).filter((e) => e.call).map((e) => e.call.name);
      assert.deepEqual(calls, ['inspect_state', 'prog_stats']);
      t.diagnostic(`${rows.length} programs (3 of the fixture), run time shares ${ours.map((p) => `${p.name} ${(100 * p.run_time_ns / total).toFixed(1)}%`).join(', ')}; prog_stats ${hasStats ? 'measured' : 'not offered: the app says so'}; ${shot}`);
    }));
    clean(t);
  } finally {
    sh(`rm -rf ${dir}`);
  }
});

// ---- the build's checks ------------------------------------------------------------------

test('the build refuses an app over 64 KiB, one whose reply would not fit the smallest response_bytes, one that fetches, and a tool naming no app', (t) => {
  const SCHEMAC = path.join(BUILD, 'host/schemac');
  const num = (file, name) => Number(new RegExp(`#define ${name}\\s+\\(?([\\d ]+(?:\\* *\\d+)?)`).exec(readFileSync(path.join(ROOT, file), 'utf8'))[1].split('*').reduce((a, b) => a * Number(b), 1));
  const cap = num('src/json/schema.h', 'SCH_APP_BYTES_MAX'), slack = num('src/json/schema.h', 'SCH_APP_REPLY_SLACK');
  const idBytes = num('src/limits.h', 'LIMIT_ID_BYTES'), replyMin = 64 * 1024;   // response_bytes' minimum
  assert.equal(cap, 64 * 1024);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-apps-'));
  const head = '<!DOCTYPE html><html><head><title>t</title><meta name="description" content="a test"></head><body>';
  const tail = '</body></html>\n';
  const app = (name, bytes, body = '') => {
    const f = path.join(dir, `${name}.html`);
    writeFileSync(f, head + body + 'x'.repeat(bytes - head.length - tail.length - body.length) + tail);
    return f;
  };
  const run = (...files) => spawnSync(SCHEMAC, [path.join(dir, 'o.c'), path.join(dir, 'o.h'), path.join(ROOT, 'schemas/_error.json'), ...files,
    path.join(ROOT, 'schemas/info.json')], { encoding: 'utf8' });
  try {
    // the largest app that fits: its text as a JSON string, plus the id and envelope, fill the smallest reply
    const fits = replyMin - idBytes - slack - (JSON.stringify(head + tail).length - (head + tail).length);
    assert.equal(run(app('fits', fits)).status, 0);
    assert.match(readFileSync(path.join(dir, 'o.c'), 'utf8'), new RegExp(`\\t${fits} },`));
    let r = run(app('one-more', fits + 1));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /one-more.html: escaped for JSON it takes \d+ bytes: resources\/read's reply would not fit response_bytes at its minimum \(65536\)/);
    r = run(app('at-cap', cap));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /would not fit response_bytes/);
    r = run(app('over-cap', cap + 1));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /over-cap.html: an app is at most 65536 bytes \(SCH_APP_BYTES_MAX\) with what it includes: this one is larger/);
    r = run(app('quotes', 40000, '"'.repeat(30000)));   // under the cap, but each quote doubles once escaped
    assert.match(r.stderr, /would not fit/);
    r = run(app('fetches', 2000, '<script>fetch("https://example.com")</script>'));
    assert.match(r.stderr, /line 1: 'fetch\(' would load or send something; an app is self-contained/);
    r = run(app('includes', 2000, '<script>/*@include missing.js*/</script>'));
    assert.match(r.stderr, /cannot open .*missing.js/);
    const tool = JSON.parse(readFileSync(path.join(ROOT, 'schemas/info.json'), 'utf8'));
    tool._meta = { ui: { resourceUri: 'ui://ebpf-mcp/nope' } };
    writeFileSync(path.join(dir, 'info.json'), JSON.stringify(tool));
    r = spawnSync(SCHEMAC, [path.join(dir, 'o.c'), path.join(dir, 'o.h'), path.join(ROOT, 'schemas/_error.json'), app('fits', 3000), path.join(dir, 'info.json')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /_meta.ui.resourceUri 'ui:\/\/ebpf-mcp\/nope' names no app/);
    t.diagnostic(`largest app that builds: ${fits} bytes (cap ${cap}; its reply must fit response_bytes' minimum ${replyMin})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Resource subscriptions in both eras, on one connection: a legacy
// resources/subscribe and a modern subscriptions/listen watch the same map;
// a write with bpftool (the witness and the cause) brings
// notifications/resources/updated to both (the listen's tagged with its
// id); a cancelled listen and an unsubscribe bring no more. The server reads
// watched resources again every second, so waits are bounded at 5 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { withServer, sh, ensureMounts, BUILD } from '../lib/mcp.mjs';
import { sleep, until } from '../lib/kern.mjs';

ensureMounts();
const OBJ_DIR = path.join(BUILD, 'bpf');
const MODERN = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'tests', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

const updates = (s, uri) => s.notifications.filter((n) => n.method === 'notifications/resources/updated' && n.params.uri === uri);

const WAIT_MS = 5000;   // the server reads watched resources every second

// Writes key 1 of a u32 -> u64 hash map through bpftool.
function write(mapId, v) {
  const le = Buffer.alloc(8);
  le.writeBigUInt64LE(BigInt(v));
  sh(`bpftool map update id ${mapId} key 1 0 0 0 value ${[...le].join(' ')}`);
}

test('a map write brings resources/updated to a legacy subscription and to a modern listen; cancel and unsubscribe stop them', async () => {
  await withServer(['--profile', 'full', '--object-dir', OBJ_DIR], async (s) => {
    const o = await s.ok('load_program', { path: path.join(OBJ_DIR, 'maps.bpf.o') });
    const map = o.maps.find((m) => m.name === 'mt_hash').id;
    const uri = `bpf://map/${map}`;
    assert.deepEqual((await s.request('resources/subscribe', { uri })).result, {});
    s.send({ jsonrpc: '2.0', id: 'listen', method: 'subscriptions/listen', params: { _meta: MODERN, notifications: { resourceSubscriptions: [uri], toolsListChanged: true } } });
    await until('the acknowledgment', () => s.notifications.some((n) => n.method === 'notifications/subscriptions/acknowledged'), WAIT_MS);
    const ack = s.notifications.find((n) => n.method === 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.params, { _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen' }, notifications: { resourceSubscriptions: [uri] } },
      'only what the server honours is acknowledged');
    await sleep(1500);   // a first reading of the map is taken before the write
    assert.equal(updates(s, uri).length, 0, 'nothing changed yet');
    write(map, 7);
    await until('both notifications', () => updates(s, uri).length >= 2, WAIT_MS);
    const [a, b] = updates(s, uri);
    const tagged = [a, b].filter((n) => n.params._meta?.['io.modelcontextprotocol/subscriptionId'] === 'listen');
    assert.equal(tagged.length, 1, 'one on the listen, tagged with its id; one for resources/subscribe, untagged');
    // the listen ends without a reply; the subscription goes on alone
    s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { _meta: MODERN, requestId: 'listen' } });
    await s.request('ping', {});
    write(map, 8);
    await until('the subscription\'s notification', () => updates(s, uri).length >= 3, WAIT_MS);
    await sleep(1500);
    assert.equal(updates(s, uri).length, 3, 'none on the cancelled listen');
    assert.ok(!s.lines.some((l) => l.id === 'listen'), 'a cancelled listen gets no reply');
    assert.deepEqual((await s.request('resources/unsubscribe', { uri })).result, {});
    write(map, 9);
    await sleep(2500);
    assert.equal(updates(s, uri).length, 3, 'nothing after unsubscribe');
  });
});

test('watches are capped per session, named when hit', async () => {
  await withServer(['--limit', 'watches=2'], async (s) => {
    for (const uri of ['ebpf-mcp://limits', 'ebpf-mcp://policy'])
      assert.deepEqual((await s.request('resources/subscribe', { uri })).result, {});
    const r = await s.request('resources/subscribe', { uri: 'bpf://prog/1' });
    assert.equal(r.error.code, -32602);
    assert.deepEqual(r.error.data, { limit: 'watches', value: 2 });
  });
});

test('the daemon stopping ends an open subscriptions/listen with its result, tagged with its id', async () => {
  const { Daemon } = await import('../lib/daemon.mjs');
  const d = await Daemon.start([]);
  try {
    const s = d.raw();
    await s.connected;
    s.send({ jsonrpc: '2.0', id: 42, method: 'subscriptions/listen', params: { _meta: MODERN, notifications: { resourceSubscriptions: ['ebpf-mcp://limits'] } } });
    await until('the acknowledgment', () => s.notifications.some((n) => n.method === 'notifications/subscriptions/acknowledged'), WAIT_MS);
    const reply = new Promise((res) => s.pending.set('42', res));
    assert.deepEqual(await d.stop('SIGTERM'), { code: 0, sig: null });
    const r = await reply;
    assert.deepEqual(r.result, { resultType: 'complete', _meta: { 'io.modelcontextprotocol/subscriptionId': 42 } });
  } finally {
    await d.kill();
  }
});

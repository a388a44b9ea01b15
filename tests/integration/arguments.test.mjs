// Argument validation details that cut across tools: the string_bytes cap
// and JSON pointers of keys that arrive escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from '../lib/mcp.mjs';

test('string_bytes: a string argument at the cap is served, one byte over is refused', async () => {
  await withServer(['--limit', 'string_bytes=64'], async (s) => {
    const at = await s.call('get_btf_types', { pattern: 'x'.repeat(63) + '*' });
    assert.equal(at.isError, false, JSON.stringify(at.structuredContent));
    const over = await s.call('get_btf_types', { pattern: 'x'.repeat(64) + '*' });
    assert.equal(over.isError, true);
    const e = over.structuredContent.error;
    assert.equal(e.code, 'SCHEMA');
    assert.equal(e.context.pointer, '/pattern');
    assert.match(e.message, /string_bytes/);
    // escapes count after decoding: 64 escaped 'x' are 64 bytes, at the cap
    s.sendRaw(`{"jsonrpc":"2.0","id":"e","method":"tools/call","params":{"name":"get_btf_types","arguments":{"pattern":"${'\\u0078'.repeat(64)}"}}}\n`);
    const line = await s.nextLine();
    assert.equal(line.id, 'e');
    assert.equal(line.result.isError, false);
  });
});

test('the pointer of an unknown key is the decoded key, RFC 6901 escaped', async () => {
  await withServer([], async (s) => {
    s.sendRaw('{"jsonrpc":"2.0","id":"k","method":"tools/call","params":{"name":"info","arguments":{"a\\u002fb~":1}}}\n');
    const r = await s.nextLine();
    assert.equal(r.id, 'k');
    assert.equal(r.result.isError, true);
    assert.equal(r.result.structuredContent.error.context.pointer, '/a~1b~0');
  });
});

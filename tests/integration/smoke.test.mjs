// The smoke suite (tests/lib/smoke.mjs) on this host's kernel over stdio.
// The same checks run in an empty root (scratch.test.mjs) and in a qemu guest
// on another kernel (tests/guest/), so the binary is shown to work on each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { Server, ensureMounts } from '../lib/mcp.mjs';
import { smoke, SMOKE_CHECKS } from '../lib/smoke.mjs';

test('smoke suite on the host kernel over stdio', async () => {
  ensureMounts();
  const s = new Server();
  try {
    await s.init();
    assert.deepEqual(await smoke(s, { release: os.release(), pid: s.proc.pid }), SMOKE_CHECKS);
  } finally {
    await s.close();
  }
});

// Lets @modelcontextprotocol/conformance run on Node 20: its one bundled
// file imports `globSync` from 'fs' (Node 22), so on Node 20 it fails to
// load at all. Loaded with `node --import` before the suite's CLI, this
// registers itself as a module hook that hands the suite an 'fs' with a
// globSync that throws: the suite calls it only in `tier-check` (reading
// result folders), never in the `server` and `list` commands the tests run,
// so a call would be a loud failure, not a silent difference. Nothing else
// is touched (other importers get the real 'fs'); on Node 22 and later the
// tests do not load this file.
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const SHIM_URL = 'ebpf-mcp-shim:fs-with-globSync';
const SHIM_SOURCE = `
import fs from 'node:fs';
export * from 'node:fs';
export default fs;
export function globSync() {
  throw new Error('fs.globSync needs Node 22 (tests/lib/node20-fs-glob.mjs stands in for it)');
}
`;

// Hooks run on a thread of their own; the main thread only registers them.
if (isMainThread) register(import.meta.url);

export async function resolve(specifier, context, next) {
  const fromSuite = context.parentURL?.includes('/node_modules/@modelcontextprotocol/conformance/');
  if (fromSuite && (specifier === 'fs' || specifier === 'node:fs')) return { url: SHIM_URL, shortCircuit: true };
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url === SHIM_URL) return { format: 'module', source: SHIM_SOURCE, shortCircuit: true };
  return next(url, context);
}

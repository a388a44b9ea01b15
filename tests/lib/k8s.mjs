// Helpers for the Kubernetes recipe tests (tests/integration/deploy_k8s*.mjs,
// deploy_http.test.mjs): read a manifest under docs/deploy/, validate each
// document against the Kubernetes API schema (kubernetes-models: kubectl
// cannot validate without an API server), refuse fields the schema does not
// know (kubectl's strict validation does; the models alone accept them), and
// do what the kubelet does with a container: expand $(VAR) in its args, lay
// out a Secret volume, build the setpriv command line of its securityContext.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { DEPLOY } from './deploy.mjs';

export const MODELS = { Namespace, Secret, DaemonSet, NetworkPolicy };
export const IMAGE_BIN = '/ebpf-mcp';         // the Dockerfile's COPY destination and ENTRYPOINT

// Every document of docs/deploy/<file>, parsed (YAML 1.2; the manifests
// avoid what 1.1 and 1.2 read differently, such as octal 0400).
export function readManifest(file) {
  const docs = YAML.parseAllDocuments(readFileSync(path.join(DEPLOY, file), 'utf8'));
  for (const d of docs) assert.deepEqual(d.errors, [], `${file} parses`);
  return docs.map((d) => d.toJS());
}

function schemaErrors(Model, obj) {
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    assert.ok(e.errors, `a validation error: ${e.message}`);
    return e.errors;
  }
}

const pointer = (keys) => keys.map((k) => `/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

// The fields of obj the schema does not know, as JSON pointers. The compiled
// validators check the type of every field they know: a field whose value,
// swapped for a Symbol, draws no error at its own path is not in the schema.
// (Maps such as labels check their values' type too, so their keys count as
// known.)
export function unknownFields(Model, obj) {
  const unknown = [];
  const walk = (v, keys) => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, [...keys, i]));
    if (!v || typeof v !== 'object') return;
    for (const k of Object.keys(v)) {
      const at = [...keys, k];
      const copy = structuredClone(obj);
      at.slice(0, -1).reduce((o, q) => o[q], copy)[k] = Symbol('probe');
      if (schemaErrors(Model, copy).some((e) => e.instancePath === pointer(at))) walk(v[k], at);
      else unknown.push(pointer(at));
    }
  };
  walk(obj, []);
  return unknown;
}

// Each document valid, of a kind the test knows, with no unknown field.
export function validateManifest(file, objs) {
  for (const o of objs) {
    const Model = MODELS[o.kind];
    assert.ok(Model, `${file}: a kind the test knows: ${o.kind}`);
    const errs = schemaErrors(Model, o);
    assert.deepEqual(errs.map((e) => `${e.instancePath} ${e.message}`), [], `${file}: ${o.kind} ${o.metadata?.name} is valid`);
    assert.deepEqual(unknownFields(Model, o), [], `${file}: ${o.kind} ${o.metadata?.name} has no field the schema lacks`);
  }
}

export function daemonSet(objs) {
  const ds = objs.find((o) => o.kind === 'DaemonSet');
  assert.ok(ds, 'a DaemonSet');
  const pod = ds.spec.template.spec;
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0];
  return { ds, pod, c, sc: c.securityContext };
}

// The kubelet's expansion of $(VAR) in command and args: a variable the
// container's env defines is replaced, $$ is a literal $, anything else stays.
export function expand(s, env) {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => (m === '$$' ? '$' : name in env ? env[name] : m));
}

// The container's env, with fieldRef values taken from fields
// ({ 'status.podIP': '10.0.0.5' }).
export function containerEnv(c, fields) {
  const env = {};
  for (const e of c.env ?? []) {
    if ('value' in e) env[e.name] = expand(e.value, env);
    else if (e.valueFrom?.fieldRef) {
      const f = e.valueFrom.fieldRef.fieldPath;
      assert.ok(f in fields, `a value for fieldRef ${f}`);
      env[e.name] = fields[f];
    } else assert.fail(`env ${e.name}: a source the test does not emulate`);
  }
  return env;
}

// The exec'd argv: the image ENTRYPOINT (command unset) and args expanded.
export function containerArgv(c, fields = {}) {
  assert.equal(c.command, undefined, 'the image ENTRYPOINT runs the binary');
  const env = containerEnv(c, fields);
  return [IMAGE_BIN, ...(c.args ?? []).map((a) => expand(a, env))];
}

// A Secret volume as the kubelet lays it out (its AtomicWriter): each key's
// file, mode defaultMode, in a timestamped directory that ..data points to,
// and at the top a symlink KEY -> ..data/KEY. Returns { dir, file(key) }:
// file(key) is the symlink's target, what a subPath mount of KEY shows the
// container (the kubelet bind-mounts the resolved file).
export function secretVolume(dir, secret, defaultMode) {
  const data = { ...Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    ...secret.stringData };
  const ts = '..2025_01_01_00_00_00.000000000';
  mkdirSync(path.join(dir, ts), { recursive: true });
  for (const [k, v] of Object.entries(data)) {
    writeFileSync(path.join(dir, ts, k), v);
    chmodSync(path.join(dir, ts, k), defaultMode);
    symlinkSync(path.join('..data', k), path.join(dir, k));
  }
  symlinkSync(ts, path.join(dir, '..data'));
  return { dir, file: (k) => path.join(dir, ts, k) };
}

const CAP_NAMES = new Set(['BPF', 'PERFMON', 'NET_ADMIN', 'SYS_ADMIN', 'SYSLOG', 'SYS_PTRACE', 'DAC_READ_SEARCH']);

// setpriv arguments for a container's securityContext, as the runtime sets
// it up for uid 0: the bounding set is the added capabilities, no
// inheritable or ambient ones, no_new_privs when allowPrivilegeEscalation is
// false. (deploy_k8s.test.mjs also runs non-root users; this is the
// manifests' case.)
export function setprivArgs(sc) {
  assert.equal(sc.runAsUser, 0);
  assert.deepEqual(sc.capabilities.drop, ['ALL']);
  for (const x of sc.capabilities.add) assert.ok(CAP_NAMES.has(x), `a capability the emulation knows: ${x}`);
  const set = `-all,${sc.capabilities.add.map((x) => `+${x.toLowerCase()}`).join(',')}`;
  return ['setpriv', '--reuid=0', `--regid=${sc.runAsGroup ?? 0}`, '--clear-groups', `--bounding-set=${set}`,
    '--inh-caps=-all', ...(sc.allowPrivilegeEscalation === false ? ['--no-new-privs'] : [])];
}

// The Kubernetes recipe (docs/deploy/daemonset.yaml, kubernetes.md), tried as
// far as a machine without a cluster allows.
//
// 1. The manifest parses (yaml), every document validates against the
//    Kubernetes API schema (kubernetes-models; kubectl cannot validate
//    without an API server), and the DaemonSet has what the recipe relies
//    on: hostPID, stdin, the image's entrypoint, the capability set, the
//    host mounts. Every daemonset*.yaml (the HTTP variants too, whose
//    runs are in deploy_http.test.mjs) validates, each document, with no
//    field the schema does not know.
// 2. The `kubectl exec` command line of the recipe's client config runs the
//    way a container runtime would run it from the manifest's securityContext,
//    emulated with util-linux: setpriv for the user, the bounding/effective/
//    permitted capabilities (read from the YAML), no inheritable or ambient
//    ones, and no_new_privs; unshare -m for the container's view of /sys (a
//    fresh read-only sysfs, and the hostPath volumes bound at their
//    mountPaths, read-only as the manifest says). prlimit sets RLIMIT_MEMLOCK
//    to 0, the worst a node could give. Witnesses: /proc/<pid>/status (the
//    capability sets, NoNewPrivs, uid) and /proc/<pid>/mountinfo, then the
//    smoke suite.
// 3. What each capability buys, measured: without any one listed capability
//    trace_open fails naming it; the optional ones documented in
//    kubernetes.md (SYS_ADMIN, SYSLOG, SYS_PTRACE) each change the one result
//    the document says; a non-root user with the same capabilities cannot
//    read tracefs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { BIN, ensureMounts } from '../lib/mcp.mjs';
import { smoke, SMOKE_CHECKS } from '../lib/smoke.mjs';
import { DEPLOY, readJson, spawnServer, initOrExit, waitFor } from '../lib/deploy.mjs';
import { OBJ_DIR, load, fails, progExists } from '../lib/kern.mjs';
import { MODELS as KINDS, readManifest, validateManifest, unknownFields } from '../lib/k8s.mjs';

const IMAGE_BIN = '/ebpf-mcp';         // the Dockerfile's COPY destination and ENTRYPOINT
const MODELS = { Namespace, DaemonSet };

function manifest() {
  const docs = YAML.parseAllDocuments(readFileSync(path.join(DEPLOY, 'daemonset.yaml'), 'utf8'));
  for (const d of docs) assert.deepEqual(d.errors, [], 'daemonset.yaml parses');
  const objs = docs.map((d) => d.toJS());
  const ds = objs.find((o) => o.kind === 'DaemonSet');
  assert.ok(ds, 'a DaemonSet');
  const c = ds.spec.template.spec.containers[0];
  return { objs, ds, pod: ds.spec.template.spec, c, sc: c.securityContext };
}

test('daemonset.yaml: valid Kubernetes objects with what the recipe relies on', () => {
  const { objs, ds, pod, c, sc } = manifest();
  for (const o of objs) {
    const Model = MODELS[o.kind];
    assert.ok(Model, `a kind the test knows: ${o.kind}`);
    new Model(o).validate();                      // throws with the JSON pointer of the problem
  }
  // The validator is live: the same object with a wrong type is refused.
  const broken = structuredClone(ds);
  broken.spec.template.spec.containers[0].stdin = 'yes';
  assert.throws(() => new DaemonSet(broken).validate(), /stdin must be boolean/);

  const ns = objs.find((o) => o.kind === 'Namespace');
  assert.equal(ds.metadata.namespace, ns.metadata.name);
  assert.deepEqual(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels);
  assert.equal(pod.hostPID, true, 'host pids for the tracers and /proc');
  assert.equal(pod.containers.length, 1);
  assert.equal(c.image, 'ebpf-mcp:latest');
  assert.equal(c.command, undefined, 'the image ENTRYPOINT runs the binary');
  assert.equal(c.stdin, true, 'stdin held open: the idle server does not see EOF');
  assert.ok(!c.tty, 'no tty: it would mangle the JSON lines');
  assert.deepEqual(c.args, ['--profile', 'observe']);
  assert.equal(sc.privileged, false);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.runAsUser, 0);
  assert.equal(sc.seccompProfile?.type, 'RuntimeDefault');
  assert.deepEqual(sc.capabilities.drop, ['ALL']);
  assert.deepEqual(sc.capabilities.add, ['BPF', 'PERFMON']);
  // Each mount is the host's own directory at the same path.
  const vols = new Map(pod.volumes.map((v) => [v.name, v]));
  const mounts = new Map(c.volumeMounts.map((m) => [m.mountPath, m]));
  for (const want of ['/sys/kernel/tracing', '/sys/fs/bpf']) assert.ok(mounts.has(want), `mounts ${want}`);
  for (const m of c.volumeMounts) {
    const v = vols.get(m.name);
    assert.equal(v?.hostPath?.path, m.mountPath, `${m.name}: hostPath at the same path`);
    assert.equal(v.hostPath.type, 'Directory');
  }
});

test('every daemonset*.yaml: each document valid against the Kubernetes schema, no field it lacks', () => {
  const files = readdirSync(DEPLOY).filter((f) => /^daemonset.*\.yaml$/.test(f)).sort();
  assert.deepEqual(files, ['daemonset-http-loopback.yaml', 'daemonset-http.yaml', 'daemonset.yaml']);
  const kinds = new Set();
  for (const f of files) {
    const objs = readManifest(f);
    validateManifest(f, objs);
    for (const o of objs) kinds.add(o.kind);
  }
  assert.deepEqual([...kinds].sort(), ['DaemonSet', 'Namespace', 'NetworkPolicy', 'Secret']);
  // The unknown-field check is live: a misspelt probe, a stray key in a
  // Secret volume and in a Secret are found where they are.
  const ds = readManifest('daemonset-http.yaml').find((o) => o.kind === 'DaemonSet');
  const c = ds.spec.template.spec.containers[0];
  c.readinesProbe = c.readinessProbe;
  ds.spec.template.spec.volumes.find((v) => v.secret).secret.mode = 256;
  assert.deepEqual(unknownFields(DaemonSet, ds), ['/spec/template/spec/containers/0/readinesProbe',
    '/spec/template/spec/volumes/2/secret/mode']);
  const secret = readManifest('daemonset-http.yaml').find((o) => o.kind === 'Secret');
  assert.deepEqual(unknownFields(KINDS.Secret, { ...secret, strinData: {} }), ['/strinData']);
  assert.throws(() => validateManifest('x', [{ ...secret, stringData: { tokens: 1 } }]), /stringData\/tokens must be string/);
});

// ---- the container, emulated -----------------------------------------------

const CAP_BITS = { DAC_READ_SEARCH: 2, NET_ADMIN: 12, SYS_PTRACE: 19, SYS_ADMIN: 21, SYSLOG: 34, PERFMON: 38, BPF: 39 };

// A shell script for unshare -m: the container's /sys (fresh, read-only) with
// each volume bound at its mountPath. $1 is a scratch dir for the binds.
function sysView(pod, c) {
  const vols = new Map(pod.volumes.map((v) => [v.name, v]));
  const steps = [];
  c.volumeMounts.forEach((m, i) => {
    assert.match(m.mountPath, /^\/sys\//, 'the emulation covers mounts under /sys');
    steps.push(`mkdir "$1/v${i}" && mount --bind ${vols.get(m.name).hostPath.path} "$1/v${i}"`);
  });
  steps.push('umount -l /sys', 'mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys');
  c.volumeMounts.forEach((m, i) => {
    steps.push(`mount --bind "$1/v${i}" ${m.mountPath}`);
    if (m.readOnly) steps.push(`mount -o remount,bind,ro ${m.mountPath}`);
    steps.push(`umount "$1/v${i}"`);
  });
  return steps.join(' && ') + ' && shift && exec "$@"';
}

// Start argv (the exec'd command, image path swapped for the built binary)
// as the runtime would from the manifest; caps and uid override it.
function container(argv, { caps, uid } = {}) {
  const { pod, c, sc } = manifest();
  caps ??= sc.capabilities.add;
  uid ??= sc.runAsUser;
  const list = caps.map((x) => `+${x.toLowerCase()}`).join(',');
  const set = `-all${list ? ',' + list : ''}`;
  const setpriv = ['setpriv', `--reuid=${uid}`, `--regid=${uid === 0 ? sc.runAsGroup : uid}`, '--clear-groups',
    `--bounding-set=${set}`];
  // uid 0 keeps the bounding set across exec; another user keeps only
  // ambient capabilities, which runtimes do not set (so the manifest runs as
  // uid 0). Here they are set, to show what else a non-root user lacks.
  if (uid === 0) setpriv.push('--inh-caps=-all');
  else setpriv.push(`--inh-caps=${set}`, `--ambient-caps=${set}`);
  if (sc.allowPrivilegeEscalation === false) setpriv.push('--no-new-privs');
  const binds = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-k8s-'));
  const cmd = ['prlimit', '--memlock=0:0', 'unshare', '-m', '--propagation', 'private',
    'sh', '-c', sysView(pod, c), 'sh', binds, ...setpriv, BIN, ...argv.slice(1)];
  assert.equal(argv[0], IMAGE_BIN);
  const r = spawnServer(cmd[0], cmd.slice(1));
  r.cleanup = () => rmSync(binds, { recursive: true, force: true });
  return r;
}

// The exec'd command line of the recipe's client config.
function execArgv() {
  const e = readJson('kubernetes/mcp.json').mcpServers['ebpf-mcp-cluster'];
  assert.equal(e.command, 'kubectl');
  assert.deepEqual(e.args.slice(0, 2), ['exec', '-i'], 'kubectl exec -i: stdin streamed, no tty');
  assert.ok(!e.args.includes('-t') && !e.args.includes('--tty'));
  return e.args.slice(e.args.indexOf('--') + 1);
}

async function inContainer(opts, fn) {
  ensureMounts();
  const r = container(execArgv(), opts);
  try {
    await initOrExit(r);
    return await fn(r.server, r.proc.pid);
  } finally {
    await r.server.close();
    r.cleanup();
  }
}

function status(pid) {
  const s = {};
  for (const l of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = l.match(/^(\w+):\s+(.*)$/);
    if (m) s[m[1]] = m[2];
  }
  return s;
}

const mask = (caps) => caps.reduce((m, x) => m | (1n << BigInt(CAP_BITS[x])), 0n);
const hex = (s) => BigInt(`0x${s}`);

test('the exec command under the manifest securityContext passes the smoke suite', async () => {
  const { c, sc } = manifest();
  await inContainer({}, async (s, pid) => {
    const st = status(pid);
    assert.equal(st.Uid.split('\t')[0], String(sc.runAsUser));
    const want = mask(sc.capabilities.add);
    assert.equal(hex(st.CapEff), want, 'effective = the added capabilities');
    assert.equal(hex(st.CapPrm), want);
    assert.equal(hex(st.CapBnd), want);
    assert.equal(hex(st.CapInh), 0n);
    assert.equal(hex(st.CapAmb), 0n);
    assert.equal(st.NoNewPrivs, '1');
    assert.equal(readFileSync(`/proc/${pid}/limits`, 'utf8').match(/Max locked memory\s+(\d+)/)[1], '0');
    // The container's /sys, as the kernel shows it to the server.
    const mi = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').trim().split('\n').map((l) => {
      const f = l.split(' ');
      const sep = f.indexOf('-');
      return { point: f[4], opts: f[5].split(','), type: f[sep + 1] };
    });
    const sys = mi.filter((m) => m.point === '/sys' || m.point.startsWith('/sys/'));
    assert.deepEqual(sys.map((m) => m.point).sort(), ['/sys', ...c.volumeMounts.map((m) => m.mountPath)].sort(),
      'only the volumes are mounted under /sys');
    for (const m of sys) {
      const vm = c.volumeMounts.find((v) => v.mountPath === m.point);
      if (!vm || vm.readOnly) assert.ok(m.opts.includes('ro'), `${m.point} is read-only`);
    }
    assert.deepEqual(await smoke(s, { release: os.release(), pid }), SMOKE_CHECKS);
  });
});

// trace_open needs every capability the manifest lists, and says which one
// is missing.
test('without any one listed capability, trace_open fails naming it', async () => {
  const { sc } = manifest();
  for (const gone of sc.capabilities.add) {
    const caps = sc.capabilities.add.filter((x) => x !== gone);
    await inContainer({ caps }, async (s) => {
      const r = await s.call('trace_open', { duration_ms: 200 });
      assert.equal(r.isError, true, `without ${gone}`);
      const e = r.structuredContent.error;
      assert.equal(e.category, 'permission');
      assert.equal(e.code, 'MISSING_CAPABILITY');
      assert.equal(e.context.capability, `CAP_${gone}`);
      assert.match(e.message, new RegExp(`CAP_${gone}`));
    });
  }
});

test('the capabilities bound the profile: --profile full in this container has no NET_ADMIN', async () => {
  const { sc } = manifest();
  const r = container([IMAGE_BIN, '--profile', 'full']);
  try {
    await initOrExit(r);
    const info = await r.server.ok('info');
    assert.equal(info.server.profile, 'full');
    assert.equal(info.capabilities.net_admin, false);
    assert.deepEqual(info.capabilities.effective.slice().sort(), sc.capabilities.add.map((x) => x.toLowerCase()).sort());
  } finally {
    await r.server.close();
    r.cleanup();
  }
});

// The full profile's variant: tracing programs load and attach with the
// manifest's capabilities; networking program types need NET_ADMIN.
test('full profile: tracepoint programs need only BPF + PERFMON, xdp/tc/cgroup programs NET_ADMIN', async () => {
  const { sc } = manifest();
  for (const o of ['attach_trace', 'attach_net'])
    assert.ok(existsSync(path.join(OBJ_DIR, `${o}.bpf.o`)), `${o}.bpf.o: build the test BPF objects (make test)`);
  const full = [IMAGE_BIN, '--profile', 'full', '--object-dir', OBJ_DIR];
  const ids = [];
  for (const net of [false, true]) {
    const r = container(full, { caps: net ? [...sc.capabilities.add, 'NET_ADMIN'] : sc.capabilities.add });
    try {
      await initOrExit(r);
      const s = r.server;
      if (!net) {
        const t = await load(s, 'attach_trace');
        ids.push(t.prog.count_tp);
        assert.ok(progExists(t.prog.count_tp), 'bpftool: the tracepoint program is loaded');
        const l = await s.ok('attach_program', { program_id: t.prog.count_tp, type: 'tracepoint',
          target: 'syscalls/sys_enter_getppid' });
        assert.ok(l.link_id > 0);
        const e = await fails(s, 'load_program', { path: path.join(OBJ_DIR, 'attach_net.bpf.o') });
        assert.equal(e.category, 'permission');
        assert.equal(e.context.capability, 'CAP_NET_ADMIN', JSON.stringify(e));
      } else {
        const n = await load(s, 'attach_net');
        ids.push(n.prog.count_xdp);
        assert.ok(progExists(n.prog.count_xdp), 'bpftool: the xdp program is loaded');
      }
    } finally {
      await r.server.close();
      r.cleanup();
    }
  }
  // (the kernel frees a program after its last reference, asynchronously)
  for (const id of ids) await waitFor(`program ${id} released when the session ended`, () => !progExists(id));
});

// kallsyms_show_value(): addresses are shown with CAP_SYSLOG when
// kptr_restrict is 0 or 1, and to anyone when it is 0 and
// perf_event_paranoid <= 1.
function kallsymsVisible(syslog) {
  const kr = Number(readFileSync('/proc/sys/kernel/kptr_restrict', 'utf8'));
  const pp = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'));
  if (kr === 2) return false;
  return (kr === 0 && pp <= 1) || syslog;
}

test('optional capabilities, each for the one gain kubernetes.md names', async () => {
  const { sc } = manifest();
  const base = sc.capabilities.add;
  // SYS_ADMIN: the kernel walks object ids (BPF_*_GET_NEXT_ID) only for it.
  await inContainer({}, async (s) => {
    const r = await s.call('inspect_state', {});
    assert.equal(r.isError, true);
    assert.equal(r.structuredContent.error.category, 'permission');
    assert.equal(r.structuredContent.error.code, 'MISSING_CAPABILITY');
    assert.equal(r.structuredContent.error.context.capability, 'CAP_SYS_ADMIN', 'names the one that helps');
  });
  await inContainer({ caps: [...base, 'SYS_ADMIN'] }, async (s) => { await s.ok('inspect_state', {}); });
  // SYSLOG: kernel addresses (list_kernel_functions, profile_cpu kernel frames).
  for (const syslog of [false, true]) {
    await inContainer({ caps: syslog ? [...base, 'SYSLOG'] : base }, async (s) => {
      const r = await s.ok('list_kernel_functions', { pattern: 'vfs_read', limit: 1 });
      assert.equal(r.addresses_visible, kallsymsVisible(syslog), `addresses with SYSLOG=${syslog}`);
    });
  }
  // SYS_PTRACE: user-space symbols of a process holding more capabilities
  // (this busy loop runs as root with all of them).
  const busy = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
  try {
    for (const ptrace of [false, true]) {
      await inContainer({ caps: ptrace ? [...base, 'SYS_PTRACE'] : base }, async (s) => {
        const r = await s.ok('profile_cpu', { pid: busy.pid, duration_ms: 500, limit: 5 });
        assert.ok(r.stacks.length > 0, 'the busy loop was sampled');
        const denied = r.stacks.filter((x) => /Permission denied/.test(x.user_error ?? ''));
        if (ptrace) assert.deepEqual(denied, [], 'with SYS_PTRACE its ELF files open');
        else assert.ok(denied.length > 0, `without SYS_PTRACE: ${JSON.stringify(r.stacks[0])}`);
      });
    }
  } finally {
    busy.kill('SIGKILL');
  }
});

test('a non-root user with the same capabilities cannot read tracefs (why runAsUser is 0)', async () => {
  ensureMounts();
  const st = statSync('/sys/kernel/tracing');
  assert.equal(st.uid, 0);
  assert.equal(st.mode & 0o077, 0, 'tracefs is closed to group and others on this host');
  await inContainer({ uid: 65534 }, async (s, pid) => {
    assert.equal(hex(status(pid).CapEff), mask(manifest().sc.capabilities.add), 'the capabilities are held');
    // The error says what is wrong (not "mount tracefs") and what helps.
    const r = await s.call('list_tracepoints', { category: 'syscalls', pattern: 'sys_enter_openat' });
    assert.equal(r.isError, true, 'tracepoints are out of reach');
    assert.equal(r.structuredContent.error.code, 'TRACEFS_DENIED');
    assert.match(r.structuredContent.error.message, /uid 65534.*CAP_DAC_READ_SEARCH/);
    const t = await s.call('trace_open', { duration_ms: 200 });
    assert.equal(t.isError, true, `and so are the tracers: ${JSON.stringify(t.structuredContent)}`);
    assert.equal(t.structuredContent.error.code, 'TRACEFS_DENIED');
  });
  // The control: the same user, allowed to read any file, gets both.
  await inContainer({ uid: 65534, caps: [...manifest().sc.capabilities.add, 'DAC_READ_SEARCH'] }, async (s) => {
    await s.ok('list_tracepoints', { category: 'syscalls', pattern: 'sys_enter_openat' });
    await s.ok('trace_open', { duration_ms: 200 });
  });
});

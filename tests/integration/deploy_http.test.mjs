// The HTTP recipes (docs/deploy/http.md, daemonset-http.yaml,
// daemonset-http-loopback.yaml, http/), tried as far as a machine without a
// cluster allows. The schema validation of both manifests is in
// deploy_k8s.test.mjs.
//
// A pod is emulated by a network namespace with its own address (a veth pair:
// this namespace is the node, the kubelet's side). The manifest's command line
// runs in it unchanged but for what a cluster fills in: $(POD_IP) is the
// namespace's address, /ebpf-mcp the built binary, and each mountPath the
// emulated volume (a Secret laid out as the kubelet does, with the file a
// subPath mount shows; an emptyDir). The container's capabilities and
// no_new_privs come from its securityContext (setpriv), as in
// deploy_k8s.test.mjs. Witnesses from outside the server:
// - the kubelet's httpGet probes, as the bytes its Go client sends (Host
//   POD_IP:PORT), from the node's namespace;
// - connection refused at POD_IP for the loopback variant (what httpGet and
//   tcpSocket probes would meet), and its exec probe's exit status, with the
//   daemon running and stopped (SIGSTOP);
// - kubectl port-forward as the container runtime does it: a stream (here a
//   unix socket) to a process in the pod's namespace that dials localhost:PORT;
// - the official SDK's Streamable HTTP client with the headers of the client
//   files (http/mcp.json, http/cursor-mcp.json), and the MCP Inspector CLI;
// - nginx with http/nginx.conf, TLS with a throwaway certificate, and the
//   timing of server-sent events through it;
// - promtool for http/prometheus.yml and for what /metrics serves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BIN, ROOT, ensureMounts } from '../lib/mcp.mjs';
import { DEPLOY, readJson } from '../lib/deploy.mjs';
import { HttpDaemon, MODERN, modern, rawExchange, firstStatus } from '../lib/http.mjs';
import { vethPair, sleep } from '../lib/kern.mjs';
import { readManifest, daemonSet, containerArgv, secretVolume, setprivArgs, IMAGE_BIN } from '../lib/k8s.mjs';

const TAG = `h${process.pid % 100000}`;            // netns and veth names
const OCTET = String(250 + (process.pid % 5));     // 10.213.OCTET.0/24, beside attach.test.mjs's
const INSPECTOR = path.join(ROOT, 'tests/node_modules/@modelcontextprotocol/inspector-cli/build/cli.js');
const TOKENS = {
  alice: 'a1'.repeat(32),     // 64 hex digits, as http.md makes them
  prom: 'b2'.repeat(32),
};
const tokenLines = `alice ${TOKENS.alice} observe\nprometheus ${TOKENS.prom} readonly\n`;

let pod;          // { ns, a, b, addrA (the node), addrB (the pod IP), cleanup }
let scratch;

before(() => {
  ensureMounts();
  pod = vethPair(TAG, OCTET);
  scratch = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-http-'));
  chmodSync(scratch, 0o755);    // nginx's workers (nobody) read below it
});

after(() => {
  pod?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const toolsOf = (profile) => JSON.parse(spawnSync(BIN, ['tools', '--profile', profile], { encoding: 'utf8' }).stdout)
  .tools.map((t) => t.name).sort();

// argv[0] for HttpDaemon: the container's process in the pod's network
// namespace, under its securityContext.
function podBin(sc, name) {
  const file = path.join(scratch, name);
  const words = ['nsenter', `--net=/run/netns/${pod.ns}`, '--', ...setprivArgs(sc), BIN];
  writeFileSync(file, `#!/bin/sh\nexec ${words.map((w) => `'${w}'`).join(' ')} "$@"\n`, { mode: 0o755 });
  return file;
}

// Starts the manifest's argv (`serve --http ADDR ...` expected first, as
// HttpDaemon puts them) with each path in paths swapped for its emulation.
function startPod(c, sc, name, paths = {}) {
  const argv = containerArgv(c, { 'status.podIP': pod.addrB }).map((a) => paths[a] ?? a);
  assert.equal(argv[0], IMAGE_BIN);
  assert.deepEqual(argv.slice(1, 3), ['serve', '--http']);
  return HttpDaemon.start(argv.slice(4), { addr: argv[3], bin: podBin(sc, name), validate: false });
}

// What the kubelet's HTTP prober sends (Go net/http, keep-alives off):
// Host is the URL's, POD_IP:PORT unless the probe sets host or a Host header.
async function kubeletHttpGet(c, probe) {
  const g = probe.httpGet;
  assert.equal(g.host, undefined, 'the kubelet connects to the pod IP');
  const port = typeof g.port === 'number' ? g.port : c.ports.find((p) => p.name === g.port).containerPort;
  const req = `GET ${g.path} HTTP/1.1\r\nHost: ${pod.addrB}:${port}\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\n` +
    'Connection: close\r\nAccept-Encoding: gzip\r\n\r\n';
  const r = await rawExchange(port, req, { host: pod.addrB });
  return { status: firstStatus(r.data), body: r.data.slice(r.data.indexOf('\r\n\r\n') + 4) };
}

function refused(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', (e) => resolve(e.code === 'ECONNREFUSED'));
  });
}

// A client file's entry with ${VAR} / ${env:VAR} filled from vars and the
// URL's origin swapped for base.
function clientEntry(file, base, vars) {
  const e = Object.values(readJson(file).mcpServers)[0];
  const fill = (s) => s.replace(/\$\{(?:env:)?([A-Z_]+)\}/g, (_, v) => vars[v]);
  const url = new URL(fill(e.url));
  return { ...e, url: new URL(url.pathname, base), headers: Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k, fill(v)])) };
}

async function sdkTools(url, headers) {
  const client = new Client({ name: 'deploy-http-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await client.close();
  }
}

function promtool(args, input) {
  return spawnSync('promtool', args, { encoding: 'utf8', input });
}

// Prometheus relabeling (keep and replace), for the pod job's rules.
function relabel(labels, rules) {
  const out = { ...labels };
  for (const r of rules) {
    const value = (r.source_labels ?? []).map((l) => out[l] ?? '').join(r.separator ?? ';');
    const re = new RegExp(`^(?:${r.regex ?? '(.*)'})$`);
    const action = r.action ?? 'replace';
    if (action === 'keep') { if (!re.test(value)) return null; }
    else if (action === 'replace') { if (re.test(value)) out[r.target_label] = value.replace(re, r.replacement ?? '$1'); }
    else assert.fail(`a relabel action the test knows: ${action}`);
  }
  return out;
}

// ---- the manifests: what the recipes rely on ------------------------------------------

test('daemonset-http.yaml: pod IP + tokens from the Secret (subPath, 0400), httpGet probes, the stdio recipe\'s privileges', () => {
  const objs = readManifest('daemonset-http.yaml');
  const { ds, pod: spec, c, sc } = daemonSet(objs);
  const base = daemonSet(readManifest('daemonset.yaml'));
  assert.deepEqual(sc, base.sc, 'the same securityContext as daemonset.yaml');
  assert.deepEqual(spec.hostPID, true);
  for (const k of ['tolerations', 'automountServiceAccountToken', 'enableServiceLinks']) assert.deepEqual(spec[k], base.pod[k], k);
  assert.deepEqual(c.resources, base.c.resources);
  assert.equal(c.image, base.c.image);
  assert.ok(!c.stdin && !c.tty, 'a daemon: no stdin held open');
  assert.equal(ds.metadata.name, base.ds.metadata.name, 'replaces the stdio DaemonSet (kubernetes/mcp.json still execs into it)');
  // POD_IP from the downward API, expanded in args.
  assert.deepEqual(c.env, [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }]);
  const argv = containerArgv(c, { 'status.podIP': '10.1.2.3' });
  assert.deepEqual(argv.slice(0, 4), [IMAGE_BIN, 'serve', '--http', '10.1.2.3:8080']);
  assert.ok(!argv.includes('--socket'), 'HTTP only: the root file system is read-only');
  const port = c.ports.find((p) => p.name === 'http');
  assert.equal(port.containerPort, 8080);
  // The token file: the Secret's key through a subPath mount, read-only, 0400.
  const tokenFile = argv[argv.indexOf('--token-file') + 1];
  const mount = c.volumeMounts.find((m) => m.mountPath === tokenFile);
  assert.ok(mount, '--token-file is a mountPath');
  assert.equal(mount.readOnly, true);
  const vol = spec.volumes.find((v) => v.name === mount.name);
  const secret = objs.find((o) => o.kind === 'Secret');
  assert.equal(vol.secret.secretName, secret.metadata.name);
  assert.equal(secret.metadata.namespace, ds.metadata.namespace);
  assert.ok(mount.subPath in secret.stringData, 'subPath names the Secret key');
  assert.equal(vol.secret.defaultMode, 0o400);
  // Everything else as daemonset.yaml mounts it.
  assert.deepEqual(c.volumeMounts.filter((m) => m !== mount), base.c.volumeMounts);
  assert.deepEqual(spec.volumes.filter((v) => v !== vol), base.pod.volumes);
  for (const p of [c.readinessProbe, c.livenessProbe]) assert.deepEqual([p.httpGet.path, p.httpGet.port], ['/healthz', 'http']);
  const ann = ds.spec.template.metadata.annotations;
  assert.deepEqual(ann, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port.containerPort), 'prometheus.io/path': '/metrics' });
  // The NetworkPolicy selects these pods and opens only that port.
  const np = objs.find((o) => o.kind === 'NetworkPolicy');
  assert.equal(np.metadata.namespace, ds.metadata.namespace);
  assert.deepEqual(np.spec.podSelector.matchLabels, ds.spec.template.metadata.labels);
  assert.deepEqual(np.spec.ingress.flatMap((r) => r.ports), [{ protocol: 'TCP', port: port.containerPort }]);
});

test('daemonset-http-loopback.yaml: 127.0.0.1 only, exec probes over the unix socket on an emptyDir, the same privileges', () => {
  const { ds, pod: spec, c, sc } = daemonSet(readManifest('daemonset-http-loopback.yaml'));
  const base = daemonSet(readManifest('daemonset.yaml'));
  assert.deepEqual(sc, base.sc);
  assert.equal(ds.metadata.name, base.ds.metadata.name);
  assert.ok(!spec.hostNetwork, 'the pod\'s own loopback, not the node\'s');
  const argv = containerArgv(c);
  assert.deepEqual(argv.slice(0, 4), [IMAGE_BIN, 'serve', '--http', '127.0.0.1:8080']);
  assert.ok(!argv.includes('--token-file'));
  assert.ok(!c.ports, 'nothing to publish: only port-forward reaches it');
  const sock = argv[argv.indexOf('--socket') + 1];
  const mount = c.volumeMounts.find((m) => sock.startsWith(`${m.mountPath}/`));
  assert.ok(spec.volumes.find((v) => v.name === mount.name).emptyDir, 'the socket on an emptyDir');
  for (const p of [c.readinessProbe, c.livenessProbe]) {
    assert.ok(!p.httpGet && !p.tcpSocket, 'no network probe: the kubelet would dial the pod IP');
    assert.deepEqual(p.exec.command, [IMAGE_BIN, 'connect', sock]);
  }
  assert.deepEqual(c.volumeMounts.filter((m) => m !== mount), base.c.volumeMounts);
});

// ---- the pod-IP variant, run ----------------------------------------------------------

// The Secret as the kubelet mounts it, with the user's token lines (or the
// manifest's own placeholder).
function tokenVolume(objs, dir, lines) {
  const { c, pod: spec } = daemonSet(objs);
  const secret = structuredClone(objs.find((o) => o.kind === 'Secret'));
  const mount = c.volumeMounts.find((m) => m.subPath);
  if (lines !== undefined) secret.stringData[mount.subPath] = lines;
  const v = secretVolume(dir, secret, spec.volumes.find((x) => x.name === mount.name).secret.defaultMode);
  return { mount, whole: path.join(dir, mount.subPath), file: v.file(mount.subPath) };
}

test('daemonset-http.yaml run in a pod: the Secret\'s placeholder and a whole-volume path are refused; the subPath file serves', async () => {
  const objs = readManifest('daemonset-http.yaml');
  const { c, sc } = daemonSet(objs);
  // Unedited, the Secret keeps the server from starting, and says why.
  const raw = tokenVolume(objs, path.join(scratch, 'secret-raw'));
  await assert.rejects(startPod(c, sc, 'raw.sh', { [raw.mount.mountPath]: raw.file }), /tokens:1: a token is 16 to 256 bytes/);
  // Without subPath the key is a symlink (KEY -> ..data/KEY), which the
  // server does not follow.
  const v = tokenVolume(objs, path.join(scratch, 'secret'), tokenLines);
  await assert.rejects(startPod(c, sc, 'whole.sh', { [v.mount.mountPath]: v.whole }), /--token-file \S+ is a symbolic link: refused, .*subPath/);
  const d = await startPod(c, sc, 'sub.sh', { [v.mount.mountPath]: v.file });
  try {
    assert.equal(d.host, pod.addrB);
    assert.equal(d.port, 8080);
    // The kubelet's probes, from the node: 200 with the status.
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      const r = await kubeletHttpGet(c, probe);
      assert.equal(r.status, 200, r.body);
      assert.equal(JSON.parse(r.body).status, 'ok');
    }
    // /healthz needs no token and takes one.
    for (const h of [{}, { authorization: `Bearer ${TOKENS.alice}` }]) {
      const r = await d.get('/healthz', h);
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 'ok');
    }
    // /mcp: 401 without a token or with a wrong one; served with one.
    const list = modern(1, 'tools/list');
    const no = await d.post(list);
    assert.equal(no.status, 401);
    assert.match(no.headers['www-authenticate'], /^Bearer realm="ebpf-mcp"$/);
    assert.equal((await d.post(list, {}, { token: 'c3'.repeat(32) })).status, 401);
    const yes = await d.post(list, {}, { token: TOKENS.alice });
    assert.equal(yes.status, 200, yes.text);
    assert.deepEqual(yes.json.result.tools.map((t) => t.name).sort(), toolsOf('observe'), 'alice\'s profile: observe');
    // The client files, as their clients read them, with the official SDK
    // (the 2025-11-25 era: initialize, a session).
    for (const f of ['http/mcp.json', 'http/cursor-mcp.json']) {
      const e = clientEntry(f, d.base, { EBPF_MCP_TOKEN: TOKENS.alice });
      assert.deepEqual(await sdkTools(e.url, e.headers), toolsOf('observe'), f);
    }
    // A tool runs: the audit line (--audit-log -) names the token, not its value.
    const info = await d.post(modern(2, 'tools/call', { name: 'info', arguments: {} }), {}, { token: TOKENS.alice });
    assert.equal(info.json.result.structuredContent.server.profile, 'observe');
    assert.match(d.stderr, /"token":"alice"/);
    assert.ok(!d.stderr.includes(TOKENS.alice), 'no token value in the log');
    await metricsChecks(d, objs);
  } finally {
    await d.stop();
  }
});

// /metrics behind a token; http/prometheus.yml's jobs.
async function metricsChecks(d, objs) {
  assert.equal((await d.get('/metrics')).status, 401);
  const cfg = YAML.parse(readFileSync(path.join(DEPLOY, 'http/prometheus.yml'), 'utf8'));
  const credFile = path.join(scratch, 'prometheus.token');
  writeFileSync(credFile, `${TOKENS.prom}\n`, { mode: 0o400 });
  for (const j of cfg.scrape_configs) {
    assert.equal(j.authorization.type, 'Bearer');
    j.authorization.credentials_file = credFile;
  }
  // promtool (Debian's build has no Kubernetes discovery): the static job.
  const stat = path.join(scratch, 'prometheus-static.yml');
  writeFileSync(stat, YAML.stringify({ scrape_configs: cfg.scrape_configs.filter((j) => !j.kubernetes_sd_configs) }));
  const chk = promtool(['check', 'config', stat]);
  assert.equal(chk.status, 0, chk.stdout + chk.stderr);
  // The pod job: the labels pod discovery gives this pod's port, relabeled
  // by its rules, are the URL Prometheus scrapes (Host POD_IP:8080).
  const { ds, c } = daemonSet(objs);
  const podJob = cfg.scrape_configs.find((j) => j.kubernetes_sd_configs);
  assert.deepEqual(podJob.kubernetes_sd_configs[0].namespaces.names, [ds.metadata.namespace]);
  const labels = { __address__: `${pod.addrB}:${c.ports[0].containerPort}`, __scheme__: 'http', __metrics_path__: '/metrics',
    __meta_kubernetes_pod_container_port_name: c.ports[0].name, __meta_kubernetes_pod_node_name: 'node1' };
  for (const [k, v] of Object.entries(ds.spec.template.metadata.annotations))
    labels[`__meta_kubernetes_pod_annotation_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`] = v;
  const t = relabel(labels, podJob.relabel_configs);
  assert.ok(t, 'the pod is kept');
  assert.equal(t.node, 'node1');
  const url = `${t.__scheme__}://${t.__address__}${t.__metrics_path__}`;
  assert.equal(url, `${d.base}/metrics`);
  const bearer = readFileSync(podJob.authorization.credentials_file, 'utf8').trim();
  const res = await fetch(url, { headers: { authorization: `Bearer ${bearer}` } });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  const m = promtool(['check', 'metrics'], body);
  assert.equal(m.status, 0, m.stdout + m.stderr);
  assert.match(body, /^ebpf_mcp_http_auth_failures_total \d+/m);
}

// ---- the loopback variant, run --------------------------------------------------------

// kubectl port-forward's last leg: the runtime, in the pod's network
// namespace, dials localhost:PORT over IPv4 for each forwarded stream. Here
// the stream is a unix socket; the local end listens on 127.0.0.1.
let forwards = 0;
async function portForward(remotePort) {
  const uds = path.join(scratch, `pf${forwards++}.sock`);
  const relay = spawn('nsenter', [`--net=/run/netns/${pod.ns}`, '--', process.execPath, '-e', `
    const net = require('node:net');
    const [uds, port] = process.argv.slice(1);
    net.createServer((s) => {
      const c = net.connect({ host: 'localhost', port: Number(port), family: 4 });
      s.pipe(c).pipe(s);
      c.on('error', () => s.destroy());
      s.on('error', () => c.destroy());
    }).listen(uds, () => process.stdout.write('ready\\n'));`, uds, String(remotePort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((res, rej) => {
    relay.stdout.once('data', res);
    relay.once('exit', (code) => rej(new Error(`the port-forward relay exited (${code})`)));
  });
  const local = net.createServer((s) => {
    const c = net.connect(uds);
    s.pipe(c).pipe(s);
    c.on('error', () => s.destroy());
    s.on('error', () => c.destroy());
  });
  await new Promise((res) => local.listen(0, '127.0.0.1', res));
  return { port: local.address().port, close: () => { local.close(); relay.kill(); } };
}

function execProbe(sc, command, timeoutSeconds, paths) {
  assert.equal(command[0], IMAGE_BIN);
  const argv = ['nsenter', `--net=/run/netns/${pod.ns}`, '--', ...setprivArgs(sc), BIN, ...command.slice(1).map((a) => paths[a] ?? a)];
  // The runtime's exec gives a probe no stdin: /dev/null.
  return spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutSeconds * 1000, encoding: 'utf8' });
}

test('daemonset-http-loopback.yaml run in a pod: the pod IP refuses, the exec probe passes (and fails on a stopped daemon), port-forward reaches it', async () => {
  const { c, sc } = daemonSet(readManifest('daemonset-http-loopback.yaml'));
  const argv = containerArgv(c);
  const sock = argv[argv.indexOf('--socket') + 1];
  const mount = c.volumeMounts.find((m) => sock.startsWith(`${m.mountPath}/`));
  const run = path.join(scratch, 'run');
  mkdirSync(run, { mode: 0o755 });
  const paths = { [sock]: path.join(run, path.relative(mount.mountPath, sock)) };
  const d = await startPod(c, sc, 'loopback.sh', paths);
  let fwd;
  try {
    assert.equal(d.host, '127.0.0.1');
    // The kubelet's httpGet and tcpSocket probes dial the pod IP: refused.
    assert.equal(await refused(pod.addrB, 8080), true, 'nothing listens on the pod IP');
    // The exec probes.
    for (const p of [c.readinessProbe, c.livenessProbe]) {
      const r = execProbe(sc, p.exec.command, p.timeoutSeconds ?? 1, paths);
      assert.equal(r.status, 0, `${p.exec.command.join(' ')}: ${r.stderr} ${r.error ?? ''}`);
    }
    // A daemon that stops answering fails the liveness probe: it times out.
    process.kill(d.pid, 'SIGSTOP');
    try {
      const r = execProbe(sc, c.livenessProbe.exec.command, c.livenessProbe.timeoutSeconds, paths);
      assert.equal(r.error?.code, 'ETIMEDOUT', `the probe timed out (status ${r.status})`);
    } finally {
      process.kill(d.pid, 'SIGCONT');
    }
    // kubectl port-forward LOCAL:8080 with LOCAL not 8080: the Host names
    // the local port, which --allow-host admits; other names stay refused.
    fwd = await portForward(8080);
    assert.notEqual(fwd.port, 8080);
    for (const host of ['127.0.0.1', 'localhost']) {
      const url = new URL(`http://${host}:${fwd.port}/mcp`);
      assert.deepEqual(await sdkTools(url, {}), toolsOf('observe'), `via ${url}`);
    }
    const h = await rawExchange(fwd.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${fwd.port}\r\nConnection: close\r\n\r\n`);
    assert.equal(firstStatus(h.data), 200);
    const evil = await rawExchange(fwd.port, `GET /healthz HTTP/1.1\r\nHost: evil.example:${fwd.port}\r\nConnection: close\r\n\r\n`);
    assert.equal(firstStatus(evil.data), 403, 'a DNS-rebinding Host is still refused');
  } finally {
    fwd?.close();
    await d.stop();
  }
});

// ---- nginx in front, TLS ------------------------------------------------------------------

// http/nginx.conf with only the certificate paths swapped, in a minimal
// nginx.conf, run in the pod's namespace (443 and 8080 free there). A copy
// without the Host line, on 8443, is the control.
function nginxConf(dir, cert, key) {
  const doc = readFileSync(path.join(DEPLOY, 'http/nginx.conf'), 'utf8');
  let n = 0;
  const conf = doc.replace(/^(\s*ssl_certificate(?:_key)?\s+)\S+;/gm, (m, pre) => (n++, `${pre}${m.includes('_key') ? key : cert};`));
  assert.equal(n, 2, 'two certificate lines');
  const hostLine = /^\s*proxy_set_header Host 127\.0\.0\.1:8080;\n/m;
  assert.match(conf, hostLine);
  const control = conf.replace(hostLine, '').replace(/ebpf_mcp\b/g, 'ebpf_mcp_nohost')
    .replace('listen 443 ssl;', 'listen 8443 ssl;').replace(/^\s*listen \[::\]:443 ssl;\n/m, '');
  writeFileSync(path.join(dir, 'ebpf-mcp.conf'), conf + control);
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join(' ');
  writeFileSync(path.join(dir, 'nginx.conf'), `error_log ${dir}/error.log notice;\npid ${dir}/nginx.pid;\n` +
    `worker_processes 1;\nevents { worker_connections 64; }\n` +
    `http { access_log off; ${temps} include ${dir}/ebpf-mcp.conf; }\n`);
  return path.join(dir, 'nginx.conf');
}

function httpsRequest(port, method, pathname, headers, body, ca, onData) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: pod.addrB, port, method, path: pathname, headers, ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s) => { text += s; onData?.(s); });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('http/nginx.conf: TLS in front of serve --http 127.0.0.1:8080; tokens pass through, events stream, the Host line is needed', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) return t.skip('nginx is not installed (vendor/deps.sh installs it)');
  const dir = path.join(scratch, 'nginx');
  mkdirSync(dir, { mode: 0o755 });
  const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
  const ssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=mcp.example.com',
    '-addext', `subjectAltName=DNS:mcp.example.com,IP:${pod.addrB}`], { encoding: 'utf8' });
  assert.equal(ssl.status, 0, ssl.stderr);
  const conf = nginxConf(dir, cert, key);
  const ns = ['nsenter', `--net=/run/netns/${pod.ns}`, '--'];
  const syntax = spawnSync(ns[0], [...ns.slice(1), 'nginx', '-t', '-p', dir, '-c', conf], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  // The server as http.md runs it on a host behind the proxy.
  const tokens = path.join(dir, 'tokens');
  writeFileSync(tokens, tokenLines, { mode: 0o600 });
  const sc = daemonSet(readManifest('daemonset-http.yaml')).sc;
  const d = await HttpDaemon.start(['--token-file', tokens], { addr: '127.0.0.1:8080', bin: podBin(sc, 'proxied.sh'), validate: false });
  const nginx = spawn(ns[0], [...ns.slice(1), 'nginx', '-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let nginxErr = '';
  nginx.stderr.setEncoding('utf8').on('data', (s) => { nginxErr += s; });
  try {
    for (let i = 0; await refused(pod.addrB, 443); i++) {
      assert.ok(i < 100, `nginx listens on 443: ${nginxErr}`);
      await sleep(50);
    }
    const ca = readFileSync(cert);
    const json = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN };
    const list = JSON.stringify(modern(1, 'tools/list'));
    const h = { ...json, 'mcp-method': 'tools/list' };
    // Without a token: the server's 401 comes through, with its challenge.
    const no = await httpsRequest(443, 'POST', '/mcp', h, list, ca);
    assert.equal(no.status, 401, no.text);
    assert.match(no.headers['www-authenticate'], /Bearer realm="ebpf-mcp"/);
    const yes = await httpsRequest(443, 'POST', '/mcp', { ...h, authorization: `Bearer ${TOKENS.alice}` }, list, ca);
    assert.equal(yes.status, 200, yes.text);
    assert.deepEqual(JSON.parse(yes.text).result.tools.map((x) => x.name).sort(), toolsOf('observe'));
    // Only /mcp is proxied.
    assert.equal((await httpsRequest(443, 'GET', '/metrics', {}, undefined, ca)).status, 404);
    // Server-sent events pass one by one: trace_open's progress (every
    // 100 ms) arrives long before its result. (A comm no process has: the
    // trace runs its whole duration, whatever else opens files meanwhile.)
    const call = JSON.stringify(modern(2, 'tools/call', { name: 'trace_open', arguments: { duration_ms: 2000, comm: 'no-such-comm' },
      _meta: { progressToken: 7 } }));
    const t0 = Date.now();
    let firstProgress = null;
    const sse = await httpsRequest(443, 'POST', '/mcp', { ...json, 'mcp-method': 'tools/call', 'mcp-name': 'trace_open',
      authorization: `Bearer ${TOKENS.alice}` }, call, ca, (s) => { if (firstProgress === null && s.includes('notifications/progress')) firstProgress = Date.now() - t0; });
    const total = Date.now() - t0;
    assert.equal(sse.status, 200);
    assert.match(sse.headers['content-type'], /^text\/event-stream/);
    assert.match(sse.text, /"id":2,"result"/);
    assert.match(sse.text, /\\"stopped_by\\":\\"duration\\"/, 'it ran its whole duration');
    assert.ok(firstProgress !== null && firstProgress < 1000 && total - firstProgress >= 800,
      `progress at ${firstProgress} ms, the result at ${total} ms: ${sse.text.slice(0, 400)}`);
    // The MCP Inspector CLI (the official SDK in another process) over TLS
    // with the token header.
    const insp = spawnSync(process.execPath, [INSPECTOR, '--cli', `https://${pod.addrB}/mcp`, '--transport', 'http',
      '--header', `Authorization: Bearer ${TOKENS.alice}`, '--method', 'tools/list'],
    { cwd: path.dirname(INSPECTOR), encoding: 'utf8', timeout: 60000, env: { ...process.env, NODE_EXTRA_CA_CERTS: cert } });
    assert.equal(insp.status, 0, insp.stderr);
    assert.deepEqual(JSON.parse(insp.stdout).tools.map((x) => x.name).sort(), toolsOf('observe'));
    // The control: without `proxy_set_header Host`, nginx sends the
    // upstream's name and the server refuses it.
    const bad = await httpsRequest(8443, 'POST', '/mcp', { ...h, authorization: `Bearer ${TOKENS.alice}` }, list, ca);
    assert.equal(bad.status, 403, bad.text);
    assert.match(bad.text, /Host 'ebpf_mcp_nohost' does not name this server/);
  } finally {
    nginx.kill('SIGQUIT');
    await new Promise((res) => (nginx.exitCode !== null ? res() : nginx.once('exit', res)));
    await d.stop();
  }
});

// ---- systemd: the drop-in ---------------------------------------------------------------

test('systemd/http.conf: systemd-analyze verify takes the drop-in; its ExecStart serves HTTP beside the socket', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) return t.skip('systemd-analyze is not installed');
  const units = path.join(DEPLOY, 'systemd');
  const dropin = readFileSync(path.join(units, 'http.conf'), 'utf8');
  const INSTALLED = '/usr/local/bin/ebpf-mcp';
  const dir = path.join(scratch, 'units');
  mkdirSync(path.join(dir, 'ebpf-mcp.service.d'), { recursive: true });
  for (const f of ['ebpf-mcp.socket', 'ebpf-mcp.service'])
    writeFileSync(path.join(dir, f), readFileSync(path.join(units, f), 'utf8').replaceAll(`${INSTALLED} `, `${BIN} `));
  writeFileSync(path.join(dir, 'ebpf-mcp.service.d/http.conf'), dropin.replaceAll(`${INSTALLED} `, `${BIN} `));
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'ebpf-mcp.socket'), path.join(dir, 'ebpf-mcp.service')],
    { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'no warning');
  // systemd reads it: a misspelt key in it is reported.
  writeFileSync(path.join(dir, 'ebpf-mcp.service.d/http.conf'), dropin.replace('[Service]\n', '[Service]\nRestrictAdressFamilies=\n'));
  const bad = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'ebpf-mcp.service')], { encoding: 'utf8' });
  assert.match(bad.stderr, /http\.conf:\d+: Unknown key 'RestrictAdressFamilies'/);
  // The unit's address families, as the drop-in leaves them: TCP allowed.
  const fam = dropin.split('\n').filter((l) => l.startsWith('RestrictAddressFamilies='));
  assert.deepEqual(fam, ['RestrictAddressFamilies=', 'RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6']);
  // The last ExecStart (the drop-in clears the unit's), run in a network
  // namespace of its own (8080 is free there) with a 0600 token file.
  const exec = dropin.split('\n').filter((l) => l.startsWith('ExecStart='));
  assert.equal(exec[0], 'ExecStart=');
  const argv = exec.at(-1).slice('ExecStart='.length).split(' ');
  assert.deepEqual(argv.slice(0, 2), [INSTALLED, 'serve']);
  const tokens = path.join(scratch, 'systemd-tokens');
  writeFileSync(tokens, tokenLines, { mode: 0o600 });
  const words = argv.slice(2).map((a) => (a === '/etc/ebpf-mcp/tokens' ? tokens : a === '/var/log/ebpf-mcp/audit.log' ? path.join(scratch, 'audit.log') : a));
  const i = words.indexOf('--http');
  // systemd.md's group ebpf-mcp, in a private /etc/group (unshare -m).
  const group = path.join(scratch, 'group');
  writeFileSync(group, `${readFileSync('/etc/group', 'utf8')}ebpf-mcp:x:64999:\n`);
  const bin = path.join(scratch, 'systemd.sh');
  writeFileSync(bin, `#!/bin/sh\nexec unshare -m --propagation private sh -c 'mount --bind "$0" /etc/group && exec nsenter ` +
    `--net=/run/netns/${pod.ns} -- ${BIN} "$@"' '${group}' "$@"\n`, { mode: 0o755 });
  // serve makes --socket's default path when systemd passes none: give it one here.
  const sock = path.join(scratch, 'systemd.sock');
  const d = await HttpDaemon.start([...words.slice(0, i), ...words.slice(i + 2), '--socket', sock], { addr: words[i + 1], bin, validate: false });
  try {
    assert.equal(d.base, 'http://127.0.0.1:8080');
    const fwd = await portForward(8080);   // a tunnel's far end, as ssh -L makes it
    try {
      const h = { accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' };
      const body = JSON.stringify(modern(1, 'tools/list'));
      // Same port at both ends of the tunnel: the Host names the bind.
      const same = await rawExchange(fwd.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n`);
      assert.equal(firstStatus(same.data), 200);
      // Another local port: refused without --allow-host (http.md says so).
      const other = await rawExchange(fwd.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${fwd.port}\r\nConnection: close\r\n\r\n`);
      assert.equal(firstStatus(other.data), 403);
      const post = (token) => rawExchange(fwd.port, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n` +
        Object.entries({ ...h, ...(token ? { authorization: `Bearer ${token}` } : {}) }).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      assert.equal(firstStatus((await post()).data), 401);
      const ok = await post(TOKENS.alice);
      assert.equal(firstStatus(ok.data), 200, ok.data);
    } finally {
      fwd.close();
    }
  } finally {
    await d.stop();
  }
});

// ---- the document -------------------------------------------------------------------------

test('http.md quotes the client files and the static Prometheus job as they are', () => {
  const md = readFileSync(path.join(DEPLOY, 'http.md'), 'utf8');
  const blocks = (lang) => [...md.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
  const json = blocks('json').map((b) => JSON.parse(b));
  for (const f of ['http/mcp.json', 'http/cursor-mcp.json']) assert.ok(json.some((j) => JSON.stringify(j) === JSON.stringify(readJson(f))), f);
  const prom = YAML.parse(readFileSync(path.join(DEPLOY, 'http/prometheus.yml'), 'utf8'));
  const quoted = blocks('yaml').map((b) => YAML.parse(b)).find((y) => y?.scrape_configs);
  const { metrics_path: _, ...job } = prom.scrape_configs[0];
  assert.deepEqual(quoted.scrape_configs, [job], 'the static job (metrics_path /metrics is the default)');
  // The token recipe makes what the server takes: 64 hex digits.
  const tok = spawnSync('sh', ['-c', "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'"], { encoding: 'utf8' }).stdout;
  assert.match(tok, /^[0-9a-f]{64}$/);
  assert.match(md, /head -c 32 \/dev\/urandom \| od -An -tx1 \| tr -d ' \\n'/);
});

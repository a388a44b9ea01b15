// The official MCP conformance suite (@modelcontextprotocol/conformance,
// pinned in tests/package.json) against `ebpf-mcp serve --http`, in both
// protocol eras: 2025-11-25 (initialize, Mcp-Session-Id) and 2026-07-28
// (stateless, per-request _meta, header checks).
//
// The suite plays the client; each scenario is one run of its CLI
// (`conformance server --scenario S --spec-version V -o DIR`), judged from
// the checks.json it writes (id, status, errorMessage per check), never
// from its printed text. A scenario passes when every check is SUCCESS,
// except the checks listed in EXPECTED below, each with the status it must
// have and why; a listed check that passes is reported too (the list must
// stay true). A scenario must also pass at least one check of its own
// (wire-schema-valid alone would be a vacuous pass).
//
// Many scenarios drive the suite's reference server: tools named
// test_simple_text, resources at test://static-text, prompts named
// test_simple_prompt... An eBPF server has none of these and should not
// grow them, so those scenarios are listed in NEEDS_FIXTURE with the
// fixture each needs and reported as skipped; a scenario that fails for
// any other reason is a failure. The first test checks that RUN,
// NEEDS_FIXTURE and EXTENSIONS together name exactly the scenarios the
// pinned suite lists for each era, so a new suite version cannot add a
// scenario that nobody looked at.
//
// The daemon runs with --profile full (the most tools, so tools/list and
// the suite's wire-schema check see every tool definition we have) and
// --validate-output. The suite calls the first listed tool with {} in
// http-header-validation (attach_program: refused by its schema, nothing
// reaches the kernel); every other call names a fixture tool, unknown here.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpDaemon, LEGACY, MODERN } from '../lib/http.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const SUITE_DIR = path.dirname(require.resolve('@modelcontextprotocol/conformance/package.json'));
const SUITE = JSON.parse(readFileSync(path.join(SUITE_DIR, 'package.json'), 'utf8'));
const CLI = path.join(SUITE_DIR, SUITE.bin.conformance);
// The suite is built for Node 22 (fs.globSync); on Node 20 a module hook
// stands in for the one import it cannot load (see that file).
const NODE_ARGS = typeof fs.globSync === 'function' ? [] : ['--import', path.join(here, '../lib/node20-fs-glob.mjs')];

const SCENARIO_TIMEOUT_MS = 60000;   // the suite's own per-scenario cap (its default is 30 s)
const RUN_TIMEOUT_MS = 90000;        // one CLI run, start-up included: past this it is killed
const BOTH = [LEGACY, MODERN];

// (a) The scenarios run: protocol behaviour that needs nothing but an MCP
// server, at the spec versions the suite applies them to.
const RUN = [
  ['server-initialize', [LEGACY]],
  ['server-session-lifecycle', [LEGACY]],
  ['server-stateless', [MODERN]],
  ['logging-set-level', [LEGACY]],
  ['ping', [LEGACY]],
  ['tools-list', BOTH],
  ['resources-list', BOTH],
  // They subscribe to test://watched-resource: we watch any URI (a resource
  // may appear later: its read then changes), so to us it is just a URI.
  ['resources-subscribe', [LEGACY]],
  ['resources-unsubscribe', [LEGACY]],
  ['sep-2164-resource-not-found', [MODERN]],
  ['prompts-list', BOTH],
  ['server-sse-multiple-streams', BOTH],
  ['dns-rebinding-protection', BOTH],
  ['caching', [MODERN]],
  ['http-header-validation', [MODERN]],
  ['input-required-result-unsupported-methods', [MODERN]],
];

// (b) The scenarios skipped: each needs a fixture of the suite's reference
// server that an eBPF server does not and should not have.
const tool = (name) => `a tool named '${name}'`;
const NEEDS_FIXTURE = [
  ['completion-complete', BOTH, "a prompt 'test_prompt_with_arguments' with an argument 'arg1' to complete"],
  ['tools-call-simple-text', BOTH, tool('test_simple_text')],
  ['tools-call-image', BOTH, tool('test_image_content')],
  ['tools-call-audio', BOTH, tool('test_audio_content')],
  ['tools-call-embedded-resource', BOTH, tool('test_embedded_resource')],
  ['tools-call-mixed-content', BOTH, tool('test_multiple_content_types')],
  ['tools-call-with-logging', [LEGACY], tool('test_tool_with_logging')],
  ['tools-call-error', BOTH, tool('test_error_handling')],
  ['tools-call-with-progress', BOTH, tool('test_tool_with_progress')],
  ['tools-call-sampling', [LEGACY], tool('test_sampling') + ' that asks the client to sample'],
  ['tools-call-elicitation', [LEGACY], tool('test_elicitation') + ' that elicits'],
  ['json-schema-2020-12', BOTH, tool('json_schema_2020_12_tool') + ' with a 2020-12 inputSchema'],
  ['elicitation-sep1034-defaults', [LEGACY], tool('test_elicitation_sep1034_defaults')],
  ['elicitation-sep1330-enums', [LEGACY], tool('test_elicitation_sep1330_enums')],
  ['server-sse-polling', [LEGACY], tool('test_reconnection') + ' that closes its SSE stream for the client to resume'],
  ['resources-read-text', BOTH, 'a text resource at test://static-text'],
  ['resources-read-binary', BOTH, 'a binary resource at test://static-binary'],
  ['resources-templates-read', BOTH, 'a resource template test://template/{id}/data'],
  ['prompts-get-simple', BOTH, "a prompt 'test_simple_prompt'"],
  ['prompts-get-with-args', BOTH, "a prompt 'test_prompt_with_arguments' (arg1, arg2)"],
  ['prompts-get-embedded-resource', BOTH, "a prompt 'test_prompt_with_embedded_resource'"],
  ['prompts-get-with-image', BOTH, "a prompt 'test_prompt_with_image'"],
  ['http-custom-header-server-validation', [MODERN], 'a tool whose inputSchema marks a parameter with x-mcp-header (ours mark none)'],
  ['input-required-result-basic-elicitation', [MODERN], tool('test_input_required_result_elicitation')],
  ['input-required-result-basic-sampling', [MODERN], tool('test_input_required_result_sampling')],
  ['input-required-result-basic-list-roots', [MODERN], tool('test_input_required_result_list_roots')],
  ['input-required-result-request-state', [MODERN], tool('test_input_required_result_request_state')],
  ['input-required-result-multiple-input-requests', [MODERN], tool('test_input_required_result_multiple_inputs')],
  ['input-required-result-multi-round', [MODERN], tool('test_input_required_result_multi_round')],
  ['input-required-result-missing-input-response', [MODERN], tool('test_input_required_result_elicitation')],
  ['input-required-result-non-tool-request', [MODERN], "a prompt 'test_input_required_result_prompt' that asks for input"],
  ['input-required-result-result-type', [MODERN], tool('test_input_required_result_elicitation')],
  ['input-required-result-tampered-state', [MODERN], tool('test_input_required_result_tampered_state')],
  ['input-required-result-capability-check', [MODERN], tool('test_input_required_result_capabilities')],
  ['input-required-result-ignore-extra-params', [MODERN], tool('test_input_required_result_elicitation')],
  ['input-required-result-validate-input', [MODERN], tool('test_input_required_result_elicitation')],
];

// (c) Scenarios of extensions we do not offer (the suite applies them to no
// spec version; they would need their own fixtures too).
const TASKS = 'the io.modelcontextprotocol/tasks extension (SEP-2663) and its fixture tools (slow_compute, greet, ...)';
const SKILLS = 'the io.modelcontextprotocol/skills extension (SEP-2640)';
const EXTENSIONS = [
  ['tasks-lifecycle', TASKS], ['tasks-capability-negotiation', TASKS], ['tasks-wire-fields', TASKS],
  ['tasks-request-state-removal', TASKS], ['tasks-mrtr-input', TASKS], ['tasks-request-headers', TASKS],
  ['tasks-dispatch-and-envelope', TASKS], ['tasks-status-notifications', TASKS],
  ['tasks-required-task-error', TASKS], ['tasks-mrtr-composition', TASKS],
  ['sep-2640-skills-directory', SKILLS], ['sep-2640-skills-enumeration', SKILLS], ['sep-2640-skills-manifest', SKILLS],
];

// Checks of run scenarios that come out other than SUCCESS, by scenario:
// [status, why]. A FIXTURE entry must be the suite's "Not testable: ..."
// failure, the one it reports when the fixture is missing.
const FIXTURE = 'FIXTURE';
const EXPECTED = {
  'server-sse-multiple-streams': {
    'server-sse-streams-functional': ['INFO', 'we answer these requests with one JSON body (nothing to stream before the '
      + 'reply); SSE is optional and the suite only notes it'],
  },
  'server-stateless': {
    'sep-2575-server-rejects-undeclared-capability': [FIXTURE, tool('test_missing_capability') + ' that needs sampling'],
    'sep-2575-missing-capability-http-400': [FIXTURE, tool('test_missing_capability') + ' that needs sampling'],
    'sep-2575-http-server-no-independent-requests-on-stream': [FIXTURE, tool('test_streaming_elicitation')],
    'sep-2575-server-no-log-without-loglevel': [FIXTURE, tool('test_logging_tool')],
    'sep-2575-server-sends-prompts-list-changed-on-subscription': ['SKIPPED', 'our prompt list is fixed: prompts.listChanged '
      + 'is false (the check would also need the hook test_trigger_prompt_change)'],
    'sep-2575-server-sends-tools-list-changed-on-subscription': ['SKIPPED', 'our tool list is fixed per profile: '
      + 'tools.listChanged is false (the check would also need the hook test_trigger_tool_change)'],
  },
};

// Runs the suite's CLI; resolves { code, signal, stdout, stderr }.
function conformance(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...NODE_ARGS, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), RUN_TIMEOUT_MS);
    p.on('error', reject);
    p.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

// The scenario names `conformance list --server [--spec-version V]` prints,
// one "  - name [versions]" line each.
async function listed(version) {
  const r = await conformance(['list', '--server', ...(version ? ['--spec-version', version] : [])]);
  assert.equal(r.code, 0, `conformance list failed: ${r.stderr}`);
  const names = [...r.stdout.matchAll(/^\s+- (\S+) \[/gm)].map((m) => m[1]);
  assert.ok(names.length > 0, `no scenario in: ${r.stdout}`);
  return names.sort();
}

// Runs one scenario at one spec version; resolves its checks.
async function runScenario(url, scenario, version) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ebpf-mcp-conformance-'));
  try {
    const r = await conformance(['server', '--url', url, '--scenario', scenario, '--spec-version', version,
      '--timeout', String(SCENARIO_TIMEOUT_MS), '-o', dir]);
    const runs = readdirSync(dir).filter((d) => d.startsWith(`server-${scenario}-`));
    assert.equal(runs.length, 1, `${scenario}@${version}: one result folder expected, found ${runs.length} `
      + `(exit ${r.code ?? r.signal}): ${r.stdout.slice(-2000)} ${r.stderr.slice(-2000)}`);
    return JSON.parse(readFileSync(path.join(dir, runs[0], 'checks.json'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// What is wrong with a scenario's checks, as lines (empty: it passed).
function judge(scenario, checks) {
  const expected = EXPECTED[scenario] ?? {};
  const problems = [];
  for (const c of checks) {
    const e = expected[c.id];
    const said = `${c.id}: ${c.status}${c.errorMessage ? ` (${c.errorMessage})` : ''}`;
    if (!e) {
      if (c.status !== 'SUCCESS') problems.push(said);
    } else if (c.status === 'SUCCESS') {
      problems.push(`${c.id} passes now: take it out of EXPECTED (it was there because ${e[1]})`);
    } else if (e[0] === FIXTURE ? c.status !== 'FAILURE' || !/^Not testable/.test(c.errorMessage ?? '') : c.status !== e[0]) {
      problems.push(`${said}; expected ${e[0] === FIXTURE ? 'a "Not testable" failure' : e[0]} because ${e[1]}`);
    }
  }
  if (!checks.some((c) => c.status === 'SUCCESS' && c.id !== 'wire-schema-valid'))
    problems.push('no check of its own passed (a vacuous run)');
  return problems;
}

const forEra = (table, version) => table.filter(([, versions]) => versions.includes(version));

it(`the pinned suite (${SUITE.name} ${SUITE.version}) lists exactly the scenarios classified here`, async () => {
  for (const version of BOTH) {
    const ours = [...forEra(RUN, version), ...forEra(NEEDS_FIXTURE, version)].map(([name]) => name).sort();
    assert.deepEqual(ours, await listed(version), `scenarios at ${version}: RUN + NEEDS_FIXTURE vs the suite's list`);
  }
  const eras = new Set([...RUN, ...NEEDS_FIXTURE].map(([name]) => name));
  const rest = (await listed()).filter((name) => !eras.has(name));
  assert.deepEqual(rest, EXTENSIONS.map(([name]) => name).sort(), 'scenarios in no era: EXTENSIONS');
});

let daemon;
before(async () => { daemon = await HttpDaemon.start(['--profile', 'full']); });
after(async () => {
  if (!daemon) return;
  const e = await daemon.stop();
  assert.equal(e.code, 0, `daemon exit ${JSON.stringify(e)}: ${daemon.stderr}`);
});

for (const version of BOTH) {
  describe(`conformance at ${version}`, () => {
    for (const [scenario] of forEra(RUN, version)) {
      it(scenario, async () => {
        const problems = judge(scenario, await runScenario(daemon.url, scenario, version));
        assert.deepEqual(problems, [], `${scenario}@${version}:\n  ${problems.join('\n  ')}`);
      });
    }
    for (const [scenario, , needs] of forEra(NEEDS_FIXTURE, version))
      it(scenario, { skip: `needs the suite's fixture: ${needs}` }, () => {});
  });
}

describe('extensions we do not offer', () => {
  for (const [scenario, what] of EXTENSIONS)
    it(scenario, { skip: `needs ${what}` }, () => {});
});

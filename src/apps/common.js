/* What the apps share beside the bridge: number formats, building DOM and
 * SVG elements, the tooltip, the status line and the "run again" control
 * (a tools/call of the same tool through the host, with another duration). */
const fmt = {
  int: (n) => Math.round(Number(n)).toLocaleString('en-US'),
  pct: (x) => `${Number(x).toFixed(2)}%`,
  // 1234 -> "1.23 µs"; exact below 1 µs
  ns(ns) {
    const u = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs']].find(([d]) => ns >= d);
    return u ? `${+(ns / u[0]).toPrecision(3)} ${u[1]}` : `${Math.round(ns)} ns`;
  },
};

function el(tag, attrs = {}, ...kids) {
  const e = tag.startsWith('svg:') ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

const tip = {
  node: null,
  show(ev, lines) {
    if (!this.node) this.node = document.body.appendChild(el('div', { class: 'tip', role: 'tooltip' }));
    this.node.replaceChildren(...lines.map((l, i) => el('div', { class: i ? '' : 'tip-head', text: l })));
    this.node.style.display = 'block';
    const w = this.node.offsetWidth, h = this.node.offsetHeight;
    const x = Math.min(ev.clientX + 12, innerWidth - w - 4), y = ev.clientY + 16 + h > innerHeight ? ev.clientY - h - 8 : ev.clientY + 16;
    this.node.style.left = `${Math.max(4, x)}px`;
    this.node.style.top = `${Math.max(4, y)}px`;
  },
  hide() { if (this.node) this.node.style.display = 'none'; },
};

function setStatus(text, kind = '') {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = kind;
}

// The error of a failed tool call, as a sentence (null when it did not fail).
function toolError(r) {
  if (!r?.isError) return null;
  const e = r.structuredContent?.error;
  return e ? `${e.code}: ${e.message}` : (r.content || []).map((c) => c.text).join(' ') || 'the tool failed';
}

/* The state every app keeps: the arguments the host passed, and the
 * controls to run the same tool again. render(structuredContent) draws. */
function appMain(name, render, opts = {}) {
  const st = { args: {}, last: null, tool: null };
  const run = document.getElementById('rerun'), secs = document.getElementById('secs');
  function show(r) {
    const err = toolError(r);
    if (err) return setStatus(err, 'error');
    if (!r?.structuredContent) return setStatus('the result has no structuredContent to draw', 'error');
    st.last = r.structuredContent;
    st.tool ||= mcpApp.toolName() || r.structuredContent.tracer || opts.tool;
    setStatus('');
    render(r.structuredContent, st);
    if (run) run.hidden = !(mcpApp.canCallTools() && st.tool && opts.rerun !== false);
  }
  async function again(args) {
    if (!st.tool) return;
    setStatus(`running ${st.tool}…`, 'busy');
    run?.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      show(await mcpApp.callTool(st.tool, args));
    } catch (e) {
      setStatus(`${st.tool}: ${e.message}`, 'error');
    } finally {
      run?.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  }
  run?.querySelector('button')?.addEventListener('click', () => {
    const ms = Math.round(Number(secs.value) * 1000);
    if (!(ms >= 1)) return setStatus('the duration is a number of seconds', 'error');
    again({ ...st.args, duration_ms: ms });
  });
  mcpApp.start(`ebpf-mcp ${name}`, {
    input(a) {
      st.args = a;
      if (secs && a.duration_ms) secs.value = a.duration_ms / 1000;
    },
    result: show,
    cancelled: (why) => setStatus(`the tool call was cancelled: ${why}`, 'error'),
  }).catch((e) => setStatus(`no host: ${e.message}`, 'error'));
  return { st, again, show };
}

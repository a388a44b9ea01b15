/* The View side of MCP Apps (extension io.modelcontextprotocol/ui, protocol
 * 2026-01-26), shared by the apps of this directory (schemac pastes it in
 * where an app includes it). JSON-RPC 2.0 over postMessage with the host:
 * ui/initialize, then ui/notifications/initialized; the host answers with
 * its capabilities and context and sends the tool's arguments
 * (ui/notifications/tool-input) and result (ui/notifications/tool-result).
 * The app may call tools back (tools/call) when the host can proxy them
 * (hostCapabilities.serverTools), and reports its size so the host can fit
 * the frame to it. Nothing here touches the network: the host is the only
 * peer. */
const mcpApp = (() => {
  const PROTOCOL = '2026-01-26';
  const CALL_TIMEOUT_MS = 10 * 60 * 1000;   // a re-run may trace for minutes
  const pending = new Map();
  const on = {};
  let nextId = 1, host = { hostCapabilities: {}, hostContext: {} }, lastSize = '';

  const post = (msg) => window.parent.postMessage(msg, '*');

  function request(method, params) {
    const id = nextId++;
    post({ jsonrpc: '2.0', id, method, params });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${method}: no answer from the host in ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
    });
  }

  // Requests the host may send the View: ping, and teardown (answered at once).
  function answer(m) {
    const known = m.method === 'ping' || m.method === 'ui/resource-teardown';
    post(known ? { jsonrpc: '2.0', id: m.id, result: {} }
      : { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: `${m.method} is not handled by this view` } });
  }

  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (ev.source !== window.parent || !m || m.jsonrpc !== '2.0') return;
    if (m.method && m.id !== undefined) return answer(m);
    if (m.method) return on[m.method]?.(m.params || {});
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error) p.reject(new Error(m.error.message || 'the host refused'));
    else p.resolve(m.result);
  });

  // Host theme: light or dark, and the CSS variables it offers.
  function applyContext(ctx) {
    Object.assign(host.hostContext, ctx);
    const c = host.hostContext;
    if (c.theme === 'dark' || c.theme === 'light') {
      document.documentElement.dataset.theme = c.theme;
      document.documentElement.style.colorScheme = c.theme;
    }
    for (const [k, v] of Object.entries(c.styles?.variables || {}))
      if (typeof v === 'string' && k.startsWith('--')) document.documentElement.style.setProperty(k, v);
  }

  // The content's own height (not the frame's: that would never shrink).
  function reportSize() {
    const root = document.documentElement, was = root.style.height;
    root.style.height = 'max-content';
    const height = Math.ceil(root.getBoundingClientRect().height), width = Math.ceil(window.innerWidth);
    root.style.height = was;
    if (`${width}x${height}` === lastSize) return;
    lastSize = `${width}x${height}`;
    post({ jsonrpc: '2.0', method: 'ui/notifications/size-changed', params: { width, height } });
  }

  // handlers: {input(args), result(callToolResult), cancelled(reason)}
  async function start(name, handlers) {
    on['ui/notifications/tool-input'] = (p) => handlers.input?.(p.arguments || {});
    on['ui/notifications/tool-result'] = (p) => handlers.result?.(p);
    on['ui/notifications/tool-cancelled'] = (p) => handlers.cancelled?.(p.reason || 'cancelled');
    on['ui/notifications/host-context-changed'] = (p) => applyContext(p);
    host = await request('ui/initialize', {
      protocolVersion: PROTOCOL,
      appInfo: { name, version: '1' },
      appCapabilities: { availableDisplayModes: ['inline'] },
    });
    host.hostCapabilities ||= {};
    const ctx = host.hostContext || {};
    host.hostContext = {};
    applyContext(ctx);
    post({ jsonrpc: '2.0', method: 'ui/notifications/initialized', params: {} });
    let queued = false;
    const watch = new ResizeObserver(() => {
      if (!queued) queued = true, requestAnimationFrame(() => { queued = false; reportSize(); });
    });
    watch.observe(document.documentElement);
    watch.observe(document.body);
  }

  return {
    start,
    // tools/call through the host (serverTools): a CallToolResult.
    callTool: (name, args) => request('tools/call', { name, arguments: args }),
    canCallTools: () => !!host.hostCapabilities.serverTools,
    // The tool whose result the host handed over, when it says.
    toolName: () => host.hostContext.toolInfo?.tool?.name,
  };
})();

// The load generator's ceiling for bench/http.mjs: the cheapest HTTP/1.1
// server Node makes (node:net, no http module, no JSON): it counts the
// requests in what it reads (head up to the blank line, then Content-Length
// bytes of body) and answers each with one fixed 200 response carrying a
// body of --bytes bytes (default 7000, about an `info` reply). The bench
// drives it exactly as the MCP servers, so its requests/s are what the
// generator manages when the server costs almost nothing.
//
//   node bench/ref/fixed-http-server.mjs [--bytes N]
//
// Prints `fixed-http-server: serving HTTP on http://127.0.0.1:PORT/mcp`.
import net from 'node:net';

const argv = process.argv.slice(2);
const BYTES = argv.includes('--bytes') ? Number(argv[argv.indexOf('--bytes') + 1]) : 7000;
const body = Buffer.alloc(BYTES, 'x');
body.write('{"jsonrpc":"2.0","id":1,"result":{"x":"');
body.write('"}}', BYTES - 3);
const RESPONSE = Buffer.concat([
  Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${BYTES}\r\nCache-Control: no-store\r\n\r\n`),
  body,
]);
const CRLF2 = Buffer.from('\r\n\r\n');

const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  let buf = null;
  sock.on('data', (d) => {
    buf = buf ? Buffer.concat([buf, d]) : d;
    const out = [];
    for (;;) {
      const h = buf.indexOf(CRLF2);
      if (h < 0) break;
      const m = /content-length:\s*(\d+)/i.exec(buf.toString('latin1', 0, h));
      const end = h + 4 + (m ? Number(m[1]) : 0);
      if (buf.length < end) break;
      out.push(RESPONSE);
      buf = buf.subarray(end);
    }
    if (!buf.length) buf = null;
    if (out.length) sock.write(out.length === 1 ? out[0] : Buffer.concat(out));
  });
  sock.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  console.error(`fixed-http-server: serving HTTP on http://127.0.0.1:${server.address().port}/mcp`);
});
process.on('SIGTERM', () => process.exit(0));

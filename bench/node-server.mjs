// The reference for the start-up benchmark: the smallest useful MCP server
// built on the official TypeScript SDK (McpServer + StdioServerTransport),
// with one trivial tool. The SDK is the one pinned in tests/package.json.
import { McpServer } from '../tests/node_modules/@modelcontextprotocol/sdk/dist/esm/server/mcp.js';
import { StdioServerTransport } from '../tests/node_modules/@modelcontextprotocol/sdk/dist/esm/server/stdio.js';

const server = new McpServer({ name: 'node-reference', version: '1.0.0' });
server.registerTool('hello', {
  title: 'Hello',
  description: 'Answers with a fixed greeting.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
}, async () => ({ content: [{ type: 'text', text: 'hello' }] }));

await server.connect(new StdioServerTransport());

/**
 * Child process of `npm run bench`: the ceiling — a bare Node `http` server
 * answering every request with one fixed JSON body (the size of ModelGate's
 * answer to the benchmark's request) and the same content type. Prints
 * `{url, pid}` when ready.
 *
 *   tsx bench/servers/ceiling.ts BODY_BYTES
 */
import { createServer } from 'node:http';
import { listenLoopback } from '../../local/net.ts';

const size = Number(process.argv[2] ?? 160);
const filler = 'x'.repeat(Math.max(0, size - '{"predictions":[""]}'.length));
const body = Buffer.from(JSON.stringify({ predictions: [filler] }));
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });
});
const listening = await listenLoopback(server, 0);
console.log(JSON.stringify({ url: listening.url, pid: process.pid }));
process.on('SIGTERM', async () => {
  await listening.close();
  process.exit(0);
});

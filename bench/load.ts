/**
 * Mixed traffic against the whole local topology (in a child process, so its
 * memory is measured alone): single-row and 32-row predicts and V2 infer on
 * every sample model, and, on one connection in sixteen, streamed chat
 * completions. Used by the load test in
 * `npm test` (60 s at 256 connections) and by `npm run soak` (10 minutes).
 *
 *   npm run soak [-- --seconds 600 --connections 256]
 */
import autocannon from 'autocannon';
import { API_NODE_OPTIONS } from '../infra/function-env.ts';
import { rssMb, startChild, stop } from './lib/process.ts';

export interface LoadResult {
  readonly seconds: number;
  readonly connections: number;
  readonly requests: number;
  readonly rps: number;
  /** Latency of the predict and infer requests, ms. */
  readonly p50: number;
  readonly p99: number;
  /** Streamed chat completions (8 tokens) and their p99 to the last byte, ms. */
  readonly chatRequests: number;
  readonly chatP99: number;
  /** Status codes other than 2xx, by code. */
  readonly statusCodes: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
  /** RSS of the topology process after a full collection, at 1/3 of the run and at its end, MB. */
  readonly rssAtThirdMb: number;
  /**
   * The highest RSS the process had reached by 1/3 of the run, MB. Under load RSS climbs to a
   * plateau (V8's heap sizing, the allocator's arenas) at a moment that varies from run to run;
   * a leak takes the end of the run above this mark.
   */
  readonly rssPeakAtThirdMb: number;
  readonly rssAtEndMb: number;
  /** Live JavaScript heap after a full collection, at the same two moments, MB: a leak shows here. */
  readonly heapAtThirdMb: number;
  readonly heapAtEndMb: number;
}

const ROWS: Record<string, number[]> = {
  iris: [5.1, 3.5, 1.4, 0.2],
  'iris-logistic': [5.9, 3.0, 4.2, 1.5],
  linear: [2.0],
  diabetes: [0.038, 0.051, 0.062, 0.022, -0.044, -0.035, -0.043, -0.003, 0.02, -0.018],
};

function mixedRequests(apiKey: string) {
  const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
  const requests: autocannon.Request[] = [];
  for (const [model, row] of Object.entries(ROWS)) {
    requests.push({
      method: 'POST',
      path: `/v1/models/${model}/predict`,
      headers,
      body: JSON.stringify({ instances: [row] }),
    });
    requests.push({
      method: 'POST',
      path: `/v1/models/${model}/predict`,
      headers,
      body: JSON.stringify({ instances: Array.from({ length: 32 }, () => row) }),
    });
    requests.push({
      method: 'POST',
      path: `/v2/models/${model}/infer`,
      headers,
      body: JSON.stringify({
        inputs: [{ name: 'input', shape: [1, row.length], datatype: 'FP32', data: row }],
      }),
    });
  }
  return requests;
}

/** Streaming chat clients: a conversation each, on their own connections. */
function chatRequests(apiKey: string): autocannon.Request[] {
  const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
  return [
    {
      method: 'POST',
      path: '/v1/chat/completions',
      headers,
      body: JSON.stringify({
        model: 'demo-lm',
        messages: [{ role: 'user', content: 'Tell me my fortune.' }],
        max_tokens: 8,
        stream: true,
      }),
    },
  ];
}

/** One in this many connections is a streaming chat client; the rest predict and infer. */
const CHAT_SHARE = 16;

export async function runLoad(options: { seconds: number; connections: number }): Promise<LoadResult> {
  const { child, ready } = await startChild<{ apiUrl: string; apiKey: string; pid: number }>(
    'bench/servers/topology.ts',
    [],
    // The api function's V8 flags as deployed, and a way to ask for a full collection.
    { NODE_OPTIONS: [...API_NODE_OPTIONS, '--expose-gc'].join(' ') },
  );
  /** Memory after a full collection: what is still held, not garbage waiting for the next one. */
  const settled = () =>
    new Promise<{ rss: number; heapUsed: number }>((resolve) => {
      const onData = (chunk: Buffer) => {
        const line = String(chunk)
          .split('\n')
          .find((l) => l.startsWith('memory '));
        if (!line) return;
        child.stdout?.off('data', onData);
        const usage = JSON.parse(line.slice('memory '.length)) as { rss: number; heapUsed: number };
        resolve({ rss: usage.rss / 2 ** 20, heapUsed: usage.heapUsed / 2 ** 20 });
      };
      child.stdout?.on('data', onData);
      process.kill(ready.pid, 'SIGUSR2');
    });
  try {
    let atThird: Promise<{ rss: number; heapUsed: number }> = Promise.resolve({ rss: 0, heapUsed: 0 });
    let peakAtThird = 0;
    const third = setTimeout(
      () => {
        peakAtThird = rssMb(ready.pid).peak;
        atThird = settled();
      },
      (options.seconds * 1000) / 3,
    );
    const chatConnections = Math.max(1, Math.floor(options.connections / CHAT_SHARE));
    const [result, chat] = await Promise.all([
      autocannon({
        url: ready.apiUrl,
        connections: options.connections - chatConnections,
        duration: options.seconds,
        timeout: 30,
        requests: mixedRequests(ready.apiKey),
      }),
      autocannon({
        url: ready.apiUrl,
        connections: chatConnections,
        duration: options.seconds,
        timeout: 30,
        requests: chatRequests(ready.apiKey),
      }),
    ]);
    clearTimeout(third);
    const memoryAtThird = await atThird;
    // Sockets of the last requests close first.
    await new Promise((r) => setTimeout(r, 2000));
    const memoryAtEnd = await settled();
    const statusCodes: Record<string, number> = {};
    for (const run of [result, chat]) {
      for (const [code, count] of Object.entries(run.statusCodeStats ?? {})) {
        if (!code.startsWith('2'))
          statusCodes[code] = (statusCodes[code] ?? 0) + (count as { count: number }).count;
      }
    }
    return {
      seconds: options.seconds,
      connections: options.connections,
      requests: result.requests.total + chat.requests.total,
      rps: result.requests.average + chat.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      chatRequests: chat.requests.total,
      chatP99: chat.latency.p99,
      statusCodes,
      errors: result.errors + chat.errors,
      timeouts: result.timeouts + chat.timeouts,
      rssAtThirdMb: memoryAtThird.rss,
      rssPeakAtThirdMb: peakAtThird,
      rssAtEndMb: memoryAtEnd.rss,
      heapAtThirdMb: memoryAtThird.heapUsed,
      heapAtEndMb: memoryAtEnd.heapUsed,
    };
  } finally {
    await stop(child);
  }
}

if (process.argv[1]?.endsWith('load.ts')) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '600' }, connections: { type: 'string', default: '256' } },
  });
  const result = await runLoad({ seconds: Number(values.seconds), connections: Number(values.connections) });
  console.log(JSON.stringify(result, null, 2));
  const growth = (result.heapAtEndMb - result.heapAtThirdMb) / result.heapAtThirdMb;
  const rssGrowth = (result.rssAtEndMb - result.rssPeakAtThirdMb) / result.rssPeakAtThirdMb;
  console.log(
    `${result.requests} requests (${result.chatRequests} streamed chats) in ${result.seconds} s (${result.rps.toFixed(0)}/s), predict/infer p50 ${result.p50} ms p99 ${result.p99} ms, chat p99 ${result.chatP99} ms, ` +
      `non-2xx ${JSON.stringify(result.statusCodes)}, errors ${result.errors}, live heap ${result.heapAtThirdMb.toFixed(1)} -> ${result.heapAtEndMb.toFixed(1)} MB (${(growth * 100).toFixed(1)} %), RSS ${result.rssAtThirdMb.toFixed(0)} (peak so far ${result.rssPeakAtThirdMb.toFixed(0)}) -> ${result.rssAtEndMb.toFixed(0)} MB (${(rssGrowth * 100).toFixed(1)} % over that peak)`,
  );
  process.exit(
    result.errors > 0 || Object.keys(result.statusCodes).length > 0 || growth > 0.1 || rssGrowth > 0.1
      ? 1
      : 0,
  );
}

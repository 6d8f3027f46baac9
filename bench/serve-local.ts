/**
 * Child process of `npm run bench`: ModelGate's local topology on ephemeral
 * ports (no usage-plan throttle, so the gateway is not the limit), plus the
 * in-process latency of the api handler and of the ONNX runner alone.
 * Prints one JSON line when ready, then serves until killed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { parseConfig } from '../infra/config.ts';
import { startLocal } from '../infra/local/topology.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const topology = await startLocal({
  config: parseConfig({}),
  home: mkdtempSync(join(tmpdir(), 'modelgate-bench-')),
  port: 0,
  s3Port: 0,
  bucket: 'modelgate',
  apiKey: 'bench-key-0123456789abcdef',
  plan: { name: 'bench' },
});
const { handler } = (await import('../functions/api/index.ts')) as {
  handler: (event: APIGatewayProxyEvent, context?: Context) => Promise<{ statusCode: number }>;
};

const event = {
  resource: '/v1/models/{model}/predict',
  path: '/v1/models/iris/predict',
  httpMethod: 'POST',
  headers: { 'content-type': 'application/json' },
  pathParameters: { model: 'iris' },
  body: JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] }),
  isBase64Encoded: false,
  requestContext: { requestId: 'bench' },
} as unknown as APIGatewayProxyEvent;

async function timeCalls(
  n: number,
  call: () => Promise<unknown>,
): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < 200; i++) await call();
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await call();
    samples[i] = (performance.now() - started) * 1000;
  }
  samples.sort();
  const at = (q: number) => samples[Math.min(n - 1, Math.floor(q * n))] as number;
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / n };
}

const handlerLatency = await timeCalls(5000, async () => {
  const response = await handler(event);
  if (response.statusCode !== 200) throw new Error(`handler answered ${response.statusCode}`);
});

console.log(
  JSON.stringify({
    apiUrl: topology.apiUrl,
    apiKey: topology.apiKey,
    demoUrl: topology.containers.get('demo-lm')?.url,
    s3Url: topology.s3Url,
    bucket: topology.bucket,
    pid: process.pid,
    handlerLatencyUs: handlerLatency,
  }),
);
process.on('SIGTERM', async () => {
  await topology.close();
  process.exit(0);
});

/**
 * Child process of `npm run bench`: what a deployed api function is, on
 * loopback — the gateway emulator in front of the api handler module (API
 * key, usage plan and metrics on, as `npm start` has them), configured
 * through the function environment, the model bucket in another
 * process (the bench's s3rver). Prints one JSON line when ready:
 * `{url, apiKey, pid, handlerUs, sessionRunUs, svm}`, the in-process latency of
 * the handler and of a bare onnxruntime session.run (iris; iris-svm), measured before
 * serving. Serves until killed.
 *
 *   tsx bench/servers/api.ts S3_URL BUCKET
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as ort from 'onnxruntime-node';
import { API_ROUTES, BODY_SCHEMAS } from '../../functions/api/routes.ts';
import { processCounters } from '../../functions/core/counters.ts';
import { ENV } from '../../functions/core/env.ts';
import { type ProxyHandler, startGateway } from '../../local/gateway/gateway.ts';
import { S3RVER_CREDENTIALS } from '../../local/s3.ts';
import { median, predictEvent, timeCalls } from '../lib/process.ts';

const [s3Url, bucket] = process.argv.slice(2) as [string, string];
Object.assign(process.env, {
  [ENV.MODEL_BUCKET]: bucket,
  [ENV.S3_ENDPOINT]: s3Url,
  [ENV.CACHE_DIR]: mkdtempSync(join(tmpdir(), 'modelgate-bench-cache-')),
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_TRACE_ENABLED: 'false',
});
const { handler } = (await import('../../functions/api/index.ts')) as {
  handler: (event: APIGatewayProxyEvent) => Promise<{ statusCode: number }>;
};
const apiKey = 'bench-key-0123456789abcdef';
const gateway = await startGateway({
  routes: API_ROUTES.map((route) => ({
    ...route,
    handler: handler as ProxyHandler,
    ...('bodySchema' in route && { schema: BODY_SCHEMAS[route.bodySchema] }),
  })),
  // As `npm start` runs: a usage plan enforced (its throttle and quota lifted far above
  // the load, so every answer is a 2xx) and the Prometheus counters kept.
  apiKeys: [
    {
      id: 'bench',
      value: apiKey,
      plan: {
        name: 'bench',
        throttle: { rateLimit: 1_000_000, burstLimit: 1_000_000 },
        quota: { limit: 1_000_000_000, period: 'MONTH' },
      },
    },
  ],
  metrics: processCounters,
  port: 0,
});

// The handler in process, and onnxruntime's bare session.run on the same model in the
// same process, in alternating blocks (same JIT and GC weather); medians of the blocks.
const samples = Number(process.env.MODELGATE_BENCH_HANDLER_CALLS ?? 20_000);
async function handlerAgainstSessionRun(model: string, row: number[]) {
  const event = predictEvent(model, [row]);
  const session = await ort.InferenceSession.create(
    readFileSync(join(process.cwd(), `models/${model}/model.onnx`)),
    { intraOpNumThreads: 1, interOpNumThreads: 1 },
  );
  const input = new ort.Tensor('float32', Float32Array.from(row), [1, row.length]);
  const feeds = { [session.inputNames[0] as string]: input };
  const blocks: Array<{ handler: { p50: number; p99: number }; run: { p50: number; p99: number } }> = [];
  for (let b = 0; b < 10 && samples > 0; b++) {
    const handlerBlock = await timeCalls(Math.ceil(samples / 10), async () => {
      const response = await handler(event);
      if (response.statusCode !== 200) throw new Error(`handler answered ${response.statusCode}`);
    });
    const runBlock = await timeCalls(Math.ceil(samples / 10), () => session.run(feeds));
    blocks.push({ handler: handlerBlock, run: runBlock });
  }
  await session.release();
  const summary = (pick: (b: (typeof blocks)[number]) => { p50: number; p99: number }) =>
    blocks.length === 0
      ? { p50: 0, p99: 0 }
      : { p50: median(blocks.map((b) => pick(b).p50)), p99: median(blocks.map((b) => pick(b).p99)) };
  return { handlerUs: summary((b) => b.handler), sessionRunUs: summary((b) => b.run) };
}
const { handlerUs, sessionRunUs } = await handlerAgainstSessionRun('iris', [5.1, 3.5, 1.4, 0.2]);
const svm = await handlerAgainstSessionRun('iris-svm', [5.1, 3.5, 1.4, 0.2]);
console.log(JSON.stringify({ url: gateway.url, apiKey, pid: process.pid, handlerUs, sessionRunUs, svm }));
process.on('SIGTERM', async () => {
  await gateway.close();
  process.exit(0);
});

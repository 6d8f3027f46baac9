/**
 * Child process of `npm run bench`: what a deployed api function is, on
 * loopback — the gateway emulator in front of the api handler module,
 * configured through the function environment, the model bucket in another
 * process (the bench's s3rver). Prints one JSON line when ready:
 * `{url, apiKey, pid, handlerUs: {p50, p99}}`, the in-process handler
 * latency measured before serving. Serves until killed.
 *
 *   tsx bench/servers/api.ts S3_URL BUCKET
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { API_ROUTES, BODY_SCHEMAS } from '../../functions/api/routes.ts';
import { ENV } from '../../functions/core/env.ts';
import { type ProxyHandler, startGateway } from '../../infra/local/gateway.ts';
import { S3RVER_CREDENTIALS } from '../../infra/local/s3.ts';
import { predictEvent, timeCalls } from '../lib/process.ts';

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
  // The usage plan is not what is measured: no throttle, no quota.
  apiKeys: [{ id: 'bench', value: apiKey, plan: { name: 'bench' } }],
  port: 0,
});

const samples = Number(process.env.MODELGATE_BENCH_HANDLER_CALLS ?? 20_000);
const event = predictEvent('iris', [[5.1, 3.5, 1.4, 0.2]]);
const handlerUs =
  samples > 0
    ? await timeCalls(samples, async () => {
        const response = await handler(event);
        if (response.statusCode !== 200) throw new Error(`handler answered ${response.statusCode}`);
      })
    : { p50: 0, p99: 0 };
console.log(JSON.stringify({ url: gateway.url, apiKey, pid: process.pid, handlerUs }));
process.on('SIGTERM', async () => {
  await gateway.close();
  process.exit(0);
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { parseConfig } from '../../infra/config.ts';
import { startLocal } from '../../infra/local/topology.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const topology = await startLocal({
  config: parseConfig({}),
  home: mkdtempSync(join(tmpdir(), 'mgp-')),
  port: 0,
  s3Port: 0,
  bucket: 'modelgate',
  apiKey: 'k'.repeat(20),
  plan: { name: 'x' },
  languageModels: false,
});
const { handler } = (await import('../../functions/api/index.ts')) as any;
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
for (let i = 0; i < 2000; i++) await handler(event);
const n = Number(process.env.N ?? 20000);
const s = new Float64Array(n);
for (let i = 0; i < n; i++) {
  const t = performance.now();
  await handler(event);
  s[i] = (performance.now() - t) * 1000;
}
s.sort();
console.log('p50', s[n / 2], 'p99', s[Math.floor(n * 0.99)]);
await topology.close();
process.exit(0);

/**
 * Child process of `npm run bench` (streaming, batch, usage): ModelGate's whole
 * local topology on ephemeral ports, as `npm start` runs it (no usage-plan
 * throttle, so the plan is not what is measured). MODELGATE_BENCH_USAGE=off runs it
 * without a usage table, MODELGATE_BENCH_LANGUAGE_MODELS=off without the demo container.
 * Prints one JSON line when ready, then serves until killed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../infra/config.ts';
import { startLocal } from '../../local/topology.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const topology = await startLocal({
  config: parseConfig({}),
  home: mkdtempSync(join(tmpdir(), 'modelgate-bench-')),
  port: 0,
  s3Port: 0,
  bucket: 'modelgate',
  apiKey: 'bench-key-0123456789abcdef',
  plan: { name: 'bench' },
  usage: process.env.MODELGATE_BENCH_USAGE !== 'off',
  languageModels: process.env.MODELGATE_BENCH_LANGUAGE_MODELS !== 'off',
});
console.log(
  JSON.stringify({
    apiUrl: topology.apiUrl,
    apiKey: topology.apiKey,
    demoUrl: topology.containers.get('demo-lm')?.url,
    s3Url: topology.s3Url,
    bucket: topology.bucket,
    dynamoUrl: topology.dynamoUrl,
    usageTable: topology.usageTable,
    pid: process.pid,
  }),
);
// With --expose-gc, SIGUSR2 asks for a full collection and a line of memory figures after it.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  process.on('SIGUSR2', () => {
    gc();
    console.log(`memory ${JSON.stringify(process.memoryUsage())}`);
  });
}
process.on('SIGTERM', async () => {
  await topology.close();
  process.exit(0);
});

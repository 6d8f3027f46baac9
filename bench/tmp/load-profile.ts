import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { localS3Client, startLocalS3 } from '../../infra/local/s3.ts';
import { seedSampleModels } from '../../infra/local/seed.ts';
import { firstLine, stop } from '../lib/process.ts';

const store = await startLocalS3({ port: 0, directory: '/tmp/lp-s3', bucket: 'modelgate' });
await seedSampleModels(localS3Client(store.url), 'modelgate');
const child = spawn(
  'node',
  [
    '--cpu-prof',
    '--cpu-prof-dir=/tmp/prof',
    '--import',
    'tsx',
    'bench/servers/api.ts',
    store.url,
    'modelgate',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MODELGATE_BENCH_HANDLER_CALLS: '100' } },
);
const ready = JSON.parse(await firstLine(child));
const r = await autocannon({
  url: `${ready.url}/v1/models/iris/predict`,
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-api-key': ready.apiKey },
  body: JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] }),
  connections: 32,
  duration: 10,
});
console.log('rps', r.requests.average);
await stop(child);
await store.close();
process.exit(0);

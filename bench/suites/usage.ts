/**
 * Benchmark `usage` (table row 13): what usage accounting per API key adds to the api handler's
 * time per request in process, and to HTTP predict throughput, each measured side by side with it off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createApiHandler } from '../../functions/api/app.ts';
import { ENV, readEnv } from '../../functions/core/env.ts';
import { Registry } from '../../functions/core/registry/store.ts';
import { modelRuntime } from '../../functions/core/runners/onnx/from-env.ts';
import { createTelemetry } from '../../functions/core/telemetry.ts';
import { UsageRecorder } from '../../functions/core/usage/recorder.ts';
import { readUsage } from '../../functions/core/usage/report.ts';
import { localDynamoClient, startLocalDynamo } from '../../local/dynamodb.ts';
import { localS3Client } from '../../local/s3.ts';
import { restEvent } from '../../test/fixtures/events.ts';
import type { Lab } from '../lib/lab.ts';
import { median } from '../lib/process.ts';
import { fmt, limitRow, type Row } from '../lib/report.ts';
import { IRIS_ROW } from '../lib/requests.ts';
import { usageHttp } from './usage-http.ts';

/** 13: the in-process p50 figure, then requests/s over HTTP (./usage-http.ts). */
export async function usage(lab: Lab): Promise<Row[]> {
  const inProcess = await usageInProcess(lab);
  return [...inProcess, await usageHttp(lab)];
}

/** The api handler's p50 per single-row predict with usage recorded (DynamoDB on loopback) minus without. */
async function usageInProcess(lab: Lab): Promise<Row[]> {
  const home = mkdtempSync(join(tmpdir(), 'modelgate-bench-usage-'));
  const dynamo = await startLocalDynamo({ port: 0, directory: join(home, 'db'), usageTable: 'usage' });
  const client = localDynamoClient(dynamo.url);
  try {
    const s3 = localS3Client(lab.s3.url);
    const env = readEnv({ [ENV.MODEL_BUCKET]: lab.s3.bucket, [ENV.CACHE_DIR]: join(home, 'cache') });
    // No EMF lines on stdout: both sides publish nothing, as local mode does.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    const telemetry = createTelemetry('modelgate-bench');
    const deps = {
      registry: new Registry({ s3, bucket: lab.s3.bucket, ttlSeconds: 60 }),
      runtime: modelRuntime(s3, env, telemetry, { trees: 'load' }),
      telemetry,
      maxElements: env.maxElements,
      batch: { s3, bucket: lab.s3.bucket },
      server: { name: 'modelgate', version: 'bench' },
    };
    const recorder = new UsageRecorder({ client, table: 'usage', retentionDays: 1 });
    const off = createApiHandler(deps);
    const on = createApiHandler({
      ...deps,
      usage: { sink: recorder, report: (keyId, range) => readUsage(client, 'usage', range, keyId) },
    });
    const event = restEvent('POST', '/v1/models/{model}/predict', { model: 'iris' }, { instances: IRIS_ROW });
    const keyed = {
      ...event,
      requestContext: {
        ...event.requestContext,
        identity: { ...event.requestContext.identity, apiKeyId: 'bench' },
      },
    } as APIGatewayProxyEvent;
    const rounds = lab.options.quick ? 4 : 20;
    const perRound = lab.options.quick ? 200 : 2000;
    const times = { on: [] as number[], off: [] as number[] };
    let calls = 0;
    for (const h of [on, off]) for (let i = 0; i < 200; i++) await h(keyed);
    calls += 200;
    // Alternating rounds: the machine is shared and noisy; each side sees the same conditions.
    for (let r = 0; r < rounds; r++) {
      for (const [side, h] of [
        ['on', on],
        ['off', off],
      ] as const) {
        for (let i = 0; i < perRound; i++) {
          const t = performance.now();
          await h(keyed);
          times[side].push((performance.now() - t) * 1000);
          if (side === 'on') calls++;
        }
        // Writes go out between requests, as they do between a function's answers.
        await recorder.drain();
      }
    }
    const offP50 = median(times.off);
    const added = median(times.on) - offP50;
    const today = new Date().toISOString().slice(0, 10);
    const counted = await readUsage(client, 'usage', { from: today, to: today }, 'bench');
    return [
      limitRow(
        {
          id: '13',
          measurement: `usage accounting: api handler p50 with it on minus off (single-row predict, ${fmt(calls)} calls counted, ${fmt(counted.totals.requests)} recorded)`,
          ours: added / 1000,
          unit: 'ms',
          digits: 3,
          peer: `${(offP50 / 1000).toFixed(3)} ms off`,
        },
        0.1,
      ),
    ];
  } finally {
    client.destroy();
    await dynamo.close();
    rmSync(home, { recursive: true, force: true });
  }
}

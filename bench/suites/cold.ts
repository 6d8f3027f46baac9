/**
 * Benchmark `cold` (table row 4): a cold start of the api bundle as Lambda runs it (the stack's
 * bundling, source map and NODE_OPTIONS; X-Ray tracing and metrics on), and the bundle's size.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { API_NODE_OPTIONS, functionNodeOptions } from '../../infra/function-env.ts';
import { bundle } from '../lib/bundle.ts';
import type { Lab } from '../lib/lab.ts';
import { median, ROOT } from '../lib/process.ts';
import { limitRow, type Row } from '../lib/report.ts';

const run = promisify(execFile);

/**
 * What Lambda gives the api function (beside the stack's own variables): its name, which turns
 * X-Ray tracing on (the stack's default), a sampled trace, and the X-Ray daemon's address (a
 * loopback port nobody reads: segments go out as UDP datagrams, as on Lambda). Metrics are on.
 */
const LAMBDA_ENVIRONMENT = {
  AWS_REGION: 'us-east-1',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: 'ModelGate-Api',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:9',
  POWERTOOLS_SERVICE_NAME: 'modelgate-api',
  POWERTOOLS_METRICS_NAMESPACE: 'ModelGate',
} as const;

/** 4: a fresh node process loading the bundle as deployed, through the first answered request (model fetched from the bucket). */
export async function cold(lab: Lab): Promise<Row[]> {
  const api = await bundle('functions/api/index.ts', 'api.mjs');
  const runs: number[] = [];
  for (let i = 0; i < (lab.options.quick ? 1 : 7); i++) {
    const cache = join(tmpdir(), `modelgate-cold-${process.pid}-${i}-${Date.now()}`);
    const started = performance.now();
    // Asynchronous: the bucket it reads is served by this process.
    const { stdout: out } = await run(process.execPath, [`${ROOT}bench/servers/cold-start.mjs`, api], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        ...LAMBDA_ENVIRONMENT,
        LAMBDA_TASK_ROOT: dirname(api),
        MODELGATE_MODEL_BUCKET: lab.s3.bucket,
        MODELGATE_S3_ENDPOINT: lab.s3.url,
        MODELGATE_CACHE_DIR: cache,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        NODE_OPTIONS: functionNodeOptions(API_NODE_OPTIONS),
      },
    });
    const elapsed = performance.now() - started;
    if (!out.includes('"statusCode":200')) throw new Error(`cold start answered ${out}`);
    if (i > 0 || lab.options.quick) runs.push(elapsed);
  }
  return [
    limitRow(
      {
        id: '4',
        measurement:
          'cold start as deployed (source map, tracing, metrics): new node process, bundle load, model from S3, first answer (median)',
        ours: median(runs),
        unit: 'ms',
      },
      300,
    ),
    limitRow(
      {
        id: '4',
        measurement: `cold start: the slowest of the ${runs.length} runs (every run must pass)`,
        ours: Math.max(...runs),
        unit: 'ms',
      },
      300,
    ),
    limitRow(
      {
        id: '4',
        measurement: 'api bundle size (onnxruntime-node external)',
        ours: statSync(api).size / 2 ** 20,
        unit: 'MB',
        digits: 2,
      },
      1,
    ),
  ];
}

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
import { type BenchNode, lambdaNode } from '../lib/lambda-node.ts';
import { median, ROOT } from '../lib/process.ts';
import { fmt, limitRow, type Row } from '../lib/report.ts';

const exec = promisify(execFile);

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

/** One cold start: a fresh process of `node` loading the bundle `api` as deployed, through the first answer; its wall time in ms. */
async function coldStart(lab: Lab, node: BenchNode, api: string, run: number): Promise<number> {
  const cache = join(tmpdir(), `modelgate-cold-${process.pid}-${run}-${Date.now()}`);
  const started = performance.now();
  // Asynchronous: the bucket it reads is served by this process.
  const { stdout: out } = await exec(node.execPath, [`${ROOT}bench/servers/cold-start.mjs`, api], {
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
  return elapsed;
}

/**
 * 4: a fresh node process loading the bundle as deployed, through the first answered request (model
 * fetched from the bucket), on Lambda's Node.js major; this machine's Node.js alternating with it, for
 * comparison (peer column). The first start of each is dropped (the page cache warming).
 */
export async function cold(lab: Lab): Promise<Row[]> {
  const api = await bundle('functions/api/index.ts', 'api.mjs');
  const lambda = lambdaNode();
  const host: BenchNode = { execPath: process.execPath, version: process.version };
  const compare = lambda.execPath !== host.execPath;
  const runs: number[] = [];
  const hostRuns: number[] = [];
  const rounds = lab.options.quick ? 1 : 7;
  for (let i = 0; i < rounds; i++) {
    const elapsed = await coldStart(lab, lambda, api, i);
    const hostElapsed = compare ? await coldStart(lab, host, api, i) : undefined;
    if (i === 0 && !lab.options.quick) continue;
    runs.push(elapsed);
    if (hostElapsed !== undefined) hostRuns.push(hostElapsed);
  }
  const on = lambda.fallback
    ? `on this machine's Node.js ${lambda.version}, NOT Lambda's: ${lambda.fallback}`
    : `on Lambda's Node.js major, ${lambda.version} linux/${process.arch}`;
  const peer = (ms: number) => (hostRuns.length > 0 ? `${fmt(ms)} ms on ${host.version}` : undefined);
  return [
    limitRow(
      {
        id: '4',
        measurement: `cold start as deployed (source map, tracing, metrics) ${on}: new node process, bundle load, model from S3, first answer (median; peer column: this machine's Node.js)`,
        ours: median(runs),
        unit: 'ms',
        peer: peer(median(hostRuns)),
      },
      300,
    ),
    limitRow(
      {
        id: '4',
        measurement: `cold start: the slowest of the ${runs.length} runs (every run must pass)`,
        ours: Math.max(...runs),
        unit: 'ms',
        peer: peer(Math.max(...hostRuns)),
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

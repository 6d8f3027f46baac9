import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { build, type Plugin } from 'esbuild';
import { API_NODE_OPTIONS, BATCH_NODE_OPTIONS, BATCH_PROCESS_ENVIRONMENT } from '../infra/function-env.ts';
import { freePort } from '../local/net.ts';
import {
  childPids,
  median,
  PYTHON,
  pythonHas,
  ROOT,
  rssMb,
  startChild,
  stop,
  waitForHttp,
} from './lib/process.ts';
import { fmt, limitRow, type Row, ratioRow } from './lib/report.ts';
import { type BatchRun, batchRuns, streamingOverhead } from './lib/topology-runs.ts';

export interface BenchOptions {
  /** Seconds of load per system per HTTP comparison, split over alternating rounds. */
  readonly duration: number;
  readonly connections: number;
  /** Tiny sizes everywhere: checks the harness, measures nothing worth keeping. */
  readonly quick: boolean;
}

interface ApiServer {
  url: string;
  apiKey: string;
  pid: number;
  handlerUs: { p50: number; p99: number };
  sessionRunUs: { p50: number; p99: number };
}

const run = promisify(execFile);
const IRIS_ROW = [[5.1, 3.5, 1.4, 0.2]];
const LINEAR_ROW = [[2.0]];
const predictBody = (instances: unknown) => JSON.stringify({ instances });

/**
 * What the benchmarks share, started on first use and stopped at the end:
 * the model bucket (s3rver, in this process), ModelGate's api server (gateway
 * emulator + api handler, a child), the Python peer (two uvicorn workers),
 * the bare-Node ceiling server.
 */
export class Lab {
  private readonly children: ChildProcess[] = [];
  private api?: Promise<ApiServer>;
  private peerUrl?: Promise<{ url: string; pid: number } | undefined>;
  private ceilingUrl?: Promise<{ url: string; pid: number }>;

  constructor(
    readonly options: BenchOptions,
    readonly s3: { url: string; bucket: string },
  ) {}

  /**
   * The api server as a deployed function runs: bundled by esbuild (as the
   * stack bundles it), in plain node, not through tsx's loader.
   */
  modelgate(): Promise<ApiServer> {
    this.api ??= startApiServer(this.s3, this.options.quick ? 500 : 20_000).then(({ child, ready }) => {
      this.children.push(child);
      return ready;
    });
    return this.api;
  }

  /** FastAPI + uvicorn + scikit-learn, one worker per core; undefined when Debian's packages are missing. */
  peer(): Promise<{ url: string; pid: number } | undefined> {
    this.peerUrl ??= (async () => {
      if (!pythonHas(['fastapi', 'uvicorn', 'sklearn'])) return undefined;
      const port = await freePort();
      const child = spawn(PYTHON, [`${ROOT}bench/peers/sklearn_fastapi.py`, String(port), '2'], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      this.children.push(child);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/v1/models/iris/predict`, predictBody(IRIS_ROW));
      return { url, pid: child.pid as number };
    })();
    return this.peerUrl;
  }

  /** A bare Node `http` server answering a fixed body the size of ModelGate's iris answer. */
  ceiling(): Promise<{ url: string; pid: number }> {
    this.ceilingUrl ??= (async () => {
      const api = await this.modelgate();
      const answer = await fetch(`${api.url}/v1/models/iris/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': api.apiKey },
        body: predictBody(IRIS_ROW),
      }).then((r) => r.text());
      const { child, ready } = await startChild<{ url: string; pid: number }>('bench/servers/ceiling.ts', [
        String(Buffer.byteLength(answer)),
      ]);
      this.children.push(child);
      return ready;
    })();
    return this.ceilingUrl;
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map(stop));
  }
}

/**
 * The api server bundled and run as deployed (the api function's V8 flags),
 * after timing `handlerCalls` in-process calls.
 */
async function startApiServer(s3: { url: string; bucket: string }, handlerCalls: number) {
  const server = await bundle('bench/servers/api.ts', 'api-server.mjs');
  return startChild<ApiServer>(server, [s3.url, s3.bucket], {
    MODELGATE_BENCH_HANDLER_CALLS: String(handlerCalls),
    NODE_OPTIONS: API_NODE_OPTIONS.join(' '),
  });
}

interface Load {
  rps: number;
  p99: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>, body: string, lab: Lab, seconds: number) {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections: lab.options.connections,
  };
  const result = await autocannon({ ...options, duration: seconds });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/**
 * Two systems under the same load, alternating rounds (A B A B A B) after a
 * warm-up of each, so a noisy neighbour hurts both; medians of the rounds.
 */
async function alternate(
  lab: Lab,
  a: () => Promise<Load>,
  b: (() => Promise<Load>) | undefined,
): Promise<{ a: Load; b: Load | undefined }> {
  const rounds = lab.options.quick ? 1 : 3;
  const runs: { a: Load[]; b: Load[] } = { a: [], b: [] };
  for (let i = 0; i < rounds; i++) {
    runs.a.push(await a());
    if (b) runs.b.push(await b());
  }
  const summary = (loads: Load[]): Load => ({
    rps: median(loads.map((l) => l.rps)),
    p99: median(loads.map((l) => l.p99)),
    errors: loads.reduce((sum, l) => sum + l.errors, 0),
  });
  return { a: summary(runs.a), b: b ? summary(runs.b) : undefined };
}

const PEER_MISSING = 'apt install python3-fastapi python3-uvicorn python3-sklearn';

/** 1, 2, 2b: single-row predict over HTTP, 32 connections, against the Python server and the bare-Node ceiling. */
export async function http(lab: Lab): Promise<Row[]> {
  const api = await lab.modelgate();
  const peer = await lab.peer();
  const round = lab.options.quick ? 1 : Math.max(1, lab.options.duration / 3);
  const key = { 'x-api-key': api.apiKey };
  const ours = (model: string, row: unknown) => () =>
    load(`${api.url}/v1/models/${model}/predict`, key, predictBody(row), lab, round);
  const theirs = (model: string, row: unknown) =>
    peer ? () => load(`${peer.url}/v1/models/${model}/predict`, {}, predictBody(row), lab, round) : undefined;
  const warm = async (run: (() => Promise<Load>) | undefined) => run && (await run());
  await warm(ours('iris', IRIS_ROW));
  await warm(theirs('iris', IRIS_ROW));

  const iris = await alternate(lab, ours('iris', IRIS_ROW), theirs('iris', IRIS_ROW));
  const linear = await alternate(lab, ours('linear', LINEAR_ROW), theirs('linear', LINEAR_ROW));
  const ceiling = await lab.ceiling();
  const bare = await alternate(lab, ours('iris', IRIS_ROW), () =>
    load(`${ceiling.url}/v1/models/iris/predict`, {}, predictBody(IRIS_ROW), lab, round),
  );
  const errors = iris.a.errors + linear.a.errors + bare.a.errors;
  if (errors > 0) throw new Error(`ModelGate answered ${errors} requests with errors under load`);
  const c = lab.options.connections;
  return [
    ratioRow(
      {
        id: '1',
        measurement: `HTTP predict, iris forest, ${c} connections: requests/s`,
        ours: iris.a.rps,
        peer: iris.b?.rps,
        unit: 'req/s',
      },
      15,
      { missing: PEER_MISSING },
    ),
    ratioRow(
      {
        id: '1',
        measurement: `HTTP predict, iris forest, ${c} connections: p99`,
        ours: iris.a.p99,
        peer: iris.b?.p99,
        unit: 'ms',
        digits: 1,
      },
      0.1,
      { atMost: true, missing: PEER_MISSING },
    ),
    ratioRow(
      {
        id: '2',
        measurement: `HTTP predict, linear, ${c} connections: requests/s`,
        ours: linear.a.rps,
        peer: linear.b?.rps,
        unit: 'req/s',
      },
      5,
      { missing: PEER_MISSING },
    ),
    {
      ...ratioRow(
        {
          id: '2b',
          measurement: 'HTTP predict, iris, against a bare Node server of the same answer (peer column)',
          ours: bare.a.rps,
          peer: bare.b?.rps,
          unit: 'req/s',
        },
        0.4,
      ),
    },
  ];
}

/** 3: the api handler in process (event in, response out) against onnxruntime's bare session.run and scikit-learn's predict. */
export async function handler(lab: Lab): Promise<Row[]> {
  const api = await lab.modelgate();
  const sklearn = sklearnSingleRow(lab.options.quick ? 100 : 2000);
  return [
    ratioRow(
      {
        id: '3',
        measurement:
          'api handler, single row, p50 (peer: onnxruntime session.run alone, same process, alternating)',
        ours: api.handlerUs.p50,
        peer: api.sessionRunUs.p50,
        unit: 'µs',
        digits: 1,
      },
      3,
      { atMost: true },
    ),
    ratioRow(
      {
        id: '3',
        measurement: 'api handler, single row, p50 (peer: scikit-learn predict_proba)',
        ours: api.handlerUs.p50,
        peer: sklearn,
        unit: 'µs',
        digits: 1,
      },
      0.5,
      { atMost: true, missing: 'apt install python3-sklearn' },
    ),
  ];
}

function sklearnSingleRow(n: number): number | undefined {
  if (!pythonHas(['sklearn'])) return undefined;
  const script = `
import time, numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
d = load_iris(); x = d.data.astype(np.float32)
m = RandomForestClassifier(n_estimators=100, random_state=0).fit(x, d.target)
row = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)
for _ in range(50): m.predict_proba(row)
s = []
for _ in range(${n}):
    t = time.perf_counter(); m.predict_proba(row); s.append((time.perf_counter() - t) * 1e6)
s.sort(); print(s[len(s) // 2])`;
  return Number(execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' }).trim());
}

/**
 * An entry bundled as esbuild bundles the functions for Lambda (the options of
 * InferenceFunction), onnxruntime-node external; written where node resolves
 * it from the repository's node_modules.
 */
export async function bundle(
  entry: string,
  name: string,
  minify = true,
  options: { packages?: 'external' } = {},
): Promise<string> {
  const dir = join(ROOT, 'node_modules', '.cache', 'modelgate-bench');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, name);
  await build({
    entryPoints: [`${ROOT}${entry}`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify,
    keepNames: !minify,
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    external: ['onnxruntime-node'],
    logLevel: 'silent',
    ...(options.packages && { packages: options.packages, plugins: [sourceUrls] }),
  });
  return outfile;
}

/** Each module's `import.meta.url` stays its source file's: the local topology finds models and scripts by it. */
const sourceUrls: Plugin = {
  name: 'source-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

/**
 * The whole local topology as `npm start` runs it (bench/servers/topology.ts),
 * its code bundled as the functions are deployed and run by plain node, not
 * through tsx's loader (which resolves every `require` the SDK makes per
 * streamed call); packages load from node_modules.
 */
async function startTopology<T>(env: NodeJS.ProcessEnv = {}) {
  const server = await bundle('bench/servers/topology.ts', 'topology.mjs', false, { packages: 'external' });
  return startChild<T>(server, [], env);
}

/** 4: a fresh node process loading the bundle, through the first answered request (model fetched from the bucket). */
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
        ...process.env,
        MODELGATE_MODEL_BUCKET: lab.s3.bucket,
        MODELGATE_S3_ENDPOINT: lab.s3.url,
        MODELGATE_CACHE_DIR: cache,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'WARN',
        POWERTOOLS_TRACE_ENABLED: 'false',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        NODE_OPTIONS: API_NODE_OPTIONS.join(' '),
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
        measurement: 'cold start: new node process, bundle load, model from S3, first answer (median)',
        ours: median(runs),
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

/** 5: the inference function's deployable asset, unzipped, as `cdk synth` stages it for arm64. */
export async function asset(): Promise<Row[]> {
  const out = join(tmpdir(), `modelgate-bench-synth-${process.pid}`);
  execFileSync(`${ROOT}node_modules/.bin/cdk`, ['synth', '--quiet', '-o', out], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  const template = JSON.parse(readFileSync(join(out, 'ModelGate.template.json'), 'utf8'));
  const inference = Object.entries(
    template.Resources as Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>,
  ).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('InferenceFunction'));
  const key = inference?.[1].Properties.Code?.S3Key ?? '';
  const dir = join(out, `asset.${key.replace(/\.zip$/, '')}`);
  if (!existsSync(dir)) throw new Error(`no staged asset for the inference function at ${dir}`);
  return [
    limitRow(
      {
        id: '5',
        measurement: 'inference function asset, unzipped (bundle + onnxruntime linux/arm64)',
        ours: duBytes(dir) / 2 ** 20,
        unit: 'MB',
        digits: 1,
      },
      40,
    ),
  ];
}

function duBytes(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + duBytes(join(path, name)), 0);
}

/** 6: RSS after 10k mixed requests over all sample models, against one Python worker's. */
export async function memory(lab: Lab): Promise<Row[]> {
  // A fresh api server that has served nothing but these requests (no in-process timing loop first).
  const { child, ready: api } = await startApiServer(lab.s3, 0);
  try {
    return await measureMemory(lab, api);
  } finally {
    await stop(child);
  }
}

async function measureMemory(lab: Lab, api: ApiServer): Promise<Row[]> {
  const peer = await lab.peer();
  const n = lab.options.quick ? 200 : 10_000;
  const rows: Record<string, number[][]> = {
    iris: IRIS_ROW,
    'iris-logistic': [[5.9, 3.0, 4.2, 1.5]],
    linear: LINEAR_ROW,
    diabetes: [[0.038, 0.051, 0.062, 0.022, -0.044, -0.035, -0.043, -0.003, 0.02, -0.018]],
  };
  const models = Object.keys(rows);
  const requests = (base: string, headers: Record<string, string>, withV2: boolean) =>
    Array.from({ length: n }, (_, i) => {
      const model = models[i % models.length] as string;
      const instances = rows[model] as number[][];
      if (withV2 && i % 2 === 1) {
        return {
          url: `${base}/v2/models/${model}/infer`,
          headers,
          body: JSON.stringify({
            inputs: [
              { name: 'input', shape: [1, instances[0]?.length], datatype: 'FP32', data: instances.flat() },
            ],
          }),
        };
      }
      return { url: `${base}/v1/models/${model}/predict`, headers, body: predictBody(instances) };
    });
  await send(requests(api.url, { 'x-api-key': api.apiKey }, true));
  const ours = rssMb(api.pid).now;
  let theirs: number | undefined;
  if (peer) {
    await send(requests(peer.url, {}, false));
    theirs = Math.max(...childPids(peer.pid).map((pid) => rssMb(pid).now));
  }
  return [
    ratioRow(
      {
        id: '6',
        measurement: `RSS after ${fmt(n)} mixed requests, all sample models (peer: largest uvicorn worker)`,
        ours,
        peer: theirs,
        unit: 'MB',
      },
      1,
      { atMost: true, missing: PEER_MISSING },
    ),
  ];
}

async function send(requests: Array<{ url: string; headers: Record<string, string>; body: string }>) {
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++] as (typeof requests)[number];
      const response = await fetch(r.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...r.headers },
        body: r.body,
      });
      if (!response.ok) throw new Error(`${r.url} answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/**
 * 7: what the gateway emulator adds per request: sequential keep-alive
 * requests through it, less the same requests to the bare server (client and
 * loopback cost), less the handler's own in-process time.
 */
export async function gateway(lab: Lab): Promise<Row[]> {
  const api = await lab.modelgate();
  const ceiling = await lab.ceiling();
  const n = lab.options.quick ? 300 : 5000;
  const viaGateway: number[] = [];
  const bare: number[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let round = 0; round < (lab.options.quick ? 1 : 5); round++) {
    viaGateway.push(
      await sequentialP50(`${api.url}/v1/models/iris/predict`, { 'x-api-key': api.apiKey }, n, agent),
    );
    bare.push(await sequentialP50(`${ceiling.url}/v1/models/iris/predict`, {}, n, agent));
  }
  agent.destroy();
  const added = median(viaGateway) - median(bare) - api.handlerUs.p50 / 1000;
  return [
    {
      ...limitRow(
        {
          id: '7',
          measurement:
            'gateway emulator, added latency per request, p50 (through it, less bare server, less handler)',
          ours: added,
          unit: 'ms',
          digits: 3,
          peer: `${fmt(median(viaGateway), 3)} ms through it, ${fmt(median(bare), 3)} ms bare, handler ${fmt(api.handlerUs.p50 / 1000, 3)} ms`,
        },
        0.3,
      ),
    },
  ];
}

function sequentialP50(
  url: string,
  headers: Record<string, string>,
  n: number,
  agent: Agent,
): Promise<number> {
  const body = predictBody(IRIS_ROW);
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...headers,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(performance.now() - started)
              : reject(new Error(`${url}: ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return (async () => {
    for (let i = 0; i < Math.min(500, n); i++) await one();
    const samples: number[] = [];
    for (let i = 0; i < n; i++) samples.push(await one());
    return median(samples);
  })();
}

/** 8: the chat path's streaming overhead and batch throughput, through the whole local topology. */
export async function streaming(lab: Lab): Promise<Row[]> {
  const { child, ready } = await startTopology<{ apiUrl: string; apiKey: string; demoUrl: string }>();
  try {
    const s = await streamingOverhead(ready, lab.options.quick ? 3 : 43);
    return [
      limitRow(
        {
          id: '8',
          measurement: 'streaming chat: time to first token added by the API (median of alternating runs)',
          ours: s.api.ttft - s.direct.ttft,
          unit: 'ms',
          digits: 2,
          peer: `${fmt(s.direct.ttft, 2)} ms direct`,
        },
        5,
      ),
      ratioRow(
        {
          id: '8',
          measurement: 'streaming chat: tokens/s through the API (peer: the container directly)',
          ours: s.api.tokensPerSecond,
          peer: s.direct.tokensPerSecond,
          unit: 'tok/s',
        },
        0.9,
      ),
    ];
  } finally {
    await stop(child);
  }
}

export async function batch(lab: Lab): Promise<{ rows: Row[]; runs: BatchRun[] }> {
  // The batch function's runtime settings as deployed (infra/function-env.ts).
  const { child, ready } = await startTopology<{ s3Url: string; bucket: string; pid: number }>({
    NODE_OPTIONS: BATCH_NODE_OPTIONS.join(' '),
    ...BATCH_PROCESS_ENVIRONMENT,
  });
  const rowsCount = lab.options.quick ? 2000 : Number(process.env.MODELGATE_BENCH_BATCH_ROWS ?? 1_000_000);
  // Five rounds: on a shared machine both sides of a 3–8 s run move by a third from one to the next.
  const rounds = lab.options.quick ? 1 : 5;
  const runs: BatchRun[] = [];
  try {
    for (const format of ['jsonl', 'csv'] as const)
      runs.push(await batchRuns(ready, format, rowsCount, rounds));
  } finally {
    await stop(child);
  }
  const missing = 'apt install python3-pandas python3-sklearn';
  return {
    runs,
    rows: [
      ...runs.map((r) =>
        ratioRow(
          {
            id: '8',
            measurement: `batch, ${fmt(r.rows)} rows × 10 features, ${r.format.toUpperCase()}, upload to manifest (peer: pandas + scikit-learn)`,
            ours: r.rowsPerSecond,
            peer: r.peer?.rowsPerSecond,
            unit: 'rows/s',
          },
          2,
          { missing },
        ),
      ),
      limitRow(
        {
          id: '8',
          measurement: 'batch: peak RSS of the local topology process',
          ours: Math.max(...runs.map((r) => r.peakRssMb)),
          unit: 'MB',
        },
        300,
      ),
    ],
  };
}

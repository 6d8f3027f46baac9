/**
 * `npm run bench`: single-row `predict` on the `iris` model over HTTP, through
 * ModelGate's local topology (gateway emulator → api handler → onnxruntime),
 * against a peer in the same run: FastAPI + uvicorn + scikit-learn serving the
 * same forest. Also the in-process latency of the handler and of one ONNX
 * session.run. Writes bench/RESULTS.md.
 *
 *   npm run bench [-- --duration 10 --connections 32]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import autocannon from 'autocannon';
import * as ort from 'onnxruntime-node';
import { freePort } from '../infra/local/net.ts';
import { localS3Client } from '../infra/local/s3.ts';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const root = new URL('../', import.meta.url).pathname;
const body = JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] });

interface HttpResult {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(name: string, url: string, headers: Record<string, string>): Promise<HttpResult> {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  };
  await autocannon({ ...options, connections, duration: 2 });
  const result = await autocannon({ ...options, connections, duration });
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end >= 0) resolve(out.slice(0, end));
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before it was ready`)));
  });
}

async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function sessionRunLatency(): Promise<{ p50: number; p99: number }> {
  const session = await ort.InferenceSession.create(readFileSync(`${root}models/iris/model.onnx`), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const input = new ort.Tensor('float32', Float32Array.from([5.1, 3.5, 1.4, 0.2]), [1, 4]);
  for (let i = 0; i < 2000; i++) await session.run({ input });
  const n = 20_000;
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await session.run({ input });
    samples[i] = (performance.now() - started) * 1000;
  }
  samples.sort();
  return { p50: samples[n / 2] as number, p99: samples[Math.floor(n * 0.99)] as number };
}

function sklearnLatency(): { p50: number; p99: number } | undefined {
  const script = `
import time, numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
d = load_iris(); x = d.data.astype(np.float32)
m = RandomForestClassifier(n_estimators=100, random_state=0).fit(x, d.target)
row = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)
for _ in range(50): m.predict_proba(row)
s = []
for _ in range(500):
    t = time.perf_counter(); m.predict_proba(row); s.append((time.perf_counter() - t) * 1e6)
s.sort(); print(s[250], s[495])`;
  try {
    const [p50, p99] = execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' })
      .trim()
      .split(' ')
      .map(Number);
    return { p50: p50 as number, p99: p99 as number };
  } catch {
    return undefined;
  }
}

function peerAvailable(modules: string[] = ['fastapi', 'uvicorn', 'sklearn']): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface StreamStats {
  /** Median time to the first content chunk, ms. */
  ttft: number;
  /** Median tokens (content chunks) per second over the whole answer. */
  tokensPerSecond: number;
  tokens: number;
}

/** Time to first token and tokens/s of one streamed chat answer, read chunk by chunk. */
async function timeStream(
  url: string,
  headers: Record<string, string>,
  body: object,
): Promise<{ ttft: number; tokens: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}`);
  let ttft = 0;
  let tokens = 0;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      if (!event.startsWith('data: {')) continue;
      if (JSON.parse(event.slice(6)).choices?.[0]?.delta?.content) {
        tokens++;
        if (ttft === 0) ttft = performance.now() - started;
      }
    }
  }
  return { ttft, tokens, ms: performance.now() - started };
}

/**
 * Streaming overhead: the same seeded chat, streamed through ModelGate's API
 * (gateway → chat function → SageMaker Runtime emulator → container) and from
 * the demo container's /invocations directly, alternating, same run.
 */
async function streamingOverhead(target: { apiUrl: string; apiKey: string; demoUrl: string }) {
  const body = (seed: number) => ({
    model: 'demo-lm',
    messages: [{ role: 'user', content: 'Tell me my fortune.' }],
    max_tokens: 64,
    temperature: 0.8,
    seed,
    stream: true,
  });
  const runs = {
    api: [] as Awaited<ReturnType<typeof timeStream>>[],
    direct: [] as Awaited<ReturnType<typeof timeStream>>[],
  };
  for (let i = 0; i < 43; i++) {
    const api = await timeStream(
      `${target.apiUrl}/v1/chat/completions`,
      { authorization: `Bearer ${target.apiKey}` },
      body(i),
    );
    const direct = await timeStream(`${target.demoUrl}/invocations`, {}, body(i));
    if (i >= 3) {
      runs.api.push(api);
      runs.direct.push(direct);
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const stats = (r: typeof runs.api): StreamStats => ({
    ttft: median(r.map((x) => x.ttft)),
    tokensPerSecond: median(r.map((x) => (x.tokens / x.ms) * 1000)),
    tokens: median(r.map((x) => x.tokens)),
  });
  return { api: stats(runs.api), direct: stats(runs.direct) };
}

interface BatchRun {
  format: 'jsonl' | 'csv';
  rows: number;
  mb: number;
  seconds: number;
  rowsPerSecond: number;
  modelShare: number;
  peakRssMb: number;
  peer?: { seconds: number; rowsPerSecond: number; readShare: number; peakRssMb: number };
}

const BATCH_ROWS = Number(process.env.MODELGATE_BENCH_BATCH_ROWS ?? 1_000_000);

/** A file of diabetes-shaped rows (10 features), written once per format. */
function batchFile(format: 'jsonl' | 'csv'): string {
  const path = join(tmpdir(), `modelgate-bench-${BATCH_ROWS}.${format}`);
  if (existsSync(path)) return path;
  let seed = 42;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return ((seed / 2147483647) * 0.2 - 0.1).toFixed(5);
  };
  const names = ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'];
  const lines: string[] = format === 'csv' ? [names.join(',')] : [];
  for (let i = 0; i < BATCH_ROWS; i++) {
    const row = Array.from({ length: 10 }, random);
    lines.push(format === 'csv' ? row.join(',') : `[${row.join(',')}]`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * 1 M rows through local mode, upload to manifest: the file is put in the
 * model bucket under batch/input/diabetes/, the S3 event runs the job, the
 * manifest says when it is done. Peak RSS of the ModelGate process is reset
 * before the run. The peer scores the same file with pandas + scikit-learn.
 */
async function batchRun(
  target: { s3Url: string; bucket: string; pid: number },
  format: 'jsonl' | 'csv',
): Promise<BatchRun> {
  const path = batchFile(format);
  const s3 = localS3Client(target.s3Url);
  const key = `batch/input/diabetes/bench-${Date.now()}.${format}`;
  try {
    writeFileSync(`/proc/${target.pid}/clear_refs`, '5');
  } catch {}
  const started = performance.now();
  await new Upload({
    client: s3,
    params: { Bucket: target.bucket, Key: key, Body: createReadStream(path) },
  }).done();
  let manifest: { status: string; rows: number; durationMs: number; modelMs: number } | undefined;
  while (!manifest || manifest.status === 'running') {
    await new Promise((r) => setTimeout(r, 250));
    manifest = await s3
      .send(
        new GetObjectCommand({
          Bucket: target.bucket,
          Key: `${key.replace('batch/input/', 'batch/output/')}.manifest.json`,
        }),
      )
      .then(async (o) => JSON.parse((await o.Body?.transformToString()) ?? 'null'))
      .catch(() => undefined);
  }
  const seconds = (performance.now() - started) / 1000;
  s3.destroy();
  const run: BatchRun = {
    format,
    rows: manifest.rows,
    mb: statSync(path).size / 2 ** 20,
    seconds,
    rowsPerSecond: manifest.rows / seconds,
    modelShare: manifest.modelMs / manifest.durationMs,
    peakRssMb: peakRssMb(target.pid),
  };
  if (peerAvailable(['pandas', 'sklearn'])) {
    const peer = JSON.parse(
      execFileSync('/usr/bin/python3', [`${root}bench/peers/sklearn_batch.py`, path], { encoding: 'utf8' }),
    );
    run.peer = {
      seconds: peer.seconds,
      rowsPerSecond: peer.rows / peer.seconds,
      readShare: peer.readSeconds / peer.seconds,
      peakRssMb: peer.peakRssMb,
    };
  }
  return run;
}

const modelgate = spawn(`${root}node_modules/.bin/tsx`, [`${root}bench/serve-local.ts`], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const ready = JSON.parse(await firstLine(modelgate)) as {
  apiUrl: string;
  apiKey: string;
  demoUrl: string;
  s3Url: string;
  bucket: string;
  pid: number;
  handlerLatencyUs: { p50: number; p99: number };
};
const results: HttpResult[] = [];
let streaming: { api: StreamStats; direct: StreamStats } | undefined;
const batches: BatchRun[] = [];
try {
  results.push(
    await load(
      'ModelGate (local gateway → api handler → onnxruntime)',
      `${ready.apiUrl}/v1/models/iris/predict`,
      { 'x-api-key': ready.apiKey },
    ),
  );
  streaming = await streamingOverhead(ready);
  for (const format of ['jsonl', 'csv'] as const) batches.push(await batchRun(ready, format));
} finally {
  await stop(modelgate);
}

let peerNote = '';
if (peerAvailable()) {
  const port = await freePort();
  const peer = spawn('/usr/bin/python3', [`${root}bench/peers/sklearn_fastapi.py`, String(port)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    const url = `http://127.0.0.1:${port}/v1/models/iris/predict`;
    await waitForHttp(url);
    results.push(await load('FastAPI + uvicorn + scikit-learn (same forest)', url, {}));
  } finally {
    await stop(peer);
  }
} else {
  peerNote =
    '\nPeer skipped: install python3-fastapi, python3-uvicorn and python3-sklearn (apt) to run it.\n';
}

const runner = await sessionRunLatency();
const sklearn = sklearnLatency();
const [ours, peer] = results;
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const report = `# Benchmark results

Single-row \`POST /v1/models/iris/predict\` (\`{"instances": [[5.1, 3.5, 1.4, 0.2]]}\`), the
\`iris\` sample model (RandomForestClassifier, 100 trees). Generated by \`npm run bench\`
on ${new Date().toISOString().slice(0, 10)}.

- Machine: ${cpu}, ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}
- Command: \`npm run bench -- --duration ${duration} --connections ${connections}\`
- Load: autocannon in the bench process, ${connections} connections, ${duration} s after a 2 s warm-up;
  each server in its own process on loopback, sharing the same ${cpus().length} cores with the load generator.
- Both servers are one process each: ModelGate's Node.js process, uvicorn's one worker
  (its default), so the comparison is per process.
- ModelGate runs \`npm start\`'s topology (gateway emulator with API-key check, REST proxy
  events, the Lambda handler module, s3rver-backed registry) with the usage-plan throttle
  lifted so the plan is not what is measured.

## Over HTTP

| server | requests/s | p50 ms | p99 ms | errors |
|---|---:|---:|---:|---:|
${results.map((r) => `| ${r.name} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} |`).join('\n')}
${peer && ours ? `\n**Ratio: ModelGate serves ${fmt(ours.rps / peer.rps, 1)}× the requests/s of the FastAPI + scikit-learn peer.**\n` : peerNote}
${
  streaming
    ? `## Streaming chat (demo-lm, 64 tokens, seeded; medians of 40 alternating runs)

| path | time to first token ms | tokens/s | tokens |
|---|---:|---:|---:|
| ModelGate API (gateway → chat function → SageMaker Runtime emulator → container) | ${fmt(streaming.api.ttft, 2)} | ${fmt(streaming.api.tokensPerSecond)} | ${streaming.api.tokens} |
| demo container \`/invocations\` directly | ${fmt(streaming.direct.ttft, 2)} | ${fmt(streaming.direct.tokensPerSecond)} | ${streaming.direct.tokens} |

**ModelGate adds ${fmt(streaming.api.ttft - streaming.direct.ttft, 2)} ms to the time to first token (target < 5 ms) and streams at ${fmt(streaming.api.tokensPerSecond / streaming.direct.tokensPerSecond, 2)}× the direct rate (target ≥ 0.9×).**

`
    : ''
}${
  batches.length > 0
    ? `## Batch predictions (diabetes, ${BATCH_ROWS.toLocaleString('en-US')} rows × 10 features, upload to manifest)

| input | MB | ModelGate rows/s | ModelGate s | time in the model | peak RSS MB | pandas + scikit-learn rows/s | peer s | peer time reading | peer peak RSS MB | ratio |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${batches
  .map(
    (b) =>
      `| ${b.format.toUpperCase()} | ${fmt(b.mb)} | ${fmt(b.rowsPerSecond)} | ${fmt(b.seconds, 1)} | ${fmt(b.modelShare * 100)} % | ${fmt(b.peakRssMb)} | ${b.peer ? fmt(b.peer.rowsPerSecond) : '-'} | ${b.peer ? fmt(b.peer.seconds, 1) : '-'} | ${b.peer ? `${fmt(b.peer.readShare * 100)} %` : '-'} | ${b.peer ? fmt(b.peer.peakRssMb) : '-'} | ${b.peer ? `${fmt(b.rowsPerSecond / b.peer.rowsPerSecond, 1)}×` : '-'} |`,
  )
  .join('\n')}

ModelGate's time includes uploading the file to the local S3, the S3 event, the queue, streaming
the object back, parsing, scoring in micro-batches of 4,096 rows and the streaming upload of the
output; its peak RSS is the whole local topology's process (s3rver, gateway, handlers), reset
before each run. The peer only reads the local file, predicts and writes the predictions.
Targets: at least 2× the peer's rows/s, peak RSS under 300 MB.

`
    : ''
}## In process (µs per single-row call)

| what | p50 µs | p99 µs |
|---|---:|---:|
| api handler (event → JSON response, registry cached, session warm) | ${fmt(ready.handlerLatencyUs.p50, 1)} | ${fmt(ready.handlerLatencyUs.p99, 1)} |
| onnxruntime-node \`session.run\` alone | ${fmt(runner.p50, 1)} | ${fmt(runner.p99, 1)} |
${sklearn ? `| scikit-learn \`predict_proba\` (peer's model call) | ${fmt(sklearn.p50, 1)} | ${fmt(sklearn.p99, 1)} |\n` : ''}
On AWS the HTTP path is API Gateway and Lambda, not these loopback servers: these figures
compare the code paths, not deployed latency.
`;
writeFileSync(`${root}bench/RESULTS.md`, report);
console.log(report);

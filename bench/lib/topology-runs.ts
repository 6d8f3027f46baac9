/**
 * Benchmark runs through the whole local topology: a streamed chat through ModelGate's API against the demo
 * container directly, and batch files from upload to manifest against pandas + scikit-learn.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { localS3Client } from '../../local/s3.ts';
import { median, PYTHON, pythonHas, ROOT, rssMb } from './process.ts';

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
export async function streamingOverhead(
  target: { apiUrl: string; apiKey: string; demoUrl: string },
  total = 43,
) {
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
  for (let i = 0; i < total; i++) {
    const api = await timeStream(
      `${target.apiUrl}/v1/chat/completions`,
      { authorization: `Bearer ${target.apiKey}` },
      body(i),
    );
    const direct = await timeStream(`${target.demoUrl}/invocations`, {}, body(i));
    if (i >= Math.min(3, total - 1)) {
      runs.api.push(api);
      runs.direct.push(direct);
    }
  }
  const stats = (r: typeof runs.api): StreamStats => ({
    ttft: median(r.map((x) => x.ttft)),
    tokensPerSecond: median(r.map((x) => (x.tokens / x.ms) * 1000)),
    tokens: median(r.map((x) => x.tokens)),
  });
  return { api: stats(runs.api), direct: stats(runs.direct) };
}

export interface BatchRun {
  format: 'jsonl' | 'csv';
  rows: number;
  mb: number;
  /** Rounds behind the medians below (ModelGate and the peer alternating). */
  rounds: number;
  seconds: number;
  /** Of `seconds`: putting the file into the local S3 (multipart upload, as a client would). */
  uploadSeconds: number;
  /** Of `seconds`: the job itself, from the batch function's start to its manifest. */
  jobSeconds: number;
  rowsPerSecond: number;
  modelShare: number;
  /** The highest of the rounds. */
  peakRssMb: number;
  peer?: { seconds: number; rowsPerSecond: number; readShare: number; peakRssMb: number };
}

/** A file of diabetes-shaped rows (10 features), written once per format. */
function batchFile(format: 'jsonl' | 'csv', rows: number): string {
  const path = join(tmpdir(), `modelgate-bench-${rows}.${format}`);
  if (existsSync(path)) return path;
  let seed = 42;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return ((seed / 2147483647) * 0.2 - 0.1).toFixed(5);
  };
  const names = ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'];
  const lines: string[] = format === 'csv' ? [names.join(',')] : [];
  for (let i = 0; i < rows; i++) {
    const row = Array.from({ length: 10 }, random);
    lines.push(format === 'csv' ? row.join(',') : `[${row.join(',')}]`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * 1 M rows through local mode, upload to manifest, `rounds` times, each
 * followed by the peer (pandas + scikit-learn) on the same file: medians of
 * the rounds, and the highest peak RSS.
 */
export async function batchRuns(
  target: { s3Url: string; bucket: string; pid: number },
  format: 'jsonl' | 'csv',
  rows: number,
  rounds: number,
): Promise<BatchRun> {
  const path = batchFile(format, rows);
  const ours: Array<Awaited<ReturnType<typeof batchRun>>> = [];
  const peers: NonNullable<BatchRun['peer']>[] = [];
  const withPeer = pythonHas(['pandas', 'sklearn']);
  for (let round = 0; round < rounds; round++) {
    ours.push(await batchRun(target, format, path));
    if (withPeer) peers.push(peerRun(path));
  }
  const of = <T>(runs: T[], pick: (r: T) => number) => median(runs.map(pick));
  return {
    format,
    rows: ours[0]?.rows ?? 0,
    mb: statSync(path).size / 2 ** 20,
    rounds,
    seconds: of(ours, (r) => r.seconds),
    uploadSeconds: of(ours, (r) => r.uploadSeconds),
    jobSeconds: of(ours, (r) => r.jobSeconds),
    rowsPerSecond: of(ours, (r) => r.rowsPerSecond),
    modelShare: of(ours, (r) => r.modelShare),
    peakRssMb: Math.max(...ours.map((r) => r.peakRssMb)),
    ...(peers.length > 0 && {
      peer: {
        seconds: of(peers, (p) => p.seconds),
        rowsPerSecond: of(peers, (p) => p.rowsPerSecond),
        readShare: of(peers, (p) => p.readShare),
        peakRssMb: Math.max(...peers.map((p) => p.peakRssMb)),
      },
    }),
  };
}

/**
 * One file through local mode, upload to manifest: the file is put in the
 * model bucket under batch/input/<model>/ (diabetes unless told), the S3 event runs the job, the
 * manifest says when it is done. Peak RSS of the ModelGate process is reset
 * before the run.
 */
export async function batchRun(
  target: { s3Url: string; bucket: string; pid: number },
  format: 'jsonl' | 'csv',
  path: string,
  model = 'diabetes',
) {
  const s3 = localS3Client(target.s3Url);
  const key = `batch/input/${model}/bench-${Date.now()}.${format}`;
  try {
    writeFileSync(`/proc/${target.pid}/clear_refs`, '5');
  } catch {}
  const started = performance.now();
  await new Upload({
    client: s3,
    params: { Bucket: target.bucket, Key: key, Body: createReadStream(path) },
  }).done();
  const uploaded = performance.now();
  let manifest: { status: string; rows: number; durationMs: number; modelMs: number } | undefined;
  while (!manifest || manifest.status === 'running') {
    await new Promise((r) => setTimeout(r, 100));
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
  return {
    rows: manifest.rows,
    seconds,
    uploadSeconds: (uploaded - started) / 1000,
    jobSeconds: manifest.durationMs / 1000,
    rowsPerSecond: manifest.rows / seconds,
    modelShare: manifest.modelMs / manifest.durationMs,
    peakRssMb: rssMb(target.pid).peak,
  };
}

/** The same file scored by pandas + scikit-learn (bench/peers/sklearn_batch.py). */
function peerRun(path: string): NonNullable<BatchRun['peer']> {
  const peer = JSON.parse(
    execFileSync(PYTHON, [`${ROOT}bench/peers/sklearn_batch.py`, path], { encoding: 'utf8' }),
  );
  return {
    seconds: peer.seconds,
    rowsPerSecond: peer.rows / peer.seconds,
    readShare: peer.readSeconds / peer.seconds,
    peakRssMb: peer.peakRssMb,
  };
}

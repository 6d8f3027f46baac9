/**
 * `npm run bench`: ModelGate against the peers users would otherwise pick, in
 * one run on one machine, as ratios (the machine is shared and noisy: each
 * comparison alternates the two systems and reports medians). Prints a table
 * (measurement, ModelGate, peer, ratio, target, result) and writes
 * bench/RESULTS.md (a partial run merges its rows into it).
 *
 *   npm run bench                       # everything, minutes
 *   npm run bench -- http handler       # some: http handler cold asset memory gateway streaming console usage batch cnn cnn-batch svm
 *                                       # (a partial run merges its rows into bench/RESULTS.md)
 *   npm run bench -- --duration 30 --connections 32
 *   npm run bench -- --quick --out /tmp/r.md http   # tiny sizes: checks the harness itself
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { localS3Client, startLocalS3 } from '../local/s3.ts';
import { seedSampleModels } from '../local/seed.ts';
import { scratchTmpdir } from '../test/fixtures/scratch.ts';
import { type BenchOptions, Lab } from './lib/lab.ts';
import { LOAD_TOOL } from './lib/load.ts';
import { mergeReport } from './lib/merge.ts';
import { PYTHON, ROOT } from './lib/process.ts';
import { fmt, type Row, table } from './lib/report.ts';
import type { BatchRun } from './lib/topology-runs.ts';
import { asset } from './suites/asset.ts';
import { batch } from './suites/batch.ts';
import { cnn } from './suites/cnn.ts';
import { cnnBatch } from './suites/cnn-batch.ts';
import { cold } from './suites/cold.ts';
import { consoleSuite } from './suites/console.ts';
import { gateway } from './suites/gateway.ts';
import { handler } from './suites/handler.ts';
import { http } from './suites/http.ts';
import { memory } from './suites/memory.ts';
import { streaming } from './suites/streaming.ts';
import { svm } from './suites/svm.ts';
import { usage } from './suites/usage.ts';

/** The batch suite's runs, for the report's detail table. */
let batchRuns: BatchRun[] = [];

/** Each benchmark by its name on the command line, in the order a full run takes them. */
const SUITES = {
  http,
  handler,
  cold,
  asset,
  memory,
  gateway,
  streaming,
  console: consoleSuite,
  usage,
  batch: async (lab: Lab) => {
    const result = await batch(lab);
    batchRuns = result.runs;
    return result.rows;
  },
  cnn,
  'cnn-batch': cnnBatch,
  svm,
} satisfies Record<string, (lab: Lab) => Promise<Row[]>>;
type Suite = keyof typeof SUITES;
const NAMES = Object.keys(SUITES) as Suite[];
const isSuite = (name: string): name is Suite => Object.hasOwn(SUITES, name);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '30' },
    connections: { type: 'string', default: '32' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const unknown = positionals.filter((p) => !isSuite(p));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}: choose from ${NAMES.join(', ')}`);
  process.exit(2);
}
const selected = positionals.length > 0 ? positionals.filter(isSuite) : NAMES;
const options: BenchOptions = {
  duration: Number(values.duration),
  connections: Number(values.connections),
  quick: values.quick,
};

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The run's files (S3 stores holding files of a million rows, caches) go in one folder, removed at exit.
scratchTmpdir('modelgate-bench');
const home = mkdtempSync(join(tmpdir(), 'modelgate-bench-s3-'));
const store = await startLocalS3({ port: 0, directory: home, bucket: 'modelgate' });
const s3 = localS3Client(store.url);
await seedSampleModels(s3, 'modelgate');
const lab = new Lab(options, { url: store.url, bucket: 'modelgate' });

const rows: Row[] = [];
const started = Date.now();
try {
  for (const suite of selected) {
    const t = Date.now();
    process.stderr.write(`bench: ${suite}…`);
    rows.push(...(await SUITES[suite](lab)));
    process.stderr.write(` ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  }
} finally {
  await lab.close();
  s3.destroy();
  await store.close();
  rmSync(home, { recursive: true, force: true });
}

const resultTable = table(rows);
console.log(`\n${resultTable}\n`);
const misses = rows.filter((r) => r.pass === false).length;
console.log(
  `${rows.length} measurements: ${rows.filter((r) => r.pass).length} pass, ${misses} miss, ${rows.filter((r) => r.pass === undefined).length} not run (${((Date.now() - started) / 60_000).toFixed(1)} min)`,
);

const out = values.out ?? (options.quick ? undefined : `${ROOT}bench/RESULTS.md`);
if (out && (values.out || positionals.length === 0)) writeFileSync(out, report(resultTable, batchRuns));
else if (out) {
  const command = `npm run bench -- ${positionals.join(' ')}`;
  writeFileSync(out, mergeReport(readFileSync(out, 'utf8'), resultTable, command, analysisText()));
}

function analysisText(): string {
  try {
    return readFileSync(`${ROOT}bench/ANALYSIS.md`, 'utf8');
  } catch {
    return '';
  }
}

function report(resultTable: string, batches: BatchRun[]): string {
  const python = (() => {
    try {
      return execFileSync(
        PYTHON,
        [
          '-c',
          'import sys, sklearn, fastapi, uvicorn; print(sys.version.split()[0], "scikit-learn", sklearn.__version__, "fastapi", fastapi.__version__, "uvicorn", uvicorn.__version__)',
        ],
        { encoding: 'utf8' },
      ).trim();
    } catch {
      return 'not available';
    }
  })();
  const text = analysisText();
  const analysis = text && `\n${text}`;
  return `# Benchmark results

Generated by \`npm run bench${positionals.length ? ` -- ${positionals.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}.

- Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${fmt(totalmem() / 2 ** 30)} GiB; Node ${process.version}; Python ${python}
- Command: \`npm run bench -- --duration ${options.duration} --connections ${options.connections}\`
- HTTP: \`${LOAD_TOOL}\`${LOAD_TOOL === 'wrk' ? ' -t2' : ' in the bench process'}, ${options.connections} connections, ${options.duration} s per system split into
  3 alternating rounds (ModelGate, each peer, ModelGate, each peer, …) after a warm-up; medians of the
  rounds; any answer other than 2xx fails the run. All servers on loopback, sharing the same
  ${cpus().length} cores with the load generator (and, when this was run, with other work on the machine).
- ModelGate: the gateway emulator in front of the api handler module in one Node.js process
  (as a deployed function, and as \`npm start\` runs: API key check, usage plan, Prometheus
  counters, REST proxy events, the S3 registry in another process).
- Peers: FastAPI + uvicorn, 2 workers (one per core), serving scikit-learn's own estimators
  for the same four models (\`bench/peers/sklearn_fastapi.py\`) in two styles: \`async def\`
  parsing the body once on uvloop and httptools, and
  a \`def\` handler with a pydantic model; node:http + onnxruntime-node, one session per model,
  no keys, no metrics (\`bench/peers/onnx_node.mjs\`); a bare node:http server answering a
  fixed body of the same size. The targets of rows 1 are against the faster Python style of the run.

${resultTable}
${
  batches.length > 0
    ? `
### Batch detail

| input | MB | rounds | ModelGate rows/s | s | of which upload s | of which job s | time in the model | peak RSS MB | pandas + scikit-learn rows/s | peer s | peer time reading | peer peak RSS MB |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${batches
  .map(
    (b) =>
      `| ${b.format.toUpperCase()} | ${fmt(b.mb)} | ${b.rounds} | ${fmt(b.rowsPerSecond)} | ${fmt(b.seconds, 1)} | ${fmt(b.uploadSeconds, 1)} | ${fmt(b.jobSeconds, 1)} | ${fmt(b.modelShare * 100)} % | ${fmt(b.peakRssMb)} | ${b.peer ? fmt(b.peer.rowsPerSecond) : '-'} | ${b.peer ? fmt(b.peer.seconds, 1) : '-'} | ${b.peer ? `${fmt(b.peer.readShare * 100)} %` : '-'} | ${b.peer ? fmt(b.peer.peakRssMb) : '-'} |`,
  )
  .join('\n')}

Each round uploads the file to ModelGate, then runs the peer on it; medians of the rounds, and
the highest peak RSS. ModelGate's time includes uploading the file to the local S3 (its own
column), the S3 event, the queue, and the job (its own column, from the batch function's start
to its manifest): streaming the object back, parsing, scoring in micro-batches of 4,096 rows
(the model's 100 trees compiled to JavaScript, on a thread of its own while the next
micro-batch is parsed) and the streaming
upload of the output. "Time in the model" is the model's own run time over the job's
duration: the rest of the time the model thread waits for rows. Peak RSS is the whole local
topology's process (s3rver, gateway, handlers, the model thread), reset before each run,
its code bundled as the functions are and run by plain node with the batch function's
runtime settings as deployed (\`infra/function-env.ts\`).
The peer only reads the local file, predicts and writes the predictions.
`
    : ''
}${analysis}`;
}

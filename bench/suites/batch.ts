/** Benchmark `batch` (table row 8): batch predictions from upload to manifest, through the whole local topology. */
import { BATCH_NODE_OPTIONS, BATCH_PROCESS_ENVIRONMENT } from '../../infra/function-env.ts';
import { startTopology } from '../lib/bundle.ts';
import type { Lab } from '../lib/lab.ts';
import { stop } from '../lib/process.ts';
import { fmt, limitRow, type Row, ratioRow } from '../lib/report.ts';
import { type BatchRun, batchRuns } from '../lib/topology-runs.ts';

/** 8: batch throughput and peak memory per input format, against pandas + scikit-learn; the runs for the report's detail table. */
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

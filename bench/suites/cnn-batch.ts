/** Benchmark `cnn-batch` (table row 10): 100k digits-cnn images in a JSONL file, through the local topology, against PyTorch + pandas. */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BATCH_NODE_OPTIONS, BATCH_PROCESS_ENVIRONMENT } from '../../infra/function-env.ts';
import { startTopology } from '../lib/bundle.ts';
import { type Lab, TORCH_MISSING } from '../lib/lab.ts';
import { median, PYTHON, pythonHas, ROOT, stop } from '../lib/process.ts';
import { fmt, type Row, ratioRow } from '../lib/report.ts';
import { batchRun } from '../lib/topology-runs.ts';

/** A JSONL file of `rows` images, each row the per-row shape [1, 8, 8], pixels in [0, 1] as 16ths like the digits. */
function imagesFile(rows: number): string {
  const path = join(tmpdir(), `modelgate-bench-digits-${rows}.jsonl`);
  if (existsSync(path)) return path;
  let seed = 42;
  const pixel = () => {
    seed = (seed * 16807) % 2147483647;
    return String((seed % 17) / 16);
  };
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const image = Array.from({ length: 8 }, () => `[${Array.from({ length: 8 }, pixel).join(',')}]`);
    lines.push(`[[${image.join(',')}]]`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** 10: rows/s from upload to manifest, against pandas reading the same file and PyTorch scoring it, alternating. */
export async function cnnBatch(lab: Lab): Promise<Row[]> {
  const { child, ready } = await startTopology<{ s3Url: string; bucket: string; pid: number }>({
    NODE_OPTIONS: BATCH_NODE_OPTIONS.join(' '),
    ...BATCH_PROCESS_ENVIRONMENT,
  });
  const rows = lab.options.quick ? 2000 : 100_000;
  const rounds = lab.options.quick ? 1 : 3;
  const path = imagesFile(rows);
  const withPeer = pythonHas(['pandas', 'torch', 'onnx']);
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const run = await batchRun(ready, 'jsonl', path, 'digits-cnn');
      if (run.rows !== rows) throw new Error(`the digits-cnn batch scored ${run.rows} of ${rows} rows`);
      ours.push(run.rowsPerSecond);
      if (withPeer) {
        const peer = JSON.parse(
          execFileSync(PYTHON, [`${ROOT}bench/peers/torch_digits.py`, 'batch', path], { encoding: 'utf8' }),
        );
        theirs.push(peer.rows / peer.seconds);
      }
    }
  } finally {
    await stop(child);
  }
  return [
    ratioRow(
      {
        id: '10',
        measurement: `batch, ${fmt(rows)} digits-cnn images (JSONL, [1, 8, 8] per row), upload to manifest (peer: pandas + PyTorch)`,
        ours: median(ours),
        peer: theirs.length > 0 ? median(theirs) : undefined,
        unit: 'rows/s',
      },
      2,
      { missing: TORCH_MISSING },
    ),
  ];
}

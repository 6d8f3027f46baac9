/** Benchmark `asset` (table row 5): the size of the inference function's deployable asset. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lib/process.ts';
import { limitRow, type Row } from '../lib/report.ts';

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

/** Bytes of a file, or of every file under a folder. */
function duBytes(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + duBytes(join(path, name)), 0);
}

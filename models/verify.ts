/**
 * Build-time check of the sample models: runs every graph in onnxruntime-node
 * on the inputs models/build.py recorded and compares with the source framework's
 * own predictions (scikit-learn, PyTorch). Exits non-zero on any disagreement.
 *
 *   npm run models:build   # build.py, then this
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { rowShape } from '../test/fixtures/models.ts';

const root = new URL('./', import.meta.url);
const parity = new URL('../test/fixtures/parity/', import.meta.url);
let failures = 0;

const samples = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(new URL(`${d.name}/model.onnx`, root)))
  .map((d) => d.name);
for (const name of samples) {
  const fixture = JSON.parse(readFileSync(new URL(`${name}.json`, parity), 'utf8'));
  const manifest = JSON.parse(readFileSync(new URL(`${name}/manifest.json`, root), 'utf8'));
  const session = await ort.InferenceSession.create(readFileSync(new URL(`${name}/model.onnx`, root)));
  const rows: unknown[] = fixture.instances;
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat(8) as number[]), [
    rows.length,
    ...rowShape(rows[0]),
  ]);
  const out = await session.run({ input });
  let worst = 0;
  let mismatched = 0;
  if (out.label) {
    const labels = Array.from(out.label.data as BigInt64Array, (id) => manifest.labels[Number(id)]);
    mismatched = labels.filter((l, i) => l !== fixture.predictions[i]).length;
    const probs = out.probabilities?.data as Float32Array;
    fixture.probabilities.flat().forEach((p: number, i: number) => {
      worst = Math.max(worst, Math.abs((probs[i] ?? Number.NaN) - p));
    });
    if (worst > 1e-5) mismatched++;
  } else {
    const predictions = out.prediction?.data as Float32Array;
    fixture.predictions.forEach((p: number, i: number) => {
      const error = Math.abs((predictions[i] ?? Number.NaN) - p) / Math.max(1, Math.abs(p));
      worst = Math.max(worst, error);
      if (error > 1e-5) mismatched++;
    });
  }
  console.log(
    `${name}: ${rows.length} rows, ${mismatched} mismatched, worst difference ${worst.toExponential(2)}`,
  );
  failures += mismatched;
  await session.release();
}
if (failures > 0) {
  console.error(`${failures} predictions disagree with the source framework`);
  process.exit(1);
}

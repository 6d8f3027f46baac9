import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const bytes = readFileSync('models/diabetes/model.onnx');
for (const threads of [1, 2]) for (const rows of [4096, 16384, 65536]) {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const data = new Float32Array(rows * 10).map(() => Math.random() * 0.2 - 0.1);
  const name = s.inputNames[0]!;
  const t = new ort.Tensor('float32', data, [rows, 10]);
  for (let i = 0; i < 3; i++) await s.run({ [name]: t });
  const n = Math.ceil(1_000_000 / rows);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await s.run({ [name]: t });
  const ms = performance.now() - t0;
  console.log(`threads ${threads} batch ${rows}: ${(ms * 1e6 / (n * rows) / 1e3).toFixed(0)} ns/row -> ${(ms / (n * rows) * 1e6 / 1000).toFixed(2)} s per M`);
}

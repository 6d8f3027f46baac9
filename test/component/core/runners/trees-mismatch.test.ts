/**
 * Compiled trees that answer differently from onnxruntime (a compiler fault injected by a mock, over a real
 * s3rver): the model stays on onnxruntime, the compile event says why, and its answers are unchanged.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { publishModel } from '../../../../cli/registry/publish.ts';
import type { Manifest } from '../../../../functions/core/registry/manifest.ts';
import type { TreeCompileEvent } from '../../../../functions/core/runners/onnx/runtime.ts';
import { sampleModelBytes } from '../../../fixtures/models.ts';
import { fp32Input, treesRuntime } from '../../../fixtures/runtimes.ts';
import { startTestS3, type TestS3 } from '../../../fixtures/s3.ts';

// A compiler bug cannot be produced on purpose: this one adds 1 to the first leaf weight it writes.
vi.mock('../../../../functions/core/runners/trees/trees.ts', async (importOriginal) => {
  const { editCompiledSource } = await import('../../../fixtures/tree-programs.ts');
  return editCompiledSource(await importOriginal(), (source) =>
    source.replace(/\+= ([-0-9.e]+);/, '+= 1 + $1;'),
  );
});

let t: TestS3;
let diabetes: Manifest;
beforeAll(async () => {
  t = await startTestS3();
  diabetes = await publishModel(t.s3, t.bucket, { name: 'diabetes', bytes: sampleModelBytes('diabetes') });
});
afterAll(() => t.close());

it('keeps a model in onnxruntime when its compiled trees answer differently, and says so', async () => {
  const compiles: TreeCompileEvent[] = [];
  const runtime = (trees: 'load' | 'off') => treesRuntime(t, trees, compiles);
  const rows = Array.from({ length: 200 }, (_, i) =>
    Array.from({ length: 10 }, (_, f) => ((i * 7 + f * 13) % 41) / 200 - 0.1),
  );
  const inputs = fp32Input(rows, 10);
  const checked = runtime('load');
  const answers = await checked.runner(diabetes).infer(inputs);
  expect(await checked.engine(diabetes)).toBe('onnxruntime');
  expect(compiles).toEqual([
    {
      compiled: false,
      mismatch: true,
      reason: 'the compiled trees differ from onnxruntime',
      ms: expect.any(Number),
    },
  ]);
  expect(answers).toEqual(await runtime('off').runner(diabetes).infer(inputs));
});

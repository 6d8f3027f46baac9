/**
 * A boosted binary classifier (LOGISTIC, a base value, weights of either sign) published and served:
 * its compiled trees serve when they keep to the rule of verify.ts, and stay in onnxruntime when not.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { publishModel } from '../../../../cli/registry/publish.ts';
import type { Manifest } from '../../../../functions/core/registry/manifest.ts';
import type { TreeCompileEvent } from '../../../../functions/core/runners/onnx/runtime.ts';
import { TRANSFORMED_ULPS, ulpDistance } from '../../../../functions/core/runners/trees/trees.ts';
import { oneNodeModel } from '../../../fixtures/onnx-writer.ts';
import { fp32Input, treesRuntime } from '../../../fixtures/runtimes.ts';
import { startTestS3, type TestS3 } from '../../../fixtures/s3.ts';
import { classifier, leaf, type Tree } from '../../../fixtures/tree-ensembles.ts';

// A program off by a set factor cannot be produced on purpose: this scales the positive class's score.
const nudge = vi.hoisted(() => ({ factor: 1 }));
vi.mock('../../../../functions/core/runners/trees/trees.ts', async (importOriginal) => {
  const { editCompiledSource } = await import('../../../fixtures/tree-programs.ts');
  return editCompiledSource(await importOriginal(), (source) =>
    nudge.factor === 1
      ? source
      : source.replace('s[r + 1] = logistic(v);', `s[r + 1] = Math.fround(logistic(v) * ${nudge.factor});`),
  );
});

const split = (feature: number, threshold: number, yes: number, no: number): Tree => ({
  leaf: false,
  feature,
  threshold,
  mode: 'BRANCH_LEQ',
  missingTrue: false,
  yes: leaf([[0, yes]]),
  no: leaf([[0, no]]),
});
const trees = [split(0, 0.5, -1.25, 0.75), split(1, -0.5, 0.5, -0.25), split(2, 1.5, -0.125, 2)];

let t: TestS3;
let model: Manifest;
beforeAll(async () => {
  t = await startTestS3();
  const bytes = oneNodeModel(classifier(trees, 2, [0.1], 'LOGISTIC'));
  model = await publishModel(t.s3, t.bucket, { name: 'boosted-binary', bytes });
});
afterAll(() => t.close());

const rows = Array.from({ length: 300 }, (_, i) => [
  ((i * 7) % 41) / 10 - 2,
  ((i * 11) % 37) / 10 - 2,
  (i % 29) / 5,
]);
const inputs = fp32Input(rows, 3);
const runtime = (trees: 'load' | 'off', compiles: TreeCompileEvent[] = []) =>
  treesRuntime(t, trees, compiles);

it('serves from compiled trees: labels exactly onnxruntime’s, probabilities within the rule', async () => {
  const compiles: TreeCompileEvent[] = [];
  const compiled = runtime('load', compiles);
  const ours = await compiled.runner(model).infer(inputs);
  expect(await compiled.engine(model)).toBe('trees');
  expect(compiles).toEqual([{ compiled: true, ms: expect.any(Number) }]);
  const theirs = await runtime('off').runner(model).infer(inputs);
  expect(ours[0]).toEqual(theirs[0]);
  expect(new Set(ours[0]?.data).size).toBe(2);
  const scores = ours[1]?.data as number[] | undefined;
  expect(scores?.length).toBe(theirs[1]?.data.length);
  const distances = (scores ?? []).map((p, i) => ulpDistance(p, theirs[1]?.data[i] as number));
  expect(Math.max(...distances)).toBeLessThanOrEqual(TRANSFORMED_ULPS);
});

it('serves a program 2 ulps off (within the rule), and keeps one 200 ulps off in onnxruntime, saying so', async () => {
  nudge.factor = 1 + 2 ** -23;
  const within = runtime('load');
  await within.runner(model).infer(inputs);
  expect(await within.engine(model)).toBe('trees');

  nudge.factor = 1 + 200 * 2 ** -24;
  const compiles: TreeCompileEvent[] = [];
  const beyond = runtime('load', compiles);
  const answers = await beyond.runner(model).infer(inputs);
  expect(await beyond.engine(model)).toBe('onnxruntime');
  expect(compiles).toEqual([
    {
      compiled: false,
      mismatch: true,
      reason: `the compiled trees differ from onnxruntime by more than ${TRANSFORMED_ULPS} ulps`,
      ms: expect.any(Number),
    },
  ]);
  expect(answers).toEqual(await runtime('off').runner(model).infer(inputs));
});

/**
 * Gradient-boosted classifiers as exporters write them (binary with one score, LOGISTIC and SOFTMAX,
 * base values, weights of either sign), compiled and held to the rule of verify.ts against onnxruntime:
 * labels exact, scores bit for bit or, under a transform, within TRANSFORMED_ULPS float32 ulps.
 */
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  compileTrees,
  probeRows,
  TRANSFORMED_ULPS,
  type TreeProgram,
  treeRun,
  ulpDistance,
  withinRule,
} from '../../../../functions/core/runners/trees/trees.ts';
import { oneNodeModel } from '../../../fixtures/onnx-writer.ts';
import {
  classifier,
  FEATURES,
  leaf,
  MODES,
  rowsArbitrary,
  stump,
  type Tree,
  treeArbitrary,
} from '../../../fixtures/tree-ensembles.ts';

type Transform = 'NONE' | 'LOGISTIC' | 'SOFTMAX';
const TRANSFORMS: Transform[] = ['NONE', 'LOGISTIC', 'SOFTMAX'];

/** The largest score distance seen in ulps, by transform: the rule's margin, reported by the tests. */
const widest: Record<Transform, number> = { NONE: 0, LOGISTIC: 0, SOFTMAX: 0 };

/** onnxruntime (one thread: trees summed in order) and the program on the same rows, held to the rule. */
async function expectWithinRule(
  bytes: Uint8Array,
  program: TreeProgram,
  rows: Float32Array,
  transform: Transform,
) {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const feeds = { input: new ort.Tensor('float32', rows, [rows.length / FEATURES, FEATURES]) };
    const expected = await session.run(feeds);
    const actual = treeRun(program)(feeds, session.outputNames);
    expect(Array.from(actual.label?.data as BigInt64Array)).toEqual(
      Array.from(expected.label?.data as BigInt64Array),
    );
    const ours = actual.probabilities?.data as Float32Array;
    const theirs = expected.probabilities?.data as Float32Array;
    expect(actual.probabilities?.dims).toEqual(expected.probabilities?.dims);
    for (let i = 0; i < ours.length; i++) {
      widest[transform] = Math.max(widest[transform], ulpDistance(ours[i] as number, theirs[i] as number));
    }
    expect(program.ulps).toBe(transform === 'NONE' ? 0 : TRANSFORMED_ULPS);
    expect(withinRule(expected, actual, session.outputNames, program.ulps)).toBe(true);
  } finally {
    await session.release();
  }
}

/** Weights up to ±8 so that sums reach far into the logistic's flat ends. */
const signed = fc.float({ min: Math.fround(-8), max: Math.fround(8), noNaN: true }).map(Math.fround);
const positive = fc.float({ min: Math.fround(0.001), max: Math.fround(0.4), noNaN: true }).map(Math.fround);

/** Trees of one comparison now and then (the level-by-level layout), else of any. */
const uniformMode = fc.option(fc.constantFrom(...MODES), { nil: undefined, freq: 2 });

/** A leaf weighing class `always`, and any of the other classes. */
function leafWeights(classes: number, always: number): fc.Arbitrary<Array<[number, number]>> {
  return fc
    .tuple(signed, fc.subarray(Array.from({ length: classes }, (_, k) => k).filter((k) => k !== always)))
    .chain(([w, others]) =>
      fc
        .tuple(...others.map((k) => signed.map((v): [number, number] => [k, v])))
        .map((rest) => [[always, w] as [number, number], ...rest]),
    );
}

describe('compiled boosted classifiers, against onnxruntime', () => {
  it('binary, one score per leaf (the exporters layout): labels exact, scores within the rule, every transform, with and without a base value', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.boolean(), uniformMode).chain(([allPositive, uniform]) =>
          fc.record({
            transform: fc.constantFrom(...TRANSFORMS),
            base: fc.option(signed, { nil: undefined }),
            trees: fc.array(
              treeArbitrary(
                (allPositive ? positive : signed).map((w): Array<[number, number]> => [[0, w]]),
                uniform,
              ),
              { minLength: 1, maxLength: 8 },
            ),
            rows: rowsArbitrary,
          }),
        ),
        async ({ transform, base, trees, rows }) => {
          const bytes = oneNodeModel(
            classifier(trees, 2, base === undefined ? undefined : [base], transform),
          );
          const result = compileTrees(bytes, FEATURES);
          if (!('program' in result)) throw new Error(`declined: ${result.declined}`);
          const all = Float32Array.from([...probeRows(result.program).data, ...rows]);
          await expectWithinRule(bytes, result.program, all, transform);
        },
      ),
      { numRuns: 250 },
    );
    // The scores of binary models are onnxruntime's bit for bit but for the logistic's.
    expect(widest.NONE).toBe(0);
    expect(widest.SOFTMAX).toBe(0);
  });

  it('three or more classes, weights of either sign, base values or every class weighed: labels exact, scores within the rule', async () => {
    const declines = new Map<string, number>();
    let compiled = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.integer({ min: 3, max: 5 }), uniformMode).chain(([classes, uniform]) => {
          const tree = (k: number) => treeArbitrary(leafWeights(classes, k), uniform);
          return fc.record({
            classes: fc.constant(classes),
            transform: fc.constantFrom(...TRANSFORMS),
            base: fc.option(fc.array(signed, { minLength: classes, maxLength: classes }), { nil: undefined }),
            // sklearn writes one tree per class per stage (every class weighed on every row) ...
            stagewise: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
            perClass: fc.tuple(...Array.from({ length: classes }, (_, k) => tree(k))),
            // ... and here and there a tree of a random class.
            extra: fc.array(fc.nat({ max: classes - 1 }).chain(tree), { minLength: 1, maxLength: classes }),
            rows: rowsArbitrary,
          });
        }),
        async ({ classes, transform, base, stagewise, perClass, extra, rows }) => {
          const trees = stagewise ? [...perClass, ...extra] : extra;
          const bytes = oneNodeModel(classifier(trees, classes, base, transform));
          const result = compileTrees(bytes, FEATURES);
          if (!('program' in result)) {
            declines.set(result.declined, (declines.get(result.declined) ?? 0) + 1);
            return;
          }
          compiled++;
          const all = Float32Array.from([...probeRows(result.program).data, ...rows]);
          await expectWithinRule(bytes, result.program, all, transform);
        },
      ),
      { numRuns: 250 },
    );
    // Only the one layout onnxruntime answers otherwise is declined, and most models compile.
    expect([...declines.keys()]).toEqual(
      declines.size
        ? ['class weights not all above 0, no base values, and a class some rows may not weigh']
        : [],
    );
    expect(compiled).toBeGreaterThan(150);
    expect(widest.NONE).toBe(0);
    expect(Math.max(widest.LOGISTIC, widest.SOFTMAX)).toBeLessThanOrEqual(TRANSFORMED_ULPS);
  });

  it('binary with weights all at or above 0: the second label above 0.5 and scores [1 - v, v], but under LOGISTIC', async () => {
    const second = stump(1, 'BRANCH_GT', true);
    const trees: Tree[] = [
      stump(0, 'BRANCH_LEQ', false),
      second.leaf ? second : { ...second, yes: leaf([[0, 0.25]]) },
    ];
    for (const transform of TRANSFORMS) {
      const bytes = oneNodeModel(classifier(trees, 2, [-2], transform));
      const result = compileTrees(bytes, FEATURES);
      if (!('program' in result)) throw new Error(result.declined);
      const rows = Float32Array.from([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, Number.NaN, 0]);
      const out = treeRun(result.program)({ input: { type: 'float32', dims: [4, 3], data: rows } }, [
        'label',
        'probabilities',
      ]);
      // Sums 1 + 2, 2 + 2, 2 + 0.25, 1 + 0.25 (NaN tracks true), less 2: 1, 2, 0.25, -0.75.
      expect(Array.from(out.label?.data as BigInt64Array)).toEqual([20n, 20n, 10n, 10n]);
      const scores = [0, 1, -1, 2, 0.75, 0.25, 1.75, -0.75];
      const logistic = (v: number) => 1 / (1 + Math.exp(-v));
      const expected =
        transform === 'LOGISTIC' ? [1, 2, 0.25, -0.75].flatMap((v) => [logistic(-v), logistic(v)]) : scores;
      const probabilities = Array.from(out.probabilities?.data as Float32Array);
      if (transform === 'LOGISTIC') {
        for (const [k, p] of probabilities.entries()) expect(p).toBeCloseTo(expected[k] as number, 6);
      } else expect(probabilities).toEqual(scores);
      await expectWithinRule(bytes, result.program, rows, transform);
    }
  });

  it('the rule: labels must match exactly, scores within the ulps allowed', () => {
    const result = (label: bigint, score: number) => ({
      label: { dims: [1], data: BigInt64Array.from([label]) },
      probabilities: { dims: [1, 1], data: Float32Array.from([score]) },
    });
    const names = ['label', 'probabilities'];
    const near = Math.fround(0.5 + 3 * 2 ** -24);
    const far = Math.fround(0.5 + 5 * 2 ** -24);
    expect(ulpDistance(0.5, near)).toBe(3);
    expect(ulpDistance(0, -0)).toBe(0);
    expect(ulpDistance(-(2 ** -149), 2 ** -149)).toBe(2);
    expect(withinRule(result(1n, 0.5), result(1n, near), names, 4)).toBe(true);
    expect(withinRule(result(1n, 0.5), result(1n, far), names, 4)).toBe(false);
    expect(withinRule(result(1n, 0.5), result(1n, near), names, 0)).toBe(false);
    expect(withinRule(result(1n, 0.5), result(2n, 0.5), names, 4)).toBe(false);
    expect(withinRule(result(1n, Number.NaN), result(1n, Number.NaN), names, 0)).toBe(true);
  });
});

/**
 * The tree-ensemble compiler against onnxruntime, answer for answer: the sample forest and boosted trees, random
 * regressors and classifiers (fast-check), the models it declines and why, and its input checks.
 */
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readOnnxGraph } from '../../../../functions/core/runners/trees/onnx-graph.ts';
import {
  compileTrees,
  probeRows,
  sameResults,
  type TreeProgram,
  treeRun,
} from '../../../../functions/core/runners/trees/trees.ts';
import { sampleModelBytes } from '../../../fixtures/models.ts';
import { type AttributeValue, oneNodeModel } from '../../../fixtures/onnx-writer.ts';
import {
  classifier,
  FEATURES,
  leafWith,
  MODES,
  regressor,
  rowsArbitrary,
  stump,
  treeArbitrary,
  weight,
  weightsArbitrary,
} from '../../../fixtures/tree-ensembles.ts';

/** The program's answers and onnxruntime's on the same rows: equal element for element. */
async function expectSameAsOnnxruntime(bytes: Uint8Array, program: TreeProgram, rows: Float32Array) {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const n = rows.length / program.features;
    const feeds = { [program.input]: new ort.Tensor('float32', rows, [n, program.features]) };
    const expected = await session.run(feeds);
    const actual = treeRun(program)(feeds, session.outputNames);
    for (const name of session.outputNames) {
      expect(Array.from(actual[name]?.data as ArrayLike<unknown>), name).toEqual(
        Array.from(expected[name]?.data as ArrayLike<unknown>),
      );
    }
    expect(sameResults(expected, actual, session.outputNames)).toBe(true);
  } finally {
    await session.release();
  }
}

function compiled(bytes: Uint8Array, features: number): TreeProgram {
  const result = compileTrees(bytes, features);
  if (!('program' in result)) throw new Error(`declined: ${result.declined}`);
  return result.program;
}

/** Rows of uniform values in [lo, hi), seeded. */
function randomRows(n: number, features: number, lo: number, hi: number): Float32Array {
  let seed = 12345;
  return Float32Array.from({ length: n * features }, () => {
    seed = (seed * 16807) % 2147483647;
    return lo + (seed / 2147483647) * (hi - lo);
  });
}

describe('compiled tree ensembles', () => {
  it('answer exactly as onnxruntime does for the iris forest and the diabetes boosted trees', async () => {
    for (const [name, features, lo, hi, layout] of [
      ['iris', 4, 0, 8, 'branches'],
      ['diabetes', 10, -0.2, 0.2, 'levels'],
    ] as const) {
      const bytes = sampleModelBytes(name);
      const program = compiled(bytes, features);
      expect(program).toMatchObject({ input: 'input', features, layout });
      await expectSameAsOnnxruntime(bytes, program, probeRows(program).data);
      await expectSameAsOnnxruntime(bytes, program, randomRows(5000, features, lo, hi));
    }
  });

  it('declines what is not one tree-ensemble node it covers, with the reason', () => {
    expect(compileTrees(sampleModelBytes('linear'), 10)).toEqual({ declined: 'operator LinearRegressor' });
    expect(compileTrees(sampleModelBytes('iris-logistic'), 4)).toEqual({
      declined: 'operator LinearClassifier',
    });
    expect(compileTrees(sampleModelBytes('iris'), 3)).toEqual({ declined: 'feature 3 out of range' });
    expect(compileTrees(new Uint8Array([0x3a, 0x05, 0x01]), 4)).toEqual({
      declined: 'unreadable graph: truncated field',
    });
    const base = regressor([stump(0, 'BRANCH_LEQ', false)]);
    const variant = (attributes: Record<string, AttributeValue>) =>
      compileTrees(oneNodeModel({ ...base, attributes: { ...base.attributes, ...attributes } }), 3);
    expect(variant({ post_transform: { s: 'SOFTMAX' } })).toEqual({ declined: 'post_transform SOFTMAX' });
    expect(variant({ aggregate_function: { s: 'AVERAGE' } })).toEqual({
      declined: 'aggregate_function AVERAGE',
    });
    expect(variant({ nodes_modes: { strings: ['BRANCH_MEMBER', 'LEAF', 'LEAF'] } })).toEqual({
      declined: 'node mode BRANCH_MEMBER',
    });
    expect(variant({ target_nodeids: { ints: [0, 2] } })).toEqual({
      declined: 'a weight on a missing or inner node',
    });
    expect(variant({ nodes_truenodeids: { ints: [0, 0, 0] } })).toEqual({
      declined: 'a tree deeper than 200 (or a cycle)',
    });
    const binary = classifier(
      [
        leafWith([
          [0, 0.5],
          [1, 0.5],
        ]),
      ],
      2,
    );
    expect(compileTrees(oneNodeModel(binary), 3)).toEqual({
      declined: 'a binary classifier with weights on its second class',
    });
    expect(compileTrees(oneNodeModel(classifier([leafWith([[0, 1]])], 1)), 3)).toEqual({
      declined: 'a classifier of fewer than two int64 labels',
    });
  });

  it('reads attributes written packed as well as unpacked', () => {
    const model = regressor([stump(2, 'BRANCH_LT', true)]);
    const packed = Object.fromEntries(
      Object.entries(model.attributes).map(([k, v]) => [
        k,
        'floats' in v || 'ints' in v ? { ...v, packed: true } : v,
      ]),
    );
    const a = readOnnxGraph(oneNodeModel(model)).nodes[0]?.attributes;
    const b = readOnnxGraph(oneNodeModel({ ...model, attributes: packed })).nodes[0]?.attributes;
    expect(b).toEqual(a);
    expect(a?.get('nodes_featureids')?.ints).toEqual([2, 0, 0]);
    expect(a?.get('nodes_values')?.floats).toEqual([0.5, 0, 0]);
  });

  it('match onnxruntime on random regressors: every branch mode, NaN tracks, several targets, base values, both layouts', async () => {
    await expectRandomEnsemblesSame({ outputs: [1, 3], positive: false, model: regressor });
  });

  it('match onnxruntime on random classifiers: labels, per-class sums, ties to the first class, both layouts', async () => {
    await expectRandomEnsemblesSame({ outputs: [3, 4], positive: true, model: classifier });
  });

  it('check their feed as onnxruntime does', () => {
    const program = compiled(sampleModelBytes('iris'), 4);
    const run = treeRun(program);
    const tensor = (type: string, data: unknown, dims: number[]) => ({ input: { type, data, dims } });
    expect(() => run(tensor('float32', new Float32Array(6), [2, 3]), ['label'])).toThrow(
      "got invalid dimensions for input 'input': expected [N,4], got [2,3]",
    );
    expect(() => run(tensor('float64', new Float64Array(4), [1, 4]), ['label'])).toThrow(
      "unexpected input data type for 'input': expected float32, got float64",
    );
    expect(() => run({}, ['label'])).toThrow("input 'input' is missing");
    expect(() => run(tensor('float32', new Float32Array(4), [1, 4]), ['nope'])).toThrow(
      'invalid output name: nope',
    );
    const out = run(tensor('float32', Float32Array.from([5.1, 3.5, 1.4, 0.2]), [1, 4]), [
      'label',
      'probabilities',
    ]);
    expect(out.label).toMatchObject({ type: 'int64', dims: [1], data: BigInt64Array.from([0n]) });
    expect(out.probabilities?.dims).toEqual([1, 3]);
  });
});

/**
 * Random ensembles of `model`'s kind, compiled, against onnxruntime on probe
 * and random rows. Regressors may be declined for the one case onnxruntime
 * answers differently (a base value on a target some leaf does not weigh).
 */
async function expectRandomEnsemblesSame(options: {
  outputs: [number, number];
  positive: boolean;
  model: typeof regressor | typeof classifier;
}) {
  const layouts = { levels: 0, branches: 0 };
  const [min, max] = options.outputs;
  await fc.assert(
    fc.asyncProperty(
      fc
        .tuple(fc.integer({ min, max }), fc.option(fc.constantFrom(...MODES), { nil: undefined, freq: 2 }))
        .chain(([outputs, uniform]) =>
          fc.record({
            outputs: fc.constant(outputs),
            trees: fc.array(treeArbitrary(weightsArbitrary(outputs, options.positive), uniform), {
              minLength: 1,
              maxLength: 6,
            }),
            base: fc.option(fc.array(weight(false), { minLength: outputs, maxLength: outputs }), {
              nil: undefined,
            }),
            rows: rowsArbitrary,
          }),
        ),
      async ({ outputs, trees, base, rows }) => {
        const bytes = oneNodeModel(options.model(trees, outputs, base));
        const result = compileTrees(bytes, FEATURES);
        if ('declined' in result) {
          expect(result.declined).toBe('a base value for a target that some leaf does not weigh');
          return;
        }
        layouts[result.program.layout]++;
        await expectSameAsOnnxruntime(
          bytes,
          result.program,
          Float32Array.from([...probeRows(result.program).data, ...rows]),
        );
      },
    ),
    { numRuns: 300 },
  );
  // Both ways of running the trees were checked, many times each.
  expect(layouts.levels).toBeGreaterThan(20);
  expect(layouts.branches).toBeGreaterThan(20);
}

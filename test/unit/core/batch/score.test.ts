/**
 * Batch output lines checked against JSON.stringify of each row, for any prediction, probabilities and error text
 * (fast-check), with a stand-in runner: what is tested is how rows are written, not a model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scoreRows } from '../../../../functions/core/batch/score.ts';
import type { Manifest, TensorSpec } from '../../../../functions/core/registry/manifest.ts';
import type { ModelRunner, OutputTensor } from '../../../../functions/core/runners/runner.ts';

const spec: TensorSpec = { name: 'input', datatype: 'FP32', shape: [-1, 1] };

/** A runner answering given output tensors: what is tested is how rows are written, not a model. */
function answering(manifest: Manifest, outputs: OutputTensor[]): ModelRunner {
  return { manifest, ready: true, load: async () => {}, infer: async () => outputs };
}

const prediction = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, 5e-324),
  fc.string({ unit: 'binary' }),
);

describe('batch output lines', () => {
  it('are the bytes of JSON.stringify of each row, for any prediction, probabilities and error text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            line: fc.nat({ max: 2 ** 40 }),
            prediction,
            error: fc.option(fc.string({ unit: 'binary' }), { nil: undefined, freq: 4 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.boolean(),
        async (rows, classifier) => {
          const valid = rows.filter((r) => r.error === undefined);
          const labels = classifier ? ['ä', '"b"', 'c\u2028'] : undefined;
          const manifest = {
            name: 'm',
            version: '1',
            inputs: [spec],
            ...(labels && { labels }),
          } as unknown as Manifest;
          const outputs: OutputTensor[] = classifier
            ? [
                { name: 'label', datatype: 'INT64', shape: [valid.length], data: valid.map((_, i) => i % 3) },
                {
                  name: 'probabilities',
                  datatype: 'FP32',
                  shape: [valid.length, 3],
                  data: valid.flatMap((r) => [
                    typeof r.prediction === 'number' ? r.prediction : 0.5,
                    0.25,
                    0.25,
                  ]),
                },
              ]
            : [
                {
                  name: 'y',
                  datatype: 'FP32',
                  shape: [valid.length, 1],
                  data: valid.map((r) => r.prediction) as never,
                },
              ];
          const scored = await scoreRows(
            manifest,
            spec,
            answering(manifest, outputs),
            rows.map((r) => ({
              line: r.line,
              row: r.error === undefined ? { values: [1] } : { error: r.error },
            })),
          );
          let k = 0;
          const expected = rows.map((r) => {
            if (r.error !== undefined) return JSON.stringify({ line: r.line, error: r.error });
            const i = k++;
            const p = outputs[1]?.data.slice(i * 3, i * 3 + 3) as number[] | undefined;
            return JSON.stringify(
              labels && p
                ? {
                    line: r.line,
                    prediction: labels[i % 3],
                    probabilities: Object.fromEntries(
                      labels.map((l, j) => [l, Number.isFinite(p[j]) ? p[j] : null]),
                    ),
                  }
                : { line: r.line, prediction: r.prediction },
            );
          });
          expect(scored.bytes.toString('utf8')).toBe(`${expected.join('\n')}\n`);
          expect(scored.failed).toBe(rows.length - valid.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

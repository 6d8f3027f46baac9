import { encodeElements } from '../datatypes.ts';
import type { Manifest, TensorSpec } from '../manifest.ts';
import { predictResponse } from '../protocols/predict.ts';
import type { ModelRunner } from '../runners/runner.ts';
import type { ParsedRow } from './rows.ts';

/** A parsed input row and the line it came from. */
export interface LineRow {
  readonly line: number;
  readonly row: ParsedRow;
}

/**
 * Scores one micro-batch in a single model run and renders one output line
 * per input row, in order: `{"line", "prediction"[, "probabilities"]}`, or
 * `{"line", "error"}` for a row that did not parse or a run that failed.
 * The same code serves whole-file jobs and Distributed Map chunks.
 */
export async function scoreRows(
  model: Manifest,
  spec: TensorSpec,
  runner: ModelRunner,
  rows: readonly LineRow[],
): Promise<{ text: string; failed: number; modelMs: number }> {
  const width = spec.shape[1] as number;
  const valid: number[] = [];
  let validCount = 0;
  for (const { row } of rows) {
    if ('values' in row) {
      for (const v of row.values) valid.push(v);
      validCount++;
    }
  }
  let predictions: unknown[] = [];
  let probabilities: unknown[] | undefined;
  let failure: string | undefined;
  let modelMs = 0;
  if (validCount > 0) {
    const started = performance.now();
    try {
      const data = encodeElements(valid, spec.datatype, (i) => `value ${i}`);
      const outputs = await runner.infer([
        { name: spec.name, datatype: spec.datatype, shape: [validCount, width], data },
      ]);
      const shaped = predictResponse(model, outputs);
      predictions = shaped.predictions;
      probabilities = shaped.probabilities;
    } catch (error) {
      failure = `the model failed on this micro-batch of ${validCount} rows: ${(error as Error).message}`;
    }
    modelMs = performance.now() - started;
  }
  let k = 0;
  let failed = 0;
  let text = '';
  for (const { line, row } of rows) {
    if ('error' in row) {
      failed++;
      text += `${JSON.stringify({ line, error: row.error })}\n`;
    } else if (failure) {
      failed++;
      k++;
      text += `${JSON.stringify({ line, error: failure })}\n`;
    } else {
      // Same JSON as JSON.stringify({line, prediction, probabilities}), built without an object per row.
      const prediction = predictions[k];
      const shown =
        typeof prediction === 'number' && Number.isFinite(prediction)
          ? prediction
          : JSON.stringify(prediction ?? null);
      text += probabilities
        ? `{"line":${line},"prediction":${shown},"probabilities":${JSON.stringify(probabilities[k])}}\n`
        : `{"line":${line},"prediction":${shown}}\n`;
      k++;
    }
  }
  return { text, failed, modelMs };
}

/**
 * The arm64 suite's comparison sets aside only what differs between two runs (generated ids,
 * clocks, float rounding within 1e-5): any other difference between the sides stays visible.
 */
import { describe, expect, it } from 'vitest';
import { comparable, FLOAT_TOLERANCE, withinTolerance } from './compare.ts';

/** What the suite asserts: the deployed answer, within tolerance, equals the local one. */
const same = (deployed: unknown, local: unknown) =>
  JSON.stringify(withinTolerance(comparable(deployed), comparable(local))) ===
  JSON.stringify(comparable(local));

describe('comparing the deployed answer with the local one', () => {
  it('sets aside generated ids, clocks and durations, and parses bodies and event streams', () => {
    const answer = (id: string, created: number, ms: number) => ({
      statusCode: 200,
      body: `data: ${JSON.stringify({ id, created, object: 'chat.completion.chunk' })}\n\ndata: [DONE]\n\n`,
      durationMs: ms,
    });
    expect(same(answer(`chatcmpl-${'a'.repeat(32)}`, 1, 5), answer(`chatcmpl-${'b'.repeat(32)}`, 2, 9))).toBe(
      true,
    );
    expect(comparable(answer(`chatcmpl-${'a'.repeat(32)}`, 1, 5))).toEqual({
      statusCode: 200,
      body: [{ id: '<generated id>', created: '<clock>', object: 'chat.completion.chunk' }, '[DONE]'],
      durationMs: '<clock>',
    });
    expect(comparable({ uri: `s3://b/batch/output/batch_${'x'.repeat(32)}.jsonl` })).toEqual({
      uri: 's3://b/batch/output/<job id>.jsonl',
    });
  });

  it('lets float results differ by a relative 1e-5 and no more', () => {
    const p = 4.76e-4;
    expect(same({ probabilities: [p * (1 + FLOAT_TOLERANCE / 2)] }, { probabilities: [p] })).toBe(true);
    expect(same({ probabilities: [p * (1 + FLOAT_TOLERANCE * 3)] }, { probabilities: [p] })).toBe(false);
  });

  it('keeps every other difference: classes, counts, status codes, messages, missing or extra keys', () => {
    const local = { statusCode: 200, body: JSON.stringify({ predictions: ['setosa'], rows: 3 }) };
    for (const deployed of [
      { statusCode: 200, body: JSON.stringify({ predictions: ['virginica'], rows: 3 }) },
      { statusCode: 200, body: JSON.stringify({ predictions: ['setosa'], rows: 4 }) },
      { statusCode: 500, body: JSON.stringify({ predictions: ['setosa'], rows: 3 }) },
      { statusCode: 200, body: JSON.stringify({ predictions: ['setosa'] }) },
      { statusCode: 200, body: JSON.stringify({ predictions: ['setosa'], rows: 3, error: 'x' }) },
      { statusCode: 200, body: 'internal error' },
    ]) {
      expect(same(deployed, local), JSON.stringify(deployed)).toBe(false);
    }
  });
});

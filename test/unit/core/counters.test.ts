/**
 * The Prometheus text rendering of counters and histograms, and sameAnswer's comparison of two answers within a
 * relative tolerance.
 */
import { describe, expect, it } from 'vitest';
import { sameAnswer } from '../../../functions/core/compare.ts';
import { Counters } from '../../../functions/core/counters.ts';

describe('Counters', () => {
  it('renders counters and histograms in the Prometheus text format', () => {
    const counters = new Counters();
    counters.inc('requests_total', 'Requests.', { model: 'iris', code: '200' });
    counters.inc('requests_total', 'Requests.', { model: 'iris', code: '200' });
    counters.inc('requests_total', 'Requests.', { model: 'a"b', code: '500' });
    counters.observe('duration_seconds', 'Time.', { model: 'iris' }, 3);
    counters.observe('duration_seconds', 'Time.', { model: 'iris' }, 40);
    expect(counters.get('requests_total', { model: 'iris', code: '200' })).toBe(2);
    const text = counters.render();
    expect(text).toContain('# HELP requests_total Requests.\n# TYPE requests_total counter\n');
    expect(text).toContain('requests_total{model="iris",code="200"} 2\n');
    expect(text).toContain('requests_total{model="a\\"b",code="500"} 1\n');
    expect(text).toContain('# TYPE duration_seconds histogram\n');
    expect(text).toContain('duration_seconds_bucket{model="iris",le="0.0025"} 0\n');
    expect(text).toContain('duration_seconds_bucket{model="iris",le="0.005"} 1\n');
    expect(text).toContain('duration_seconds_bucket{model="iris",le="0.05"} 2\n');
    expect(text).toContain('duration_seconds_bucket{model="iris",le="+Inf"} 2\n');
    expect(text).toContain('duration_seconds_sum{model="iris"} 0.043\n');
    expect(text).toContain('duration_seconds_count{model="iris"} 2\n');
  });
});

describe('sameAnswer', () => {
  it('compares answers within a relative tolerance, ignoring who answered', () => {
    expect(
      sameAnswer(
        { model_version: '1', predictions: [1.0000001, 'a'] },
        { model_version: '2', predictions: [1, 'a'] },
      ),
    ).toBe(true);
    expect(sameAnswer({ predictions: [1.1] }, { predictions: [1] })).toBe(false);
    expect(sameAnswer({ predictions: ['a'] }, { predictions: ['b'] })).toBe(false);
    expect(sameAnswer({ predictions: [1, 2] }, { predictions: [1] })).toBe(false);
    expect(sameAnswer({ outputs: [{ data: [Number.NaN] }] }, { outputs: [{ data: [Number.NaN] }] })).toBe(
      true,
    );
    expect(sameAnswer({ a: 1 }, { a: 1, extra: 2 })).toBe(false);
    expect(sameAnswer(null, {})).toBe(false);
  });
});

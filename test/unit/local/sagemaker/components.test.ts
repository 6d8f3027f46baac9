/** The emulated inference component's copies on a fake clock: scale-out after a refusal, scale-in after the idle time. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ComponentCapacity } from '../../../../local/sagemaker/components.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The copies just before `ms` from now, and at `ms`. */
function copiesAcross(capacity: ComponentCapacity, ms: number): [number, number] {
  vi.advanceTimersByTime(ms - 1);
  const before = capacity.copies;
  vi.advanceTimersByTime(1);
  return [before, capacity.copies];
}

describe('ComponentCapacity', () => {
  it('refuses at zero, serves after the cold start, and goes back to zero once idle', () => {
    const changes: number[] = [];
    const capacity = new ComponentCapacity(1000, 5000, (copies) => changes.push(copies));
    expect(capacity.admit()).toBe(false);
    vi.advanceTimersByTime(999);
    expect(capacity.admit()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(capacity.copies).toBe(1);
    expect(capacity.admit()).toBe(true);
    capacity.done();
    vi.advanceTimersByTime(4999);
    expect(capacity.copies).toBe(1);
    // The timer alone moves it: no request needed to see it at zero.
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([1, 0]);
    expect(capacity.admit()).toBe(false);
    capacity.close();
  });

  it('does not scale in under an invocation still running, and counts idle time from its end', () => {
    const capacity = new ComponentCapacity(0, 1000);
    capacity.admit();
    vi.advanceTimersByTime(0);
    expect(capacity.admit()).toBe(true);
    vi.advanceTimersByTime(10_000);
    expect(capacity.copies).toBe(1);
    capacity.done();
    expect(copiesAcross(capacity, 1000)).toEqual([1, 0]);
    capacity.close();
  });

  it('goes back to zero when nobody comes after a scale-out', () => {
    const capacity = new ComponentCapacity(100, 200);
    capacity.admit();
    expect(copiesAcross(capacity, 300)).toEqual([1, 0]);
    capacity.close();
  });
});

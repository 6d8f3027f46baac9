/** A usage plan's limits, as API Gateway defines them. */
export interface Plan {
  readonly name: string;
  /** Steady-state requests per second and bucket size. */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number } | undefined;
  readonly quota?: { readonly limit: number; readonly period: 'DAY' | 'WEEK' | 'MONTH' } | undefined;
}

export type Verdict = 'ok' | 'throttled' | 'quota';

/**
 * Per-key throttling (token bucket: `burstLimit` tokens, refilled at
 * `rateLimit` per second) and quota (requests per UTC day, week from
 * Monday, or calendar month), as API Gateway usage plans apply them.
 */
export class UsageMeter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly counts = new Map<string, { used: number; from: number; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  admit(keyId: string, plan: Plan): Verdict {
    const at = this.now();
    if (plan.throttle) {
      const { rateLimit, burstLimit } = plan.throttle;
      const bucket = this.buckets.get(keyId) ?? { tokens: burstLimit, at };
      bucket.tokens = Math.min(burstLimit, bucket.tokens + ((at - bucket.at) / 1000) * rateLimit);
      bucket.at = at;
      this.buckets.set(keyId, bucket);
      if (bucket.tokens < 1) return 'throttled';
      bucket.tokens -= 1;
    }
    if (plan.quota) {
      const count = this.counts.get(keyId);
      // Within the period last counted in, no new period is computed.
      if (count && at >= count.from && at < count.until) {
        if (count.used >= plan.quota.limit) return 'quota';
        count.used += 1;
        return 'ok';
      }
      // A request outside the bounds starts a new period (the first of its own).
      if (plan.quota.limit < 1) return 'quota';
      this.counts.set(keyId, { used: 1, ...periodBounds(at, plan.quota.period) });
    }
    return 'ok';
  }
}

/** The first millisecond of the period `epochMs` is in, and the first after it. */
function periodBounds(epochMs: number, period: 'DAY' | 'WEEK' | 'MONTH'): { from: number; until: number } {
  const d = new Date(epochMs);
  if (period === 'MONTH') {
    return {
      from: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
      until: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
    };
  }
  const day = Math.floor(epochMs / 86_400_000);
  const first = period === 'DAY' ? day : Math.floor((day + 3) / 7) * 7 - 3;
  return { from: first * 86_400_000, until: (first + (period === 'DAY' ? 1 : 7)) * 86_400_000 };
}

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
  private readonly counts = new Map<string, { period: string; used: number }>();

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
      const period = periodOf(at, plan.quota.period);
      const count = this.counts.get(keyId);
      const used = count?.period === period ? count.used : 0;
      if (used >= plan.quota.limit) return 'quota';
      this.counts.set(keyId, { period, used: used + 1 });
    }
    return 'ok';
  }
}

function periodOf(epochMs: number, period: 'DAY' | 'WEEK' | 'MONTH'): string {
  const d = new Date(epochMs);
  if (period === 'MONTH') return `${d.getUTCFullYear()}-${d.getUTCMonth()}`;
  const day = Math.floor(epochMs / 86_400_000);
  if (period === 'DAY') return String(day);
  // 1970-01-01 was a Thursday: shift so weeks start on Monday.
  return `w${Math.floor((day + 3) / 7)}`;
}

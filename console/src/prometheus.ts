/** Reads the gateway's Prometheus text (GET /metrics) into series, and works out rates and quantiles between two reads. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = (pair[2] as string).replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Per model and version between two reads: requests/s, 4xx, 5xx, p50 and p99 latency (ms). */
export interface Row {
  readonly model: string;
  readonly version: string;
  readonly rps: number;
  readonly client: number;
  readonly server: number;
  readonly p50?: number | undefined;
  readonly p99?: number | undefined;
}

const key = (l: Readonly<Record<string, string>>) => `${l.model}\u0000${l.version}`;

function quantile(buckets: { le: number; count: number }[], q: number): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let previous = { le: 0, count: 0 };
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return previous.le * 1000;
      const span = b.count - previous.count || 1;
      return (previous.le + ((b.le - previous.le) * (rank - previous.count)) / span) * 1000;
    }
    previous = b;
  }
  return undefined;
}

export function compare(before: Sample[], after: Sample[], seconds: number): Row[] {
  const old = new Map(before.map((s) => [`${s.name}${JSON.stringify(s.labels)}`, s.value]));
  const delta = (s: Sample) => s.value - (old.get(`${s.name}${JSON.stringify(s.labels)}`) ?? 0);
  const rows = new Map<
    string,
    { model: string; version: string; n: number; c4: number; c5: number; buckets: Map<number, number> }
  >();
  const row = (l: Readonly<Record<string, string>>) => {
    let r = rows.get(key(l));
    if (!r) {
      r = { model: l.model ?? '', version: l.version ?? '', n: 0, c4: 0, c5: 0, buckets: new Map() };
      rows.set(key(l), r);
    }
    return r;
  };
  for (const s of after) {
    if (s.name === 'modelgate_requests_total') {
      const r = row(s.labels);
      const d = delta(s);
      r.n += d;
      if (s.labels.code?.startsWith('4')) r.c4 += d;
      if (s.labels.code?.startsWith('5')) r.c5 += d;
    } else if (s.name === 'modelgate_request_duration_seconds_bucket') {
      const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      const r = row(s.labels);
      r.buckets.set(le, (r.buckets.get(le) ?? 0) + delta(s));
    }
  }
  return [...rows.values()]
    .map((r) => {
      const buckets = [...r.buckets].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count }));
      return {
        model: r.model,
        version: r.version,
        rps: r.n / seconds,
        client: r.c4,
        server: r.c5,
        p50: quantile(buckets, 0.5),
        p99: quantile(buckets, 0.99),
      };
    })
    .sort((a, b) => a.model.localeCompare(b.model) || Number(a.version) - Number(b.version));
}

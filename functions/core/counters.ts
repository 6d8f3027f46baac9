/**
 * In-process counters and latency histograms with the same names and labels
 * as the CloudWatch metrics, rendered in the Prometheus text exposition
 * format (version 0.0.4). Local mode serves them at `GET /metrics`; in Lambda
 * they are a few kilobytes nobody reads.
 */

type Labels = Readonly<Record<string, string>>;

/** Latency bucket bounds in milliseconds, as Prometheus client libraries space them. */
const BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000] as const;

interface Family {
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly series: Map<string, Series>;
}

interface Series {
  readonly labels: Labels;
  value: number;
  /** Histograms: cumulative counts per bucket, and the sum of observations in milliseconds. */
  buckets?: number[];
  sum?: number;
}

export class Counters {
  private readonly families = new Map<string, Family>();

  /** Adds `by` to a counter. */
  inc(name: string, help: string, labels: Labels, by = 1): void {
    this.series(name, help, 'counter', labels).value += by;
  }

  /** A counter series to add to without looking it up again (hot paths). */
  counter(name: string, help: string, labels: Labels): { inc(by?: number): void } {
    const series = this.series(name, help, 'counter', labels);
    return {
      inc: (by = 1) => {
        series.value += by;
      },
    };
  }

  /** A histogram series to observe without looking it up again (hot paths). */
  histogram(name: string, help: string, labels: Labels): { observe(ms: number): void } {
    const series = this.series(name, help, 'histogram', labels);
    return { observe: (ms) => record(series, ms) };
  }

  /** Records one observation (milliseconds) in a histogram. */
  observe(name: string, help: string, labels: Labels, ms: number): void {
    record(this.series(name, help, 'histogram', labels), ms);
  }

  /** The value of one counter series (0 when never incremented). */
  get(name: string, labels: Labels): number {
    return this.families.get(name)?.series.get(labelKey(labels))?.value ?? 0;
  }

  /** Everything in the Prometheus text format; histograms in seconds, as Prometheus prefers. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const series of family.series.values()) {
        if (family.type === 'counter') {
          lines.push(`${name}${format(series.labels)} ${series.value}`);
          continue;
        }
        BUCKETS_MS.forEach((bound, i) => {
          const le = String(bound / 1000);
          lines.push(`${name}_bucket${format({ ...series.labels, le })} ${series.buckets?.[i] ?? 0}`);
        });
        lines.push(`${name}_bucket${format({ ...series.labels, le: '+Inf' })} ${series.value}`);
        lines.push(`${name}_sum${format(series.labels)} ${(series.sum ?? 0) / 1000}`);
        lines.push(`${name}_count${format(series.labels)} ${series.value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private series(name: string, help: string, type: Family['type'], labels: Labels): Series {
    let family = this.families.get(name);
    if (!family) {
      family = { help, type, series: new Map() };
      this.families.set(name, family);
    }
    const key = labelKey(labels);
    let series = family.series.get(key);
    if (!series) {
      series = { labels, value: 0 };
      family.series.set(key, series);
    }
    return series;
  }
}

function record(series: Series, ms: number): void {
  series.value += 1;
  series.sum = (series.sum ?? 0) + ms;
  series.buckets ??= BUCKETS_MS.map(() => 0);
  const buckets = series.buckets;
  for (let i = 0; i < BUCKETS_MS.length; i++)
    if (ms <= (BUCKETS_MS[i] as number)) buckets[i] = (buckets[i] ?? 0) + 1;
}

/** Callers name a family's labels in one order, so the values alone identify a series. */
function labelKey(labels: Labels): string {
  let key = '';
  for (const k in labels) key += `${k}\u0000${labels[k]}\u0001`;
  return key;
}

function format(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const quote = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${entries.map(([k, v]) => `${k}="${quote(v)}"`).join(',')}}`;
}

/** The counters of this process: every telemetry instance records here too. */
export const processCounters = new Counters();

/**
 * Metrics: requests/s, p50/p99 latency, 4xx/5xx by model and version (canary
 * next to production). Locally the gateway's counters at /metrics every 2 s;
 * deployed, where /metrics is not served, the last hour from CloudWatch (GET /v1/metrics).
 */
import { base, call } from '../api.ts';
import { errorBox, h, replace, table } from '../dom.ts';
import { compare, parse, type Row, type Sample } from '../prometheus.ts';
import type { MetricsReport } from '../types.ts';

const EVERY_MS = 2000;
/** CloudWatch's figures are per minute: reading them more often only costs requests. */
const CLOUD_EVERY_MS = 60_000;
const KEEP = 60;
const SVG = 'http://www.w3.org/2000/svg';

function chart(history: Map<string, number[]>): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 600 160');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Requests per second by model version, last two minutes');
  const max = Math.max(1, ...[...history.values()].flat());
  let i = 0;
  for (const [name, points] of history) {
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('class', `series series-${i % 6}`);
    line.setAttribute(
      'points',
      points.map((v, x) => `${(x * 600) / (KEEP - 1)},${150 - (v / max) * 140}`).join(' '),
    );
    const title = document.createElementNS(SVG, 'title');
    title.textContent = name;
    line.appendChild(title);
    svg.appendChild(line);
    i += 1;
  }
  return svg;
}

const ms = (v: number | undefined) => (v === undefined ? '–' : `${v.toFixed(1)} ms`);

export function metricsPage(main: HTMLElement): () => void {
  const status = h('p', { attrs: { 'aria-live': 'polite' } }, 'Reading the counters…');
  const view = h('div');
  replace(main, h('h1', {}, 'Metrics'), status, view);
  const history = new Map<string, number[]>();
  let previous: { at: number; samples: Sample[] } | undefined;
  let stopped = false;

  const render = (caption: string, rows: Row[]) =>
    replace(
      view,
      chart(history),
      h(
        'p',
        { class: 'legend' },
        ...[...history.keys()].map((name, i) => h('span', { class: `key series-${i % 6}` }, name)),
      ),
      table(
        caption,
        ['Model', 'Version', 'Requests/s', 'p50', 'p99', '4xx', '5xx'],
        rows.map((r) => [
          r.model,
          r.version,
          r.rps.toFixed(2),
          ms(r.p50),
          ms(r.p99),
          String(r.client),
          String(r.server),
        ]),
      ),
    );
  /** Deployed: the last hour from CloudWatch, one point a minute. */
  let cloud = false;
  let lastCloud = 0;
  const readCloud = async () => {
    if (performance.now() - lastCloud < CLOUD_EVERY_MS && lastCloud > 0) return;
    lastCloud = performance.now();
    const report = await call<MetricsReport>('v1/metrics');
    history.clear();
    for (const r of report.data)
      history.set(
        `${r.model} v${r.version}`,
        r.per_minute.slice(-KEEP).map((n) => n / report.period_seconds),
      );
    render(`Last hour (${report.from} to ${report.to}) from CloudWatch, by model and version`, report.data);
    replace(status, `Updated ${new Date().toLocaleTimeString()} from CloudWatch (every minute)`);
  };

  const read = async () => {
    try {
      if (cloud) return await readCloud();
      const response = await fetch(new URL('metrics', base));
      if (!response.ok) {
        cloud = true;
        return await readCloud();
      }
      const now = performance.now();
      const samples = parse(await response.text());
      if (previous) {
        const rows: Row[] = compare(previous.samples, samples, (now - previous.at) / 1000);
        for (const r of rows) {
          const name = `${r.model} v${r.version}`;
          const points = history.get(name) ?? Array(KEEP).fill(0);
          points.push(r.rps);
          history.set(name, points.slice(-KEEP));
        }
        render('Last 2 seconds, by model and version', rows);
        replace(status, `Updated ${new Date().toLocaleTimeString()}`);
      }
      previous = { at: now, samples };
    } catch (error) {
      replace(
        status,
        errorBox(
          cloud
            ? `Metrics are not available here: ${(error as Error).message}. Locally they are at /metrics; deployed, GET /v1/metrics reads CloudWatch.`
            : (error as Error).message,
        ),
      );
    }
  };
  void read();
  const timer = setInterval(() => {
    if (!stopped) void read();
  }, EVERY_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

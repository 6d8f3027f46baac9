/**
 * Metrics, live: requests/s, p50/p99 latency, 4xx/5xx by model and version
 * (canary versions next to production), from the gateway's counters at
 * /metrics, read every 2 s, with a requests/s chart per version.
 */
import { base } from '../api.ts';
import { errorBox, h, replace, table } from '../dom.ts';
import { compare, parse, type Row, type Sample } from '../prometheus.ts';

const EVERY_MS = 2000;
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

  const read = async () => {
    try {
      const response = await fetch(new URL('metrics', base));
      if (!response.ok) {
        throw new Error(
          `the counters are not served here (HTTP ${response.status}): locally they are at /metrics; deployed, see the ModelGate CloudWatch dashboard (docs/OPERATIONS.md)`,
        );
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
        replace(
          view,
          chart(history),
          h(
            'p',
            { class: 'legend' },
            ...[...history.keys()].map((name, i) => h('span', { class: `key series-${i % 6}` }, name)),
          ),
          table(
            'Last 2 seconds, by model and version',
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
        replace(status, `Updated ${new Date().toLocaleTimeString()}`);
      }
      previous = { at: now, samples };
    } catch (error) {
      replace(status, errorBox((error as Error).message));
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

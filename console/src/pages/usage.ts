/**
 * Usage: the signed-in key's own requests, rows, tokens and errors by day and
 * model over a date range (`GET /v1/usage?from&to`), as tables of text.
 */
import { call } from '../api.ts';
import { errorBox, h, replace, table } from '../dom.ts';
import type { UsageCounts, UsageReport } from '../types.ts';

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const COLUMNS = ['Requests', 'Rows', 'Prompt tokens', 'Completion tokens', 'Total tokens', '4xx', '5xx'];
const counts = (c: UsageCounts) =>
  [
    c.requests,
    c.rows,
    c.prompt_tokens,
    c.completion_tokens,
    c.total_tokens,
    c.client_errors,
    c.server_errors,
  ].map((n) => n.toLocaleString('en-US'));

function dateField(id: string, label: string, value: string) {
  const input = h('input', { attrs: { id, type: 'date', value, required: '' } });
  return { input, element: h('div', {}, h('label', { attrs: { for: id } }, label), input) };
}

/** Sums of the report's lines per model, busiest first. */
function byModel(report: UsageReport): [string, UsageCounts][] {
  const sums = new Map<string, UsageCounts>();
  for (const line of report.data) {
    const sum = sums.get(line.model) ?? {
      requests: 0,
      rows: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      client_errors: 0,
      server_errors: 0,
    };
    for (const name of Object.keys(sum) as (keyof UsageCounts)[]) sum[name] += line[name];
    sums.set(line.model, sum);
  }
  return [...sums].sort((a, b) => b[1].requests - a[1].requests || a[0].localeCompare(b[0]));
}

function render(report: UsageReport): HTMLElement {
  if (report.data.length === 0)
    return h('p', {}, `No usage recorded for key ${report.key_id} from ${report.from} to ${report.to}.`);
  return h(
    'div',
    {},
    h(
      'p',
      { class: 'totals' },
      `Key ${report.key_id}, ${report.from} to ${report.to}: ${counts(report.totals)[0]} requests, `,
      `${counts(report.totals)[4]} tokens, ${counts(report.totals)[5]} 4xx, ${counts(report.totals)[6]} 5xx.`,
    ),
    h('h2', {}, 'By model'),
    table(
      `Usage by model, ${report.from} to ${report.to}`,
      ['Model', ...COLUMNS],
      [...byModel(report).map(([model, c]) => [model, ...counts(c)]), ['Total', ...counts(report.totals)]],
    ),
    h('h2', {}, 'By day and model'),
    table(
      `Usage by day and model, ${report.from} to ${report.to}`,
      ['Day', 'Model', ...COLUMNS],
      [...report.data]
        .sort((a, b) => b.day.localeCompare(a.day) || a.model.localeCompare(b.model))
        .map((line) => [line.day, line.model, ...counts(line)]),
    ),
  );
}

export function usagePage(main: HTMLElement): () => void {
  const now = Date.now();
  const from = dateField('usage-from', 'From (UTC)', day(now - 29 * DAY_MS));
  const to = dateField('usage-to', 'To (UTC)', day(now));
  const result = h('div', { attrs: { 'aria-live': 'polite' } }, 'Loading…');
  let current = 0;
  const load = async () => {
    const ask = ++current;
    if (from.input.value > to.input.value) {
      // Checked here too, so a reversed range never reaches the API.
      replace(result, errorBox(`"from" (${from.input.value}) is after "to" (${to.input.value})`));
      return;
    }
    replace(result, 'Loading…');
    try {
      const query = new URLSearchParams({ from: from.input.value, to: to.input.value });
      const report = await call<UsageReport>(`v1/usage?${query}`);
      if (ask === current) replace(result, render(report));
    } catch (error) {
      if (ask === current) replace(result, errorBox((error as Error).message));
    }
  };
  const form = h(
    'form',
    {
      class: 'range',
      on: {
        submit: (event) => {
          event.preventDefault();
          void load();
        },
      },
    },
    from.element,
    to.element,
    h('button', { attrs: { type: 'submit' } }, 'Show'),
  );
  replace(
    main,
    h('h1', {}, 'Usage'),
    h(
      'p',
      { class: 'hint' },
      'What this key used, per UTC day and model: requests that reached a model, rows scored, ',
      'tokens of language models, and 4xx/5xx answers (docs/TENANTS.md).',
    ),
    form,
    result,
  );
  void load();
  return () => {
    current += 1;
  };
}

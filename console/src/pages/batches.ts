/** Batches: this key's recent jobs from their manifests: status, rows, failed rows, duration, output, error. */
import { call } from '../api.ts';
import { errorBox, h, replace, table } from '../dom.ts';
import type { BatchJob } from '../types.ts';

export function batchesPage(main: HTMLElement): () => void {
  replace(main, h('h1', {}, 'Batches'), h('p', {}, 'Loading…'));
  (async () => {
    try {
      const { data: jobs } = await call<{ data: BatchJob[] }>('v1/batches');
      const rows = jobs.map((job) => {
        const m = job.manifest;
        return [
          job.model,
          h('span', { class: `status status-${job.status}` }, job.status),
          m ? String(m.rows) : '',
          m ? String(m.failed) : '',
          m?.durationMs !== undefined ? `${(m.durationMs / 1000).toFixed(2)} s` : '',
          m?.startedAt ?? '',
          h('code', {}, job.output),
          m?.error ?? '',
        ];
      });
      replace(
        main,
        h('h1', {}, 'Batches'),
        jobs.length === 0
          ? h(
              'p',
              {},
              'No batch job of this key yet: put a JSON Lines or CSV file under batch/keys/<key id>/ and POST /v1/batches.',
            )
          : table(
              `${jobs.length} most recent jobs of this key`,
              ['Model', 'Status', 'Rows', 'Failed', 'Duration', 'Started', 'Output (in the bucket)', 'Error'],
              rows,
            ),
        h(
          'p',
          { class: 'hint' },
          'Failed rows carry their error in the output file, one line per input row (docs/BATCH.md).',
        ),
      );
    } catch (error) {
      replace(main, h('h1', {}, 'Batches'), errorBox((error as Error).message));
    }
  })();
  return () => {};
}

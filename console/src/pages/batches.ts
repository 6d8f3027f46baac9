/**
 * Batches: this key's recent jobs from their manifests: status, rows, failed rows (each one's line and
 * error on demand), duration, the output's S3 URI to copy, and the job's error.
 */
import { call } from '../api.ts';
import { errorBox, h, replace, table } from '../dom.ts';
import type { BatchJob, BatchRowErrors } from '../types.ts';

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
          outputCell(job),
          m?.error ?? '',
          failedRows(job),
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
              [
                'Model',
                'Status',
                'Rows',
                'Failed',
                'Duration',
                'Started',
                'Output (in the bucket)',
                'Error',
                'Failed rows',
              ],
              rows,
            ),
        h(
          'p',
          { class: 'hint' },
          'The bucket is private: read the output with your AWS credentials (aws s3 cp <URI> -). ' +
            'Failed rows also carry their error in the output file, on their line (docs/BATCH.md).',
        ),
      );
    } catch (error) {
      replace(main, h('h1', {}, 'Batches'), errorBox((error as Error).message));
    }
  })();
  return () => {};
}

/** The output's S3 URI as text, with a button that copies it. */
function outputCell(job: BatchJob): HTMLElement {
  if (!job.output_uri) return h('span', {}, '');
  return h(
    'span',
    { class: 'uri' },
    h('code', {}, job.output_uri),
    ' ',
    h(
      'button',
      {
        class: 'copy-uri',
        attrs: { type: 'button', 'aria-label': `Copy the output URI of job ${job.id}` },
        on: { click: () => navigator.clipboard?.writeText(job.output_uri).catch(() => {}) },
      },
      'Copy',
    ),
  );
}

/** A "Failed rows" disclosure: opened the first time, it reads the job's failed rows and lists them as text. */
function failedRows(job: BatchJob): HTMLElement {
  const body = h('div', { attrs: { 'aria-live': 'polite' } });
  let loaded = false;
  const details = h(
    'details',
    {
      class: 'failed-rows',
      on: {
        toggle: async () => {
          if (!details.open || loaded) return;
          loaded = true;
          replace(body, 'Loading…');
          try {
            const errors = await call<BatchRowErrors>(`v1/batches/${encodeURIComponent(job.id)}/errors`);
            replace(
              body,
              errors.data.length === 0
                ? h('p', {}, 'No failed rows.')
                : h(
                    'ul',
                    {},
                    ...errors.data.map((row) =>
                      h('li', {}, h('span', { class: 'line' }, `line ${row.line}: `), row.error),
                    ),
                  ),
              errors.has_more &&
                h('p', { class: 'hint' }, 'More rows failed: the output file holds every one.'),
            );
          } catch (error) {
            loaded = false;
            replace(body, errorBox((error as Error).message));
          }
        },
      },
    },
    h('summary', {}, 'Failed rows'),
    body,
  );
  return details;
}

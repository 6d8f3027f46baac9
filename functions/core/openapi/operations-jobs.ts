/** What the OpenAPI document says of a key's own jobs and figures: batch jobs, their failed rows, usage, metrics. */
import type { RouteKey } from '../../api/routes.ts';
import { ROW_ERRORS_LIMIT } from '../batch/row-errors.ts';
import { LIST_LIMIT } from '../batch/tenants.ts';
import type { Operation } from './operations.ts';

/** A batch job as the batch routes answer it, at one status. */
const batchJob = (status: 'queued' | 'running' | 'succeeded') => ({
  id: 'batch_Zx3qQ8v1TgkQ2mWl9rB0yNc4HjA7pLdE',
  object: 'batch',
  model: 'iris',
  input: 'batch/keys/default/rows.jsonl',
  output: 'batch/output/iris/jobs/batch_Zx3qQ8v1TgkQ2mWl9rB0yNc4HjA7pLdE/rows.jsonl.jsonl',
  output_uri:
    's3://modelgate-models/batch/output/iris/jobs/batch_Zx3qQ8v1TgkQ2mWl9rB0yNc4HjA7pLdE/rows.jsonl.jsonl',
  created_at: '2026-11-29T12:00:00.000Z',
  status,
});
/** One day's counts in the usage example; with one row the totals are the same counts. */
const usageCounts = {
  requests: 3,
  rows: 4,
  prompt_tokens: 0,
  completion_tokens: 0,
  total_tokens: 0,
  client_errors: 1,
  server_errors: 0,
};

export const JOB_OPERATIONS = {
  'POST /v1/batches': {
    summary: 'Score a JSON Lines or CSV file under your key’s prefix (batch/keys/<key id>/)',
    tag: 'Batches',
    request: { schema: 'BatchRequest', example: { model: 'iris', input: 'rows.jsonl' } },
    answer: {
      status: 202,
      type: 'application/json',
      schema: 'BatchJob',
      example: batchJob('queued'),
    },
    errors: [400, 404, 409],
  },
  'GET /v1/batches/{id}': {
    summary: 'One of your batch jobs: status and manifest (404 for another key’s job)',
    tag: 'Batches',
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'BatchJob',
      example: batchJob('running'),
    },
    errors: [400, 404],
  },
  'GET /v1/batches/{id}/errors': {
    summary: `The failed rows of one of your batch jobs, from its output file (at most ${ROW_ERRORS_LIMIT}; 404 for another key’s job)`,
    tag: 'Batches',
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'BatchRowErrors',
      example: {
        object: 'list',
        id: batchJob('succeeded').id,
        output: batchJob('succeeded').output,
        data: [
          {
            line: 2,
            error: '1 values; the model expects 4 (sepal_length, sepal_width, petal_length, petal_width)',
          },
        ],
        has_more: false,
      },
    },
    errors: [400, 404],
  },
  'GET /v1/batches': {
    summary: `Your key’s batch jobs, newest first (at most ${LIST_LIMIT}), with their manifests`,
    tag: 'Batches',
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'BatchList',
      example: {
        object: 'list',
        data: [batchJob('succeeded')],
        has_more: false,
      },
    },
  },
  'GET /v1/usage': {
    summary: 'Your key’s usage by day and model over a date range (?from=YYYY-MM-DD&to=YYYY-MM-DD)',
    tag: 'Batches',
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'UsageReport',
      example: {
        object: 'usage',
        from: '2026-11-01',
        to: '2026-11-29',
        data: [
          {
            key_id: 'default',
            day: '2026-11-29',
            model: 'iris',
            ...usageCounts,
          },
        ],
        totals: usageCounts,
      },
    },
    errors: [400],
  },
  'GET /v1/metrics': {
    summary:
      'Deployed: the last hour of CloudWatch by model and version (requests, p50/p99 ms, 4xx, 5xx); locally 404, the gateway serves /metrics',
    tag: 'Models',
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'MetricsReport',
      example: {
        object: 'metrics',
        source: 'cloudwatch',
        namespace: 'ModelGate',
        from: '2026-11-29T11:00:00.000Z',
        to: '2026-11-29T12:00:00.000Z',
        period_seconds: 60,
        data: [
          {
            model: 'iris',
            version: '1',
            requests: 120,
            rps: 0.0333,
            client: 1,
            server: 0,
            p50: 2.1,
            p99: 9.5,
            per_minute: [2, 2, 2],
          },
        ],
      },
    },
    errors: [404],
  },
} as const satisfies Partial<Record<RouteKey, Operation>>;

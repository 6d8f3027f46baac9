/**
 * What the OpenAPI document says of each route: summary, tag, request and
 * answer schemas, examples. Keyed by the route tables' keys, so a route
 * added there without an entry here fails the type check.
 */
import type { RouteKey } from '../../api/routes.ts';
import type { ChatRouteKey } from '../../chat/routes.ts';
import { ROW_ERRORS_LIMIT } from '../batch/row-errors.ts';
import { LIST_LIMIT } from '../batch/tenants.ts';

export interface Operation {
  readonly summary: string;
  readonly tag: 'Health' | 'Models' | 'Inference' | 'Batches' | 'Chat' | 'Reference';
  /** Component schema of the request body, and an example. */
  readonly request?: { readonly schema: string; readonly example: unknown };
  /** The success answer: status, media type, component schema (absent for pages), example. */
  readonly answer: {
    readonly status: 200 | 202;
    readonly type: 'application/json' | 'text/html' | 'application/octet-stream';
    readonly schema?: string;
    readonly example?: unknown;
    /** Chat routes also stream server-sent events. */
    readonly stream?: boolean;
  };
  /** Route-specific error statuses beyond those every route may answer. */
  readonly errors?: readonly number[];
}

export const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];
const tensors = [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }];
const infer = {
  request: {
    schema: 'InferRequest',
    example: { id: 'r1', inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: IRIS_ROW }] },
  },
  answer: {
    status: 200,
    type: 'application/json',
    schema: 'InferResponse',
    example: {
      model_name: 'iris',
      model_version: '1',
      id: 'r1',
      outputs: [
        { name: 'label', shape: [1], datatype: 'INT64', data: [0] },
        { name: 'probabilities', shape: [1, 3], datatype: 'FP32', data: [1, 0, 0] },
      ],
    },
  },
  errors: [400, 404, 413],
  summary: 'Run a model on V2 tensors',
  tag: 'Inference',
} as const satisfies Operation;
const metadata = {
  summary: 'Model metadata: versions, input and output tensors',
  tag: 'Models',
  answer: {
    status: 200,
    type: 'application/json',
    schema: 'ModelMetadata',
    example: {
      name: 'iris',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: tensors,
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    },
  },
  errors: [400, 404],
} as const satisfies Operation;
const ready = {
  summary: 'Whether a model is loaded (503 while it loads)',
  tag: 'Health',
  answer: {
    status: 200,
    type: 'application/json',
    schema: 'ModelReady',
    example: { name: 'iris', ready: true },
  },
  errors: [404],
} as const satisfies Operation;
const page = (summary: string): Operation => ({
  summary,
  tag: 'Reference',
  answer: { status: 200, type: 'text/html' },
});
const chatAnswer = (object: 'chat.completion' | 'text_completion', choice: object) =>
  ({
    status: 200,
    type: 'application/json',
    schema: 'ChatCompletion',
    stream: true,
    example: {
      id: 'chatcmpl-1',
      object,
      created: 1767225600,
      model: 'llm',
      choices: [choice],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    },
  }) as const;

/** A batch job as the batch routes answer it, at one status. */
const batchJob = (status: 'queued' | 'running' | 'succeeded') => ({
  id: 'batch_Zx3qQ8v1TgkQ2mWl9rB0yNc4HjA7pLdE',
  object: 'batch',
  model: 'iris',
  input: 'batch/keys/default/rows.jsonl',
  output: 'batch/output/iris/keys/default/rows.jsonl',
  output_uri: 's3://modelgate-models/batch/output/iris/keys/default/rows.jsonl',
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
/** A 90/10 canary with a shadow, as the registry example shows the production alias. */
const canaryRoutes = {
  routes: [
    { version: '1', weight: 90 },
    { version: '2', weight: 10 },
  ],
  shadow: '3',
};

export const OPERATIONS: Record<RouteKey | ChatRouteKey, Operation> = {
  'GET /v2/health/live': {
    summary: 'Server liveness',
    tag: 'Health',
    answer: { status: 200, type: 'application/json', schema: 'Live', example: { live: true } },
  },
  'GET /v2/health/ready': {
    summary: 'Server readiness: the model store answers',
    tag: 'Health',
    answer: { status: 200, type: 'application/json', schema: 'Ready', example: { ready: true } },
  },
  'GET /v2': {
    summary: 'Server metadata',
    tag: 'Health',
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'ServerMetadata',
      example: { name: 'modelgate', version: '0.1.0', extensions: [] },
    },
  },
  'GET /v2/models': {
    summary: 'Every model with its versions',
    tag: 'Models',
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'ModelList',
      example: { models: [{ name: 'iris', versions: ['1', '2'], platform: 'onnxruntime_onnx' }] },
    },
  },
  'GET /v2/models/{model}': metadata,
  'GET /v2/models/{model}/versions/{version}': metadata,
  'GET /v2/models/{model}/ready': ready,
  'GET /v2/models/{model}/versions/{version}/ready': ready,
  'POST /v2/models/{model}/infer': infer,
  'POST /v2/models/{model}/versions/{version}/infer': infer,
  'POST /v1/models/{model}/predict': {
    summary: 'Predict from rows of feature values (arrays, or objects keyed by feature name)',
    tag: 'Inference',
    request: {
      schema: 'PredictRequest',
      example: {
        instances: [IRIS_ROW, { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 }],
      },
    },
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'PredictResponse',
      example: {
        predictions: ['setosa', 'virginica'],
        probabilities: [
          { setosa: 1, versicolor: 0, virginica: 0 },
          { setosa: 0, versicolor: 0.02, virginica: 0.98 },
        ],
        model_name: 'iris',
        model_version: '1',
      },
    },
    errors: [400, 404, 413],
  },
  'GET /v1/models': {
    summary: 'Models in OpenAI’s list shape (language models and ONNX models)',
    tag: 'Chat',
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'OpenAIModelList',
      example: { object: 'list', data: [{ id: 'llm', object: 'model', created: 0, owned_by: 'modelgate' }] },
    },
  },
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
  'GET /v2/models/{model}/registry': {
    summary:
      'A model in the registry: every version’s manifest, the aliases, production’s weights and shadow',
    tag: 'Models',
    answer: {
      status: 200,
      type: 'application/json',
      schema: 'RegistryView',
      example: {
        name: 'iris',
        production: canaryRoutes,
        aliases: { production: canaryRoutes },
        versions: [],
      },
    },
    errors: [400, 404],
  },
  'GET /openapi.json': {
    summary: 'This document',
    tag: 'Reference',
    answer: { status: 200, type: 'application/json', schema: 'OpenApiDocument' },
  },
  'GET /v2/models/{model}/openapi.json': {
    summary: 'An OpenAPI document for one model: its tensors, features and labels as schemas',
    tag: 'Reference',
    answer: { status: 200, type: 'application/json', schema: 'OpenApiDocument' },
    errors: [400, 404],
  },
  'GET /docs': page('This reference, rendered (try it with your key)'),
  'GET /console': page('The console: models, try predict, chat, batches, metrics'),
  'GET /assets/{file}': {
    summary: 'Scripts and styles of the console and the reference, named by content hash',
    tag: 'Reference',
    answer: { status: 200, type: 'application/octet-stream' },
    errors: [404],
  },
  'POST /v1/chat/completions': {
    summary: 'Chat completion (OpenAI-compatible); server-sent events with "stream": true',
    tag: 'Chat',
    request: {
      schema: 'ChatRequest',
      example: { model: 'llm', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 16 },
    },
    answer: chatAnswer('chat.completion', {
      index: 0,
      message: { role: 'assistant', content: 'Hello!' },
      finish_reason: 'stop',
    }),
    errors: [400, 404, 424],
  },
  'POST /v1/completions': {
    summary: 'Text completion (OpenAI-compatible); server-sent events with "stream": true',
    tag: 'Chat',
    request: { schema: 'CompletionRequest', example: { model: 'llm', prompt: 'Once upon', max_tokens: 8 } },
    answer: chatAnswer('text_completion', { index: 0, text: ' a time', finish_reason: 'length' }),
    errors: [400, 404, 424],
  },
};

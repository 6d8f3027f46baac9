/** What the OpenAPI document says of the model routes: health, V2, predict, model lists, the registry view, chat, the reference pages. */
import { type RouteKey, v2ModelRoutes } from '../../api/routes.ts';
import type { ChatRouteKey } from '../../chat/routes.ts';
import type { Operation } from './operations.ts';

const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];
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

/** A 90/10 canary with a shadow, as the registry example shows the production alias. */
const canaryRoutes = {
  routes: [
    { version: '1', weight: 90 },
    { version: '2', weight: 10 },
  ],
  shadow: '3',
};

export const MODEL_OPERATIONS = {
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
  ...v2ModelRoutes({ metadata, ready, infer }),
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
} as const satisfies Partial<Record<RouteKey | ChatRouteKey, Operation>>;

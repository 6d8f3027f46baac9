/**
 * The REST resources of the api function. Infra builds API Gateway methods
 * from this table; the local gateway emulator matches requests with it; the
 * handler dispatches on `${method} ${resource}`. Pure data: safe to import
 * from infra without loading the runtime.
 */
export interface RouteSpec {
  readonly method: 'GET' | 'POST';
  /** API Gateway resource path, `{param}` for path parameters. */
  readonly resource: string;
  readonly apiKeyRequired: boolean;
  /** JSON schema (draft 4) API Gateway validates the body against, when there is a body. */
  readonly bodySchema?: 'infer' | 'predict' | 'batch';
}

export const API_ROUTES = [
  { method: 'GET', resource: '/v2/health/live', apiKeyRequired: false },
  { method: 'GET', resource: '/v2/health/ready', apiKeyRequired: false },
  { method: 'GET', resource: '/v2', apiKeyRequired: false },
  { method: 'GET', resource: '/v2/models', apiKeyRequired: true },
  { method: 'GET', resource: '/v2/models/{model}', apiKeyRequired: true },
  { method: 'GET', resource: '/v2/models/{model}/ready', apiKeyRequired: true },
  { method: 'POST', resource: '/v2/models/{model}/infer', apiKeyRequired: true, bodySchema: 'infer' },
  { method: 'GET', resource: '/v2/models/{model}/versions/{version}', apiKeyRequired: true },
  { method: 'GET', resource: '/v2/models/{model}/versions/{version}/ready', apiKeyRequired: true },
  {
    method: 'POST',
    resource: '/v2/models/{model}/versions/{version}/infer',
    apiKeyRequired: true,
    bodySchema: 'infer',
  },
  { method: 'POST', resource: '/v1/models/{model}/predict', apiKeyRequired: true, bodySchema: 'predict' },
  { method: 'GET', resource: '/v1/models', apiKeyRequired: true },
  { method: 'POST', resource: '/v1/batches', apiKeyRequired: true, bodySchema: 'batch' },
  { method: 'GET', resource: '/v1/batches', apiKeyRequired: true },
  { method: 'GET', resource: '/v1/batches/{id}', apiKeyRequired: true },
  { method: 'GET', resource: '/v1/batches/{id}/errors', apiKeyRequired: true },
  { method: 'GET', resource: '/v2/models/{model}/registry', apiKeyRequired: true },
  { method: 'GET', resource: '/openapi.json', apiKeyRequired: false },
  { method: 'GET', resource: '/v2/models/{model}/openapi.json', apiKeyRequired: true },
  { method: 'GET', resource: '/docs', apiKeyRequired: false },
  { method: 'GET', resource: '/console', apiKeyRequired: false },
  { method: 'GET', resource: '/assets/{file}', apiKeyRequired: false },
  { method: 'GET', resource: '/v1/usage', apiKeyRequired: true },
  { method: 'GET', resource: '/v1/metrics', apiKeyRequired: true },
] as const satisfies readonly RouteSpec[];

/** Header that pins weighted routing for sticky experiments. */
export const ROUTE_KEY_HEADER = 'x-modelgate-route-key';
/** Header carrying the version that served a request. */
export const VERSION_HEADER = 'x-modelgate-model-version';

/** Routes that answer errors in OpenAI's shape rather than the Open Inference Protocol's. */
export const OPENAI_ROUTES: ReadonlySet<string> = new Set(['GET /v1/models']);

/**
 * The three model routes of the Open Inference Protocol (metadata, readiness, infer), each
 * with its pinned-version twin under `/versions/{version}`, answered by the same `value`.
 */
export function v2ModelRoutes<M, R, I>(values: { metadata: M; ready: R; infer: I }) {
  return {
    ...withVersion('GET', '', values.metadata),
    ...withVersion('GET', '/ready', values.ready),
    ...withVersion('POST', '/infer', values.infer),
  };
}

function withVersion<M extends string, S extends string, V>(method: M, suffix: S, value: V) {
  return {
    [`${method} /v2/models/{model}${suffix}`]: value,
    [`${method} /v2/models/{model}/versions/{version}${suffix}`]: value,
  } as Record<`${M} /v2/models/{model}${S}` | `${M} /v2/models/{model}/versions/{version}${S}`, V>;
}

/** `METHOD /resource` of a route. */
export type KeyOf<R> = R extends RouteSpec ? `${R['method']} ${R['resource']}` : never;
export type RouteKey = KeyOf<(typeof API_ROUTES)[number]>;

/**
 * Structural body schemas for API Gateway request validation: they reject
 * what is plainly not a request before a Lambda runs; the handler checks the
 * rest against the model and explains what it expected.
 */
export const BODY_SCHEMAS = {
  infer: {
    type: 'object',
    required: ['inputs'],
    properties: {
      id: { type: 'string' },
      inputs: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['name', 'shape', 'datatype', 'data'],
          properties: {
            name: { type: 'string' },
            shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
            datatype: { type: 'string' },
            data: { type: 'array' },
          },
        },
      },
      outputs: { type: 'array', items: { type: 'object', required: ['name'] } },
    },
  },
  batch: {
    type: 'object',
    required: ['model', 'input'],
    properties: { model: { type: 'string' }, input: { type: 'string' } },
  },
  predict: {
    type: 'object',
    required: ['instances'],
    properties: { instances: { type: 'array', minItems: 1 } },
  },
} as const;

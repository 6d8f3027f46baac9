/**
 * The OpenAPI 3.1 document of every route in the route tables, built from
 * the schemas that validate requests (./schemas.ts) and each route's entry in
 * ./operations.ts. Served at `GET /openapi.json`.
 */
import {
  API_ROUTES,
  OPENAI_ROUTES,
  ROUTE_KEY_HEADER,
  type RouteKey,
  type RouteSpec,
} from '../../api/routes.ts';
import { CHAT_ROUTES, type ChatRouteKey } from '../../chat/routes.ts';
import { ModelGateError } from '../errors.ts';
import { openAIError } from '../protocols/openai.ts';
import { MODEL_VERSION } from '../registry/manifest.ts';
import { OPERATIONS, type Operation } from './operations.ts';
import { responseSchemas } from './response-schemas.ts';
import { REQUEST_SCHEMAS, ref } from './schemas.ts';

type Json = Record<string, unknown>;

export const OPENAPI_VERSION = '3.1.0';

/** Both ways to send a key: the `x-api-key` header, or `Authorization: Bearer <key>`. */
export const SECURITY_SCHEMES = {
  apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'An API key of a usage plan.' },
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'The same API key as a bearer token (OpenAI clients).',
  },
} as const;
/** The security requirement of a route that takes an API key: either scheme. */
export const KEYED = [{ apiKey: [] }, { bearer: [] }];

const ERROR_TEXT: Record<number, string> = {
  400: 'The request is not what the route expects; the message says what was wrong and what was expected.',
  403: 'No API key, or an unknown one (answered by API Gateway).',
  404: 'No such model, version or job.',
  409: 'A job for that input is already running.',
  413: 'The request is larger than the API accepts.',
  424: 'The model container failed the request.',
  429: 'Throttled or over quota for this key (answered by API Gateway).',
  500: 'An unexpected fault, logged with the request id.',
  503: 'A dependency (the model store or an endpoint) is unavailable; retry after Retry-After.',
  504: 'The integration did not answer in time (answered by API Gateway).',
};
/** Statuses answered by API Gateway, in its own `{"message"}` shape. */
const GATEWAY_STATUSES = new Set([403, 429, 504]);

interface DocumentOptions {
  /** Version of the server, as `GET /v2` reports it. */
  readonly version: string;
  /** Where the routes are, relative to the document's own address. */
  readonly serverUrl?: string;
}

function errorResponse(status: number, openAI: boolean): Json {
  const gateway = GATEWAY_STATUSES.has(status);
  const schema = gateway ? 'GatewayError' : openAI ? 'OpenAIError' : 'Error';
  const message = ERROR_TEXT[status] ?? 'Error';
  const example = gateway
    ? {
        message:
          status === 403 ? 'Forbidden' : status === 429 ? 'Too Many Requests' : 'Endpoint request timed out',
      }
    : openAI
      ? openAIError(new ModelGateError(message, status)).body
      : { error: message };
  return { description: message, content: { 'application/json': { schema: ref(schema), example } } };
}

function parameters(route: RouteSpec): Json[] {
  const path = [...route.resource.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema:
      name === 'model'
        ? ref('ModelName')
        : name === 'version'
          ? { type: 'string', pattern: MODEL_VERSION.source }
          : { type: 'string' },
    example: { model: 'iris', version: '1', id: 'YmF0Y2gvaW5wdXQvaXJpcy9yb3dzLmpzb25s', file: 'console.js' }[
      name as string
    ],
  }));
  const routed = route.resource.startsWith('/v2/models/{model}') || route.resource.endsWith('/predict');
  const pin = routed && route.method === 'POST' && !route.resource.includes('{version}');
  return [
    ...path,
    ...(pin
      ? [
          {
            name: ROUTE_KEY_HEADER,
            in: 'header',
            required: false,
            description: 'Pins weighted (canary) routing: the same key always reaches the same version.',
            schema: { type: 'string' },
          },
        ]
      : []),
  ];
}

/** One OpenAPI operation object for a route. */
function operationObject(route: RouteSpec, op: Operation, openAI: boolean): Json {
  const key = `${route.method} ${route.resource}`;
  const { answer } = op;
  const content: Json = {
    [answer.type]: {
      schema: answer.schema ? ref(answer.schema) : { type: 'string' },
      ...(answer.example !== undefined && { example: answer.example }),
    },
    ...(answer.stream && {
      'text/event-stream': {
        schema: { type: 'string', description: 'data: {chunk}\\n\\n per token, then data: [DONE]' },
      },
    }),
  };
  const statuses = new Set<number>([...(op.errors ?? []), 500, 503, 504]);
  if (route.apiKeyRequired) for (const s of [403, 429]) statuses.add(s);
  return {
    operationId: operationId(key),
    summary: op.summary,
    tags: [op.tag],
    security: route.apiKeyRequired ? KEYED : [],
    parameters: parameters(route),
    ...(op.request && {
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: ref(op.request.schema), example: op.request.example },
        },
      },
    }),
    responses: {
      [String(answer.status)]: { description: op.summary, content },
      ...Object.fromEntries([...statuses].sort().map((s) => [String(s), errorResponse(s, openAI)])),
    },
  };
}

/** `POST /v2/models/{model}/infer` → `postV2ModelsModelInfer`. */
export function operationId(key: string): string {
  const words = key
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w[0]?.toUpperCase() + w.slice(1))).join('');
}

/** Every route of both functions, with the error shape each answers. */
function allRoutes(): { route: RouteSpec; op: Operation; openAI: boolean }[] {
  return [
    ...API_ROUTES.map((route) => ({
      route,
      op: OPERATIONS[`${route.method} ${route.resource}` as RouteKey],
      openAI: OPENAI_ROUTES.has(`${route.method} ${route.resource}`),
    })),
    ...CHAT_ROUTES.map((route) => ({
      route,
      op: OPERATIONS[`${route.method} ${route.resource}` as ChatRouteKey],
      openAI: true,
    })),
  ];
}

/** The whole document. */
export function openApiDocument(options: DocumentOptions): Json {
  const paths: Record<string, Json> = {};
  for (const { route, op, openAI } of allRoutes()) {
    paths[route.resource] ??= {};
    (paths[route.resource] as Json)[route.method.toLowerCase()] = operationObject(route, op, openAI);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'ModelGate',
      version: options.version,
      description:
        'ONNX models and large language models behind one API: the Open Inference Protocol (V2), a simple predict route, batch jobs, and OpenAI-compatible chat. Errors say what was wrong and what was expected.',
    },
    servers: [
      { url: options.serverUrl ?? '.', description: 'This API (the document’s own origin and stage)' },
    ],
    tags: ['Health', 'Models', 'Inference', 'Batches', 'Chat', 'Reference'].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...REQUEST_SCHEMAS, ...responseSchemas() },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

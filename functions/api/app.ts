/**
 * The api function's request handler: Open Inference Protocol (V2), the simple predict route, model listing
 * and batch jobs, over the S3 registry and the ONNX runtime, with weighted routing and shadow requests.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { callerKey, requireCaller } from '../core/auth.ts';
import type { BatchApiDependencies } from '../core/batch/api.ts';
import { ownedBatchErrors } from '../core/batch/row-errors.ts';
import { listOwnedBatches, ownedBatchStatus, submitOwnedBatch } from '../core/batch/tenants.ts';
import type { LargeModelBinding } from '../core/env.ts';
import { describeError, MethodNotAllowedError, NotFoundError } from '../core/errors.ts';
import { header, json, jsonBody } from '../core/http.ts';
import { metricsRoute, type ReadMetrics } from '../core/metrics/route.ts';
import { openAIError } from '../core/protocols/openai.ts';
import { parsePredictRequest, predictResponse } from '../core/protocols/predict.ts';
import { inferResponse, modelMetadata, ONNX_PLATFORM, parseInferRequest } from '../core/protocols/v2.ts';
import { checkModelName, checkModelVersion, type Manifest } from '../core/registry/manifest.ts';
import type { Registry } from '../core/registry/store.ts';
import { registryView } from '../core/registry/view.ts';
import type { OnnxRuntime } from '../core/runners/onnx/runtime.ts';
import type { SageMakerRunner } from '../core/runners/sagemaker.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { recordFailed, recordServed, rowsOf } from '../core/usage/requests.ts';
import type { ApiUsage } from '../core/usage/route.ts';
import { usageRoute } from '../core/usage/route.ts';
import { forwardTensors } from './forward.ts';
import { createPageRoutes } from './pages.ts';
import {
  API_ROUTES,
  OPENAI_ROUTES,
  ROUTE_KEY_HEADER,
  type RouteKey,
  VERSION_HEADER,
  v2ModelRoutes,
} from './routes.ts';
import { mirrorToShadow } from './shadow.ts';

export { VERSION_HEADER };

export interface ApiDependencies {
  readonly registry: Registry;
  readonly runtime: OnnxRuntime;
  readonly telemetry: Telemetry;
  readonly maxElements: number;
  /** Server name and version reported by `GET /v2`. */
  readonly server: { readonly name: string; readonly version: string };
  /** How long an answer waits for the shadow copy of its request (default 200 ms). */
  readonly shadowWaitMs?: number;
  /** How long `…/ready` waits for a cold model before answering 503. */
  readonly readyWaitMs?: number;
  /** The bucket batch jobs read and write. */
  readonly batch: BatchApiDependencies;
  /** Large models on SageMaker endpoints, listed by `GET /v1/models`. */
  readonly largeModels?: readonly LargeModelBinding[];
  /**
   * Runners of the large models that speak the Open Inference Protocol (Triton):
   * their V2 infer requests are forwarded unchanged.
   */
  readonly tensorEndpoints?: ReadonlyMap<string, Pick<SageMakerRunner, 'invoke'>>;
  /** Folder of the built console and reference assets (console/build.ts). */
  readonly assetsDir?: string;
  /** Usage accounting per API key: where requests are counted, and how a key's usage is read. */
  readonly usage?: ApiUsage;
  /** The namespace's last hour from CloudWatch (deployed only). */
  readonly metrics?: ReadMetrics;
}

/** Powertools' numeric DEBUG level: below it, the per-request line is not even built. */
const DEBUG = 8;

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/**
 * The api function's request handler: Open Inference Protocol (V2) and the
 * simple predict route over the S3 registry and the ONNX runtime.
 */
export function createApiHandler(deps: ApiDependencies): Handler {
  const { registry, runtime, telemetry, maxElements } = deps;

  const target = (event: APIGatewayProxyEvent): { name: string; version?: string } => {
    const name = checkModelName(event.pathParameters?.model ?? '');
    const version = event.pathParameters?.version;
    return version === undefined ? { name } : { name, version: checkModelVersion(version) };
  };

  const resolve = (event: APIGatewayProxyEvent) => {
    const { name, version } = target(event);
    return registry.route(name, { version, routeKey: header(event, ROUTE_KEY_HEADER) });
  };

  /** Runs a model request, recording metrics under the model that served it, and mirrors it to a shadow. */
  const serve = async (
    event: APIGatewayProxyEvent,
    run: (manifest: Manifest) => Promise<unknown>,
  ): Promise<APIGatewayProxyResult> => {
    const started = performance.now();
    const limited =
      deps.usage?.admit && (await deps.usage.admit(callerKey(event), target(event).name, false));
    const { manifest, shadow } = await resolve(event);
    let body: unknown;
    try {
      body = await run(manifest);
    } catch (error) {
      telemetry.recordRequest(manifest, performance.now() - started, describeError(error).statusCode);
      throw error;
    }
    const ms = performance.now() - started;
    telemetry.recordRequest(manifest, ms, 200);
    recordServed(deps.usage?.sink, event, manifest.name, { rows: rowsOf(body) });
    if (telemetry.logger.level <= DEBUG)
      telemetry.logger.debug('request served', { ...labels(event, manifest), ms });
    if (shadow !== undefined) {
      await mirrorToShadow(deps, labels(event), run, body, { name: manifest.name, version: shadow });
    }
    return json(200, body, { [VERSION_HEADER]: manifest.version, ...limited });
  };

  const metadata = async (event: APIGatewayProxyEvent) => {
    const { manifest } = await resolve(event);
    return json(200, modelMetadata(manifest, await registry.listVersions(manifest.name)));
  };

  const ready = async (event: APIGatewayProxyEvent) => {
    const { manifest } = await resolve(event);
    const runner = runtime.runner(manifest);
    if (!runner.ready) {
      const loading = runner.load().then(() => true);
      // A load that fails after this answer is reported to the next request, not lost as unhandled.
      loading.catch(() => {});
      const waited = await Promise.race([
        loading,
        new Promise<false>((done) => setTimeout(done, deps.readyWaitMs ?? 2000, false).unref()),
      ]);
      if (!waited) return json(503, { name: manifest.name, ready: false }, { 'Retry-After': '1' });
    }
    return json(200, { name: manifest.name, ready: true });
  };

  const infer = (event: APIGatewayProxyEvent) => {
    const endpoint = deps.tensorEndpoints?.get(event.pathParameters?.model ?? '');
    if (endpoint) return forwardTensors(event, endpoint, deps.usage);
    return serve(event, async (manifest) => {
      const request = parseInferRequest(
        jsonBody(event, 'an Open Inference Protocol request {"inputs": [...]}'),
        manifest,
        maxElements,
      );
      const outputs = await runtime.runner(manifest).infer(request.inputs, request.outputs);
      return inferResponse(manifest, request, outputs);
    });
  };

  const pages = createPageRoutes({
    assetsDir: deps.assetsDir ?? 'assets',
    version: deps.server.version,
    model: async (event) => {
      const { manifest } = await resolve(event);
      return { manifest, versions: await registry.listVersions(manifest.name) };
    },
  });

  const routes: Record<RouteKey, Handler> = {
    ...pages,
    'GET /v2/health/live': async () => json(200, { live: true }),
    'GET /v2/health/ready': async () => {
      await registry.listModels();
      return json(200, { ready: true });
    },
    'GET /v2': async () =>
      json(200, { name: deps.server.name, version: deps.server.version, extensions: [] }),
    'GET /v2/models': async () => {
      const models = await registry.listModels();
      return json(200, { models: models.map((m) => ({ ...m, platform: ONNX_PLATFORM })) });
    },
    ...v2ModelRoutes({ metadata, ready, infer }),
    'POST /v1/batches': async (event) => {
      const body = jsonBody(event, '{"model", "input": "<file under your prefix batch/keys/<key id>/>"}');
      return json(202, await submitOwnedBatch(deps.batch, requireCaller(event, 'batch jobs'), body));
    },
    'GET /v1/batches': async (event) =>
      json(200, await listOwnedBatches(deps.batch, requireCaller(event, 'batch jobs'))),
    'GET /v1/usage': (event) => usageRoute(deps.usage?.report, event),
    'GET /v1/metrics': (event) => metricsRoute(deps.metrics, event),
    'GET /v2/models/{model}/registry': async (event) =>
      json(200, await registryView(registry, target(event).name)),
    'GET /v1/batches/{id}': async (event) =>
      json(200, await ownedBatchStatus(deps.batch, requireCaller(event, 'batch jobs'), jobOf(event))),
    'GET /v1/batches/{id}/errors': async (event) =>
      json(200, await ownedBatchErrors(deps.batch, requireCaller(event, 'batch jobs'), jobOf(event))),
    'GET /v1/models': async () => {
      const small = await registry.listModels();
      const created = await Promise.all(
        small.map((m) => registry.getManifest(m.name, m.versions[m.versions.length - 1] as string)),
      );
      const data = [
        ...(deps.largeModels ?? []).map((m) => ({
          id: m.name,
          object: 'model',
          created: 0,
          owned_by: 'modelgate',
        })),
        ...created.map((m) => ({
          id: m.name,
          object: 'model',
          created: Math.floor(Date.parse(m.createdAt) / 1000),
          owned_by: 'modelgate',
        })),
      ];
      return json(200, { object: 'list', data });
    },
    'POST /v1/models/{model}/predict': (event) =>
      serve(event, async (manifest) => {
        const input = parsePredictRequest(
          jsonBody(event, '{"instances": [[...], ...]}'),
          manifest,
          maxElements,
        );
        return predictResponse(manifest, await runtime.runner(manifest).infer([input]));
      }),
  };

  return async (event) => {
    try {
      return await routes[routeOf(event)](event);
    } catch (error) {
      const { statusCode, message, headers } = describeError(error);
      if (event.httpMethod === 'POST' && event.pathParameters?.model)
        recordFailed(deps.usage?.sink, event, event.pathParameters.model, statusCode);
      if (statusCode >= 500) {
        // 503 is a dependency outage the client retries; anything else is a fault to fix.
        const log = statusCode === 503 ? telemetry.logger.warn : telemetry.logger.error;
        log.call(telemetry.logger, 'request failed', { ...labels(event), error: error as Error });
      }
      if (OPENAI_ROUTES.has(`${event.httpMethod} ${event.resource}`)) {
        const failure = openAIError(error);
        return json(failure.statusCode, failure.body, failure.headers);
      }
      return json(statusCode, { error: message }, headers);
    }
  };
}

/** What every log line about a request carries: request id, route, model and version. */
function labels(event: APIGatewayProxyEvent, manifest?: Pick<Manifest, 'name' | 'version'>) {
  return {
    requestId: event.requestContext?.requestId,
    route: `${event.httpMethod} ${event.resource}`,
    model: manifest?.name ?? event.pathParameters?.model,
    version: manifest?.version ?? event.pathParameters?.version,
  };
}

/** The job id of a `/v1/batches/{id}…` request. */
const jobOf = (event: APIGatewayProxyEvent): string => event.pathParameters?.id ?? '';

/** Every `${method} ${resource}` the api serves, built once. */
const ROUTE_KEYS: ReadonlySet<string> = new Set(API_ROUTES.map((r) => `${r.method} ${r.resource}`));

function routeOf(event: APIGatewayProxyEvent): RouteKey {
  const key = `${event.httpMethod} ${event.resource}`;
  if (ROUTE_KEYS.has(key)) return key as RouteKey;
  const allowed = API_ROUTES.filter((r) => r.resource === event.resource).map((r) => r.method);
  if (allowed.length > 0) {
    throw new MethodNotAllowedError(`${event.httpMethod} is not allowed on ${event.resource}`, allowed);
  }
  throw new NotFoundError(`no route for ${event.httpMethod} ${event.path}`);
}

/** The api handler over a real s3rver: V2 inference, 4xx and 500 answers, readiness, EMF metrics, shadow traffic. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AliasStore } from '../../../cli/registry/aliases.ts';
import { publishModel } from '../../../cli/registry/publish.ts';
import { createApiHandler, VERSION_HEADER } from '../../../functions/api/app.ts';
import { API_ROUTES } from '../../../functions/api/routes.ts';
import { Counters } from '../../../functions/core/counters.ts';
import type { Registry } from '../../../functions/core/registry/store.ts';
import type { OnnxRuntime } from '../../../functions/core/runners/onnx/runtime.ts';
import { createTelemetry } from '../../../functions/core/telemetry.ts';
import { apiHandlerOver } from '../../fixtures/api-handler.ts';
import { restEvent } from '../../fixtures/events.ts';
import { sampleManifest, sampleModelBytes } from '../../fixtures/models.ts';
import { startTestS3, type TestS3 } from '../../fixtures/s3.ts';

let t: TestS3;
let handle: ReturnType<typeof createApiHandler>;
const telemetry = createTelemetry('modelgate-api-test');
const body = (r: { body: string }) => JSON.parse(r.body);

const apiHandler = (withTelemetry = telemetry, readyWaitMs?: number) =>
  apiHandlerOver(t, withTelemetry, readyWaitMs);

beforeAll(async () => {
  t = await startTestS3();
  const labels = sampleManifest('iris').labels;
  await publishModel(t.s3, t.bucket, { name: 'iris', bytes: sampleModelBytes('iris'), labels });
  handle = apiHandler();
});
afterAll(() => t.close());

describe('api handler', () => {
  it('has a handler for every route in the table', async () => {
    for (const route of API_ROUTES) {
      const response = await handle(
        restEvent(
          route.method,
          route.resource,
          { model: 'iris', version: '1' },
          route.method === 'POST' ? {} : undefined,
        ),
      );
      expect(JSON.parse(response.body).error ?? '', `${route.method} ${route.resource}`).not.toMatch(
        /^no route/,
      );
    }
  });

  it('serves V2 inference and says which version answered', async () => {
    const response = await handle(
      restEvent(
        'POST',
        '/v2/models/{model}/infer',
        { model: 'iris' },
        {
          id: 'abc',
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
          outputs: [{ name: 'label' }],
        },
      ),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers?.[VERSION_HEADER]).toBe('1');
    expect(body(response)).toEqual({
      model_name: 'iris',
      model_version: '1',
      id: 'abc',
      outputs: [{ name: 'label', datatype: 'INT64', shape: [1], data: [0] }],
    });
  });

  it.each([
    [
      'malformed JSON',
      '{"inputs": [',
      400,
      /request body is not valid JSON \(.*\); expected an Open Inference Protocol request/,
    ],
    ['an empty body', '', 400, /request body is empty/],
  ])('answers %s with a V2 error', async (_, raw, status, message) => {
    const response = await handle(restEvent('POST', '/v2/models/{model}/infer', { model: 'iris' }, raw));
    expect(response.statusCode).toBe(status);
    expect(body(response).error).toMatch(message);
  });

  it('answers readiness 503 with Retry-After while a model loads, then 200', async () => {
    const cold = apiHandler(telemetry, 0);
    const event = restEvent('GET', '/v2/models/{model}/ready', { model: 'iris' });
    const first = await cold(event);
    expect(first.statusCode).toBe(503);
    expect(first.headers?.['Retry-After']).toBe('1');
    expect(body(first)).toEqual({ name: 'iris', ready: false });
    let later = first;
    for (let i = 0; i < 50 && later.statusCode !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      later = await cold(event);
    }
    expect(later.statusCode).toBe(200);
    expect(body(later)).toEqual({ name: 'iris', ready: true });
  });

  it('decodes base64 bodies as API Gateway sends binary media', async () => {
    const event = restEvent('POST', '/v1/models/{model}/predict', { model: 'iris' });
    event.body = Buffer.from(JSON.stringify({ instances: [[6.7, 3.1, 5.6, 2.4]] })).toString('base64');
    event.isBase64Encoded = true;
    const response = await handle(event);
    expect(body(response).predictions).toEqual(['virginica']);
  });

  it('answers unknown models 404, bad names and versions 400, unknown resources 404 and wrong methods 405', async () => {
    expect((await handle(restEvent('GET', '/v2/models/{model}', { model: 'ghost' }))).statusCode).toBe(404);
    const badName = await handle(restEvent('GET', '/v2/models/{model}', { model: 'A B' }));
    expect(badName.statusCode).toBe(400);
    expect(body(badName).error).toMatch(/model name "A B" is invalid/);
    const badVersion = await handle(
      restEvent('GET', '/v2/models/{model}/versions/{version}', { model: 'iris', version: 'x' }),
    );
    expect(body(badVersion)).toEqual({ error: 'model version "x" is invalid: expected a positive integer' });
    expect((await handle(restEvent('GET', '/v2/nothing'))).statusCode).toBe(404);
    const wrong = await handle(restEvent('POST', '/v2/models'));
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers?.Allow).toBe('GET');
  });

  it('logs a server fault with the request id and answers 500 without internals', async () => {
    const errors = vi.spyOn(telemetry.logger, 'error').mockImplementation(() => {});
    // A handler over a registry whose one method fails as given.
    const over = (registry: Partial<Registry>) =>
      createApiHandler({
        registry: registry as Registry,
        runtime: {} as OnnxRuntime,
        telemetry,
        maxElements: 10,
        batch: { s3: t.s3, bucket: t.bucket },
        server: { name: 'modelgate', version: '0' },
      });
    const failing = over({
      listModels: () => Promise.reject(new Error('secret internal detail at /var/task')),
    });
    const response = await failing(restEvent('GET', '/v2/models'));
    expect(response.statusCode).toBe(500);
    expect(response.body).toBe('{"error":"internal error"}');
    expect(errors).toHaveBeenCalledWith(
      'request failed',
      expect.objectContaining({ requestId: 'req-1', route: 'GET /v2/models' }),
    );
    const broken = over({ route: () => Promise.reject(new Error('registry fault')) });
    await broken(
      restEvent(
        'POST',
        '/v2/models/{model}/versions/{version}/infer',
        { model: 'iris', version: '3' },
        { inputs: [] },
      ),
    );
    expect(errors).toHaveBeenLastCalledWith(
      'request failed',
      expect.objectContaining({
        requestId: 'req-1',
        route: 'POST /v2/models/{model}/versions/{version}/infer',
        model: 'iris',
        version: '3',
      }),
    );
    errors.mockRestore();
  });

  it('publishes per-model metrics: invocations, latency, errors', async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => lines.push(line));
    // POWERTOOLS_DEV sends EMF to the global console, where the spy sees it.
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const measured = apiHandler(createTelemetry('modelgate-api-test'));
    try {
      await measured(
        restEvent('POST', '/v1/models/{model}/predict', { model: 'iris' }, { instances: [[1, 2, 3, 4]] }),
      );
      await measured(
        restEvent('POST', '/v1/models/{model}/predict', { model: 'iris' }, { instances: [[1, 2]] }),
      );
    } finally {
      vi.unstubAllEnvs();
      log.mockRestore();
    }
    const emf = lines.map((l) => JSON.parse(String(l))).filter((l) => l._aws?.CloudWatchMetrics);
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({ model: 'iris', version: '1', Invocations: 1, Errors: 0, ClientErrors: 0 });
    expect(emf[0]._aws.CloudWatchMetrics[0].Namespace).toBe('ModelGate');
    // Per model and per model version.
    expect(emf[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([
      ['service', 'model', 'version'],
      ['service', 'model'],
    ]);
    expect(emf[0].Latency).toBeGreaterThan(0);
    expect(emf[1]).toMatchObject({ model: 'iris', Invocations: 1, ClientErrors: 1 });
  });

  it('writes one EMF record per request and no warning, as in Lambda (POWERTOOLS_METRICS_DISABLED unset)', async () => {
    const written: string[] = [];
    const capture = (stream: NodeJS.WriteStream) =>
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', undefined);
    vi.stubEnv('POWERTOOLS_DEV', undefined);
    const spies = [capture(process.stdout), capture(process.stderr)];
    try {
      // Outside dev mode Powertools writes EMF and its own warnings to process.stdout and stderr.
      const measured = apiHandler(createTelemetry('modelgate-api-test'));
      for (const version of ['1', '1', undefined]) {
        const path = { model: 'iris', ...(version && { version }) };
        const resource = version
          ? '/v2/models/{model}/versions/{version}/infer'
          : '/v1/models/{model}/predict';
        const payload = version
          ? { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }
          : { instances: [[1, 2, 3, 4]] };
        expect((await measured(restEvent('POST', resource, path, payload))).statusCode).toBe(200);
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
      vi.unstubAllEnvs();
    }
    const lines = written.join('').split('\n').filter(Boolean);
    expect(lines.filter((l) => /EMF key|defined as both|WARN/i.test(l))).toEqual([]);
    const records = lines.map((l) => JSON.parse(l));
    expect(records.filter((r) => r._aws && r.Invocations === 1)).toHaveLength(3);
  });

  it('mirrors requests to the shadow version, counts agreement, and never lets the shadow fail a request', async () => {
    const labels = sampleManifest('iris').labels;
    const publish = (model: 'iris' | 'iris-logistic' | 'linear') =>
      publishModel(t.s3, t.bucket, {
        name: 'mirrored',
        bytes: sampleModelBytes(model),
        labels: model === 'linear' ? undefined : labels,
      });
    await publish('iris'); // 1: production
    await publish('iris'); // 2: the same forest, agrees
    await publish('iris-logistic'); // 3: another model, disagrees on probabilities
    await publish('linear'); // 4: one input feature, fails on every iris request
    const counters = new Counters();
    const store = new AliasStore(t.s3, t.bucket);
    const request = restEvent(
      'POST',
      '/v1/models/{model}/predict',
      { model: 'mirrored' },
      { instances: [[5.9, 3.0, 4.2, 1.5]] },
    );
    for (const shadow of ['2', '3', '4']) {
      await store.promote('mirrored', '1');
      await store.shadow('mirrored', shadow);
      // A fresh registry sees the alias change at once.
      const handler = apiHandler(createTelemetry('modelgate-api-test', counters));
      const response = await handler(request);
      expect(response.statusCode).toBe(200);
      expect(response.headers?.[VERSION_HEADER]).toBe('1');
      expect(body(response)).toMatchObject({ model_version: '1', predictions: ['versicolor'] });
    }
    const outcome = (version: string, outcome: string) =>
      counters.get('modelgate_shadow_requests_total', { model: 'mirrored', version, outcome });
    expect(outcome('2', 'agree')).toBe(1);
    expect(outcome('3', 'disagree')).toBe(1);
    expect(outcome('4', 'error')).toBe(1);
    expect(outcome('4', 'agree') + outcome('4', 'disagree')).toBe(0);
    // A pinned version is not mirrored.
    const pinned = await apiHandler(createTelemetry('modelgate-api-test', counters))(
      restEvent(
        'POST',
        '/v2/models/{model}/versions/{version}/infer',
        { model: 'mirrored', version: '1' },
        {
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.9, 3.0, 4.2, 1.5] }],
        },
      ),
    );
    expect(pinned.statusCode).toBe(200);
    expect(outcome('4', 'error')).toBe(1);
  });
});

/** The OpenAPI document: valid by a maintained validator, every route present, every example valid and accepted by the real parsers. */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, BODY_SCHEMAS } from '../../../../functions/api/routes.ts';
import { CHAT_ROUTES } from '../../../../functions/chat/routes.ts';
import { openApiDocument } from '../../../../functions/core/openapi/document.ts';
import { parseChatRequest, parseCompletionRequest } from '../../../../functions/core/protocols/openai.ts';
import { parsePredictRequest } from '../../../../functions/core/protocols/predict.ts';
import { parseInferRequest } from '../../../../functions/core/protocols/v2.ts';
import { irisManifest } from '../../../fixtures/manifests.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON documents.
type Json = Record<string, any>;
const doc = openApiDocument({ version: '1.2.3' }) as Json;

const iris = irisManifest({ version: '1' });

/** Every example in the document with the schema it sits next to. */
function examples(): { where: string; schema: Json; example: unknown }[] {
  const found: { where: string; schema: Json; example: unknown }[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      const media = [
        ...Object.values((op as Json).requestBody?.content ?? {}),
        ...Object.values((op as Json).responses as Json).flatMap((r) =>
          Object.values((r as Json).content ?? {}),
        ),
      ] as Json[];
      for (const m of media)
        if ('example' in m) found.push({ where: `${method} ${path}`, schema: m.schema, example: m.example });
    }
  }
  return found;
}

describe('GET /openapi.json document', () => {
  it('is valid OpenAPI 3.1 by @apidevtools/swagger-parser', async () => {
    const copy = structuredClone(doc);
    await expect(SwaggerParser.validate(copy as never)).resolves.toMatchObject({ openapi: '3.1.0' });
  });

  it('describes every route of both route tables, with the right security', () => {
    for (const route of [...API_ROUTES, ...CHAT_ROUTES]) {
      const op = doc.paths[route.resource]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.resource}`).toBeDefined();
      expect(op.security).toEqual(route.apiKeyRequired ? [{ apiKey: [] }, { bearer: [] }] : []);
      if (route.apiKeyRequired)
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['403', '429']));
    }
    expect(doc.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }),
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
  });

  it('uses the gateway body schemas themselves for bodies API Gateway validates', () => {
    expect(doc.components.schemas.InferRequest).toBe(BODY_SCHEMAS.infer);
    expect(doc.components.schemas.PredictRequest).toBe(BODY_SCHEMAS.predict);
    expect(doc.components.schemas.BatchRequest).toBe(BODY_SCHEMAS.batch);
  });

  it('gives every error its shape: V2 routes {error}, OpenAI routes {error: {message, type}}, the gateway {message}', () => {
    const ref = (path: string, method: string, status: string) =>
      doc.paths[path][method].responses[status].content['application/json'].schema.$ref;
    expect(ref('/v2/models/{model}/infer', 'post', '400')).toBe('#/components/schemas/Error');
    expect(ref('/v1/chat/completions', 'post', '400')).toBe('#/components/schemas/OpenAIError');
    expect(ref('/v1/models', 'get', '500')).toBe('#/components/schemas/OpenAIError');
    expect(ref('/v2/models', 'get', '403')).toBe('#/components/schemas/GatewayError');
  });

  it("gives OpenAI routes' error examples the type and code the routes answer with", () => {
    const example = (path: string, status: string) =>
      doc.paths[path].post.responses[status].content['application/json'].example.error;
    const chat = '/v1/chat/completions';
    expect(example(chat, '400')).toMatchObject({ type: 'invalid_request_error', code: null });
    expect(example(chat, '404')).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found' });
    expect(example(chat, '503')).toMatchObject({ type: 'service_unavailable_error' });
  });

  it('has examples that validate against their schemas', () => {
    const ajv = new Ajv2020({ strict: false });
    // The formats the document uses, checked rather than ignored: an example date must be a date.
    ajv.addFormat(
      'date',
      (text: string) => /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(text)),
    );
    ajv.addFormat('date-time', (text: string) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text),
    );
    ajv.addSchema({ $id: 'doc', components: doc.components });
    const all = examples();
    expect(all.length).toBeGreaterThan(30);
    for (const { where, schema, example } of all) {
      const validate = ajv.compile(
        JSON.parse(JSON.stringify(schema).replaceAll('"#/components', '"doc#/components')),
      );
      expect(validate(example), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  it('has request examples that the real parsers accept', () => {
    const body = (path: string) => doc.paths[path].post.requestBody.content['application/json'].example;
    expect(parseInferRequest(body('/v2/models/{model}/infer'), iris, 100).inputs[0]?.shape).toEqual([1, 4]);
    expect(parsePredictRequest(body('/v1/models/{model}/predict'), iris, 100).shape).toEqual([2, 4]);
    expect(parseChatRequest(body('/v1/chat/completions')).messages).toHaveLength(1);
    expect(parseCompletionRequest(body('/v1/completions')).prompt).toBe('Once upon');
  });

  it('states the bounds the chat parser checks', () => {
    const chat = doc.components.schemas.ChatRequest.properties;
    expect(chat.temperature).toEqual({ type: ['number', 'null'], minimum: 0, maximum: 2 });
    expect(() =>
      parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 2.1 }),
    ).toThrow(/temperature/);
  });
});

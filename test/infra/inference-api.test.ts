/**
 * The InferenceApi construct in the synthesized ModelGate template: exactly the route table's methods and keys,
 * proxy and streaming integrations and their timeouts, the key authorizer, validators, usage plans, logging.
 */
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, BODY_SCHEMAS } from '../../functions/api/routes.ts';
import { CHAT_ROUTES } from '../../functions/chat/routes.ts';
import { parseConfig } from '../../infra/config.ts';
import { InferenceApi, type InferenceApiProps } from '../../infra/constructs/inference-api.ts';
import { KEYLESS_RESOURCES, keylessResources } from '../fixtures/routes.ts';
import { bareStack, inlineHandler, modelGateTemplate } from './helpers.ts';

const { template } = modelGateTemplate({
  usagePlans: [
    { name: 'free', throttle: { rateLimit: 5, burstLimit: 10 }, quota: { limit: 1000, period: 'DAY' } },
    { name: 'pro', throttle: { rateLimit: 500, burstLimit: 1000 } },
  ],
  apiKeys: [
    { name: 'trial', plan: 'free' },
    { name: 'acme', plan: 'pro' },
  ],
});
const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
const resources = template.findResources('AWS::ApiGateway::Resource');

/** Full path of an AWS::ApiGateway::Resource, rebuilt from its parents. */
function pathOf(ref: { Ref?: string; 'Fn::GetAtt'?: string[] }): string {
  if (!ref.Ref) return '';
  const resource = resources[ref.Ref];
  return `${pathOf(resource?.Properties.ParentId)}/${resource?.Properties.PathPart}`;
}

describe('InferenceApi', () => {
  it('creates exactly the routes of the table, with API keys on all but health, the API description and its pages', () => {
    const created = methods.map((m) => ({
      method: m.Properties.HttpMethod,
      resource: pathOf(m.Properties.ResourceId),
      apiKeyRequired: m.Properties.ApiKeyRequired,
    }));
    const expected = [...API_ROUTES, ...CHAT_ROUTES].map(({ method, resource, apiKeyRequired }) => ({
      method,
      resource,
      apiKeyRequired,
    }));
    expect(created.sort((a, b) => (a.resource + a.method).localeCompare(b.resource + b.method))).toEqual(
      expected.sort((a, b) => (a.resource + a.method).localeCompare(b.resource + b.method)),
    );
    expect(keylessResources(created)).toEqual(KEYLESS_RESOURCES);
    // The per-model document names a model's inputs: it needs a key like the model itself.
    expect(created).toContainEqual({
      method: 'GET',
      resource: '/v2/models/{model}/openapi.json',
      apiKeyRequired: true,
    });
  });

  it('proxies every method to its function, chat routes as response streams', () => {
    for (const m of methods) {
      expect(m.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      const chat = CHAT_ROUTES.some((r) => r.resource === pathOf(m.Properties.ResourceId));
      const uri = JSON.stringify(m.Properties.Integration.Uri);
      expect(uri).toContain(chat ? 'ChatFunction' : 'InferenceFunction');
      if (chat) {
        expect(m.Properties.Integration.ResponseTransferMode).toBe('STREAM');
        expect(uri).toContain('response-streaming-invocations');
      } else expect(m.Properties.Integration.ResponseTransferMode).toBeUndefined();
    }
  });

  it('lets a streamed answer run 15 minutes by default, buffered routes keep the 29 s default', () => {
    for (const m of methods) {
      const chat = CHAT_ROUTES.some((r) => r.resource === pathOf(m.Properties.ResourceId));
      expect(m.Properties.Integration.TimeoutInMillis).toBe(chat ? 900_000 : undefined);
    }
    const chatFunction = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).includes('chat'),
    );
    expect(chatFunction?.Properties.Timeout).toBe(900);
  });

  it("takes the streamed routes' timeout from chat.timeoutSeconds, for the integration and the chat function", () => {
    const { template: short } = modelGateTemplate({ chat: { timeoutSeconds: 120 } });
    const streamed = Object.values(short.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.Integration.ResponseTransferMode === 'STREAM',
    );
    expect(streamed.map((m) => m.Properties.Integration.TimeoutInMillis)).toEqual([120_000, 120_000]);
    const chatFunction = Object.values(short.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).includes('chat'),
    );
    expect(chatFunction?.Properties.Timeout).toBe(120);
  });

  it('refuses a streamed timeout API Gateway would not take, in the config and in the construct', () => {
    expect(() => parseConfig({ chat: { timeoutSeconds: 901 } })).toThrow(
      /chat.timeoutSeconds: at most 900 seconds: API Gateway streams an answer for 15 minutes at most/,
    );
    expect(() => parseConfig({ chat: { timeoutSeconds: 0 } })).toThrow(/chat.timeoutSeconds: /);
    expect(
      building((handler) => ({
        streaming: { handler, routes: CHAT_ROUTES, timeout: Duration.minutes(16) },
      })),
    ).toThrow(/streaming.timeout must be 50 ms to 15 minutes .*, got 960000 ms/);
  });

  it('reads the key from x-api-key or a bearer token through an uncached REQUEST authorizer', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      AuthorizerResultTtlInSeconds: 0,
      AuthorizerUri: Match.anyValue(),
    });
    for (const m of methods) {
      if (m.Properties.ApiKeyRequired) {
        expect(m.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: expect.anything() });
      } else expect(m.Properties.AuthorizationType).toBe('NONE');
    }
  });

  it('validates request bodies and path parameters, and answers invalid bodies in V2 error shape', () => {
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const posts = methods.filter(
      (m) =>
        m.Properties.HttpMethod === 'POST' &&
        !CHAT_ROUTES.some((r) => r.resource === pathOf(m.Properties.ResourceId)),
    );
    expect(posts).toHaveLength(API_ROUTES.filter((r) => r.method === 'POST').length);
    for (const post of posts) {
      expect(post.Properties.RequestModels['application/json']).toBeDefined();
      expect(post.Properties.RequestValidatorId).toBeDefined();
    }
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({ required: ['inputs'], $schema: 'http://json-schema.org/draft-04/schema#' }),
    });
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ required: ['instances'] }),
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: {
        'application/json': '{"error": "invalid request body: $context.error.validationErrorString"}',
      },
    });
  });

  it('has a usage plan per tier with its throttle and quota, and each key in its plan', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'free',
      Throttle: { RateLimit: 5, BurstLimit: 10 },
      Quota: { Limit: 1000, Period: 'DAY' },
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'pro',
      Throttle: { RateLimit: 500, BurstLimit: 1000 },
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 2);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 2);
  });

  it('logs access and execution, traces, and opens no CORS preflight', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({ LoggingLevel: 'INFO', MetricsEnabled: true, DataTraceEnabled: false }),
      ],
    });
    expect(methods.some((m) => m.Properties.HttpMethod === 'OPTIONS')).toBe(false);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });

  it('refuses a key that names a plan it does not have', () => {
    expect(building(() => ({ apiKeys: [{ name: 'k', plan: 'b' }] }))).toThrow(
      "api key 'k' names plan 'b', which is not one of the usagePlans",
    );
  });
});

/** Building an InferenceApi over an inline handler: plan `a`, key `k`, and what `overrides` change. */
function building(overrides: (handler: lambda.IFunction) => Partial<InferenceApiProps>): () => InferenceApi {
  const stack = bareStack();
  const handler = inlineHandler(stack);
  return () =>
    new InferenceApi(stack, 'Api', {
      handler,
      routes: API_ROUTES,
      bodySchemas: BODY_SCHEMAS,
      usagePlans: [{ name: 'a' }],
      apiKeys: [{ name: 'k', plan: 'a' }],
      ...overrides(handler),
    });
}

/**
 * The REST API construct: an API Gateway method per route on the api function (or, streamed, the chat
 * function), API keys, usage plans, the key authorizer, body validation and logs.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteSpec } from '../../functions/api/routes.ts';
import { API_GATEWAY_LIMITS } from '../api-gateway-limits.ts';
import { GUARD_RULES, guardRule } from '../checks/guard.ts';

export interface UsagePlanSpec {
  readonly name: string;
  readonly description?: string | undefined;
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number } | undefined;
  readonly quota?: { readonly limit: number; readonly period: 'DAY' | 'WEEK' | 'MONTH' } | undefined;
}

export interface InferenceApiProps {
  /** Lambda proxy integration target of every route. */
  readonly handler: lambda.IFunction;
  /** Resources and methods to create. */
  readonly routes: readonly RouteSpec[];
  /** Draft-4 JSON schemas by name, for routes that name a `bodySchema`. */
  readonly bodySchemas: Readonly<Record<string, object>>;
  /** Usage plans (tiers); at least one. */
  readonly usagePlans: readonly UsagePlanSpec[];
  /** API keys to create, each in a named plan; at least one. */
  readonly apiKeys: ReadonlyArray<{ readonly name: string; readonly plan: string }>;
  /**
   * @default - 'prod'
   */
  readonly stageName?: string;
  /**
   * @default - logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Routes served by a response-streaming function (integration mode STREAM), and their
   * integration timeout: how long one answer may stream, at most 15 minutes.
   * @default - none; `timeout` 15 minutes
   */
  readonly streaming?: {
    readonly handler: lambda.IFunction;
    readonly routes: readonly RouteSpec[];
    readonly timeout?: Duration;
  };
  /**
   * A REQUEST authorizer that reads the key from `x-api-key` or a bearer token
   * and returns it as the usage identifier (API key source AUTHORIZER).
   * @default - keys are read from `x-api-key` only
   */
  readonly authorizer?: lambda.IFunction;
}

const PERIODS = { DAY: apigw.Period.DAY, WEEK: apigw.Period.WEEK, MONTH: apigw.Period.MONTH } as const;

/**
 * The REST API: one Lambda proxy method per route, API keys on every model
 * route, usage plans with throttle and quota, body validation where API
 * Gateway can do it, access logs and stage logging, X-Ray, no CORS.
 */
export class InferenceApi extends Construct {
  public readonly api: apigw.RestApi;
  public readonly accessLogs: logs.LogGroup;
  public readonly apiKeys: apigw.IApiKey[] = [];
  public readonly usagePlans: Record<string, apigw.UsagePlan> = {};

  constructor(scope: Construct, id: string, props: InferenceApiProps) {
    super(scope, id);
    if (props.usagePlans.length === 0) throw new Error('usagePlans must name at least one plan');
    if (props.apiKeys.length === 0) throw new Error('apiKeys must name at least one key');
    for (const key of props.apiKeys) {
      if (!props.usagePlans.some((p) => p.name === key.plan)) {
        throw new Error(`api key '${key.name}' names plan '${key.plan}', which is not one of the usagePlans`);
      }
    }
    const streamTimeout =
      props.streaming?.timeout ?? Duration.millis(API_GATEWAY_LIMITS.streamedTimeoutMaxMs);
    const streamMs = streamTimeout.toMilliseconds();
    if (streamMs < 50 || streamMs > API_GATEWAY_LIMITS.streamedTimeoutMaxMs) {
      throw new Error(
        `streaming.timeout must be 50 ms to 15 minutes (API Gateway's limits for a streamed integration), got ${streamMs} ms`,
      );
    }
    for (const route of props.routes) {
      if (route.bodySchema && !props.bodySchemas[route.bodySchema]) {
        throw new Error(
          `route ${route.method} ${route.resource} names body schema '${route.bodySchema}', which is not defined`,
        );
      }
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    });
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'ModelGate inference API',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      apiKeySourceType: props.authorizer ? apigw.ApiKeySourceType.AUTHORIZER : apigw.ApiKeySourceType.HEADER,
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.INFO,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
      },
    });

    const integration = new apigw.LambdaIntegration(props.handler, { proxy: true });
    const validator = this.api.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const models: Record<string, apigw.Model> = {};
    for (const [name, schema] of Object.entries(props.bodySchemas)) {
      models[name] = this.api.addModel(`${pascal(name)}Request`, {
        contentType: 'application/json',
        schema: toJsonSchema(schema),
      });
    }
    this.api.addGatewayResponse('BadRequestBody', {
      type: apigw.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json': '{"error": "invalid request body: $context.error.validationErrorString"}',
      },
    });

    // Clients send the key in one of two headers, and a cached authorizer needs every identity
    // source present: so no authorizer cache. The authorizer does no I/O; API Gateway still
    // validates, throttles and meters the key it returns.
    const authorizer = props.authorizer
      ? new apigw.RequestAuthorizer(this, 'KeyAuthorizer', {
          handler: props.authorizer,
          identitySources: [],
          resultsCacheTtl: Duration.seconds(0),
        })
      : undefined;
    const streaming = props.streaming
      ? new apigw.LambdaIntegration(props.streaming.handler, {
          proxy: true,
          responseTransferMode: apigw.ResponseTransferMode.STREAM,
          // Unset, API Gateway would cut every answer at the buffered default of 29 s.
          timeout: streamTimeout,
        })
      : undefined;
    const routes = [
      ...props.routes.map((route) => ({ route, target: integration })),
      ...(props.streaming?.routes ?? []).map((route) => ({
        route,
        target: streaming as apigw.LambdaIntegration,
      })),
    ];
    for (const { route, target } of routes) {
      const resource = this.api.root.resourceForPath(route.resource);
      const model = route.bodySchema ? models[route.bodySchema] : undefined;
      const pathParameters = [...route.resource.matchAll(/\{(\w+)\}/g)].map(
        (m) => `method.request.path.${m[1]}`,
      );
      resource.addMethod(route.method, target, {
        apiKeyRequired: route.apiKeyRequired,
        ...(authorizer &&
          route.apiKeyRequired && { authorizer, authorizationType: apigw.AuthorizationType.CUSTOM }),
        ...((model || pathParameters.length > 0) && { requestValidator: validator }),
        ...(pathParameters.length > 0 && {
          requestParameters: Object.fromEntries(pathParameters.map((p) => [p, true])),
        }),
        ...(model && { requestModels: { 'application/json': model } }),
      });
    }

    for (const plan of props.usagePlans) {
      this.usagePlans[plan.name] = this.api.addUsagePlan(`Plan${pascal(plan.name)}`, {
        name: plan.name,
        description: plan.description,
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
        ...(plan.throttle && {
          throttle: { rateLimit: plan.throttle.rateLimit, burstLimit: plan.throttle.burstLimit },
        }),
        ...(plan.quota && { quota: { limit: plan.quota.limit, period: PERIODS[plan.quota.period] } }),
      });
    }
    for (const key of props.apiKeys) {
      // Tied to the stage through its usage plan only (no StageKeys): the functions may then name
      // key ids (budgets by key) without a cycle through the deployment that invokes them.
      const apiKey = new apigw.ApiKey(this.api, `Key${pascal(key.name)}`, {
        description: `ModelGate API key '${key.name}'`,
      });
      this.usagePlans[key.plan]?.addApiKey(apiKey);
      this.apiKeys.push(apiKey);
    }

    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'Clients authenticate with API keys metered by usage plans (apiKeyRequired on every model, registry and batch route); open are only the Open Inference Protocol health and server-metadata routes, as the protocol expects, and the API description (/openapi.json), the reference and console pages and their static assets, which carry no data: every read they make needs a key.',
      },
      {
        id: 'HIPAA.Security-APIGWCacheEnabledAndEncrypted',
        reason:
          "Predictions are POSTs whose answer depends on the body, which API Gateway caching does not key on; a cache would serve one client another client's answer.",
      },
      {
        id: 'HIPAA.Security-APIGWSSLEnabled',
        reason:
          'Stage client certificates authenticate API Gateway to HTTP backends; every integration here is a Lambda function invoked through IAM.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'The API serves machine clients with API keys, not Cognito users.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'A WAF web ACL costs per rule and request; usage-plan throttling and quotas bound abuse per key. Operators who need WAF attach a web ACL to the stage.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'API Gateway needs an account-level CloudWatch role for stage logging; this AWS-managed policy is the documented one and grants only CloudWatch Logs writes.',
      },
    );
    // Every invoke permission CDK adds for a method (under the API) or the authorizer (under its function).
    const scoped = {
      id: guardRule(GUARD_RULES.lambdaPermission),
      reason:
        "Each permission names the principal apigateway.amazonaws.com and a SourceArn of this API's own method or authorizer in this account (arn:<partition>:execute-api:<region>:<account>:<api id>/...); CDK writes that ARN as an Fn::Join, which the rule does not read. The infra tests check every permission's principal and SourceArn.",
    };
    Validations.of(this.api).acknowledge(scoped);
    if (props.authorizer) Validations.of(props.authorizer).acknowledge(scoped);
  }

  /** Base URL of the deployed stage. */
  get url(): string {
    return this.api.url;
  }
}

function pascal(name: string): string {
  return name.replace(/(^|[-_])(\w)/g, (_, __, c: string) => c.toUpperCase());
}

const TYPES: Record<string, apigw.JsonSchemaType> = {
  object: apigw.JsonSchemaType.OBJECT,
  array: apigw.JsonSchemaType.ARRAY,
  string: apigw.JsonSchemaType.STRING,
  integer: apigw.JsonSchemaType.INTEGER,
  number: apigw.JsonSchemaType.NUMBER,
  boolean: apigw.JsonSchemaType.BOOLEAN,
};

/** A plain draft-4 schema object as CDK's JsonSchema (whose `type` is an enum). */
function toJsonSchema(schema: object, root = true): apigw.JsonSchema {
  const source = schema as Record<string, unknown>;
  const out: Record<string, unknown> = root ? { schema: apigw.JsonSchemaVersion.DRAFT4 } : {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'type') out.type = TYPES[value as string];
    else if (key === 'items') out.items = toJsonSchema(value as object, false);
    else if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, object>).map(([k, v]) => [k, toJsonSchema(v, false)]),
      );
    } else out[key] = value;
  }
  return out as apigw.JsonSchema;
}

/**
 * The platform configuration, `modelgate.config.json`: its schema and defaults (shared by the CDK app and
 * local mode), and reading and validating a file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { KeyLimits } from '../functions/core/env.ts';
import { API_GATEWAY_LIMITS } from './api-gateway-limits.ts';
import { GpuInstanceType } from './gpu-instances.ts';
import { LargeModelSchema } from './large-models-config.ts';

/** Budgets and per-minute limits of a key (its own, or every key of a plan). */
const LimitsSchema = z
  .object({
    tokensPerMonth: z.number().int().positive().optional(),
    requestsPerMonth: z.number().int().positive().optional(),
    /** Per key and model: prompt and completion tokens of language models. */
    tokensPerMinute: z.number().int().positive().optional(),
    /** Per key and model. */
    requestsPerMinute: z.number().int().positive().optional(),
  })
  .strict();

const PlanSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'plan names are 1-64 letters, digits, _ or -'),
    description: z.string().optional(),
    throttle: z
      .object({
        rateLimit: z.number().positive().describe('steady-state requests per second per key'),
        burstLimit: z.number().int().positive().describe('largest burst per key'),
      })
      .optional(),
    quota: z
      .object({
        limit: z.number().int().positive(),
        period: z.enum(['DAY', 'WEEK', 'MONTH']),
      })
      .optional(),
    /** Budgets and per-minute limits of every key in the plan, enforced by the functions (docs/TENANTS.md). */
    limits: LimitsSchema.optional(),
  })
  .strict();

const STREAM_TIMEOUT_MAX_SECONDS = API_GATEWAY_LIMITS.streamedTimeoutMaxMs / 1000;

/**
 * Schema of `modelgate.config.json`, shared by the CDK app and local mode.
 * Every field has a default, so `{}` is a valid configuration.
 */
export const ConfigSchema = z
  .object({
    /** CloudFormation stack name. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default('ModelGate'),
    /** API Gateway stage. */
    stage: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,64}$/)
      .default('prod'),
    /** Deployment region; the CDK environment's when absent. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
      .optional(),
    api: z
      .object({
        memoryMiB: z.number().int().min(128).max(10240).default(2048),
        timeoutSeconds: z.number().int().min(1).max(29).default(29),
        ephemeralStorageMiB: z.number().int().min(512).max(10240).default(2048),
        reservedConcurrency: z.number().int().positive().optional(),
        /** Largest number of tensor elements in one request. */
        maxElements: z.number().int().positive().default(1_000_000),
        /** How long aliases and manifests are cached before S3 is read again. */
        registryTtlSeconds: z.number().int().min(0).max(300).default(15),
        /** In-memory ONNX session cache, in MiB of model files. */
        sessionCacheMiB: z.number().int().positive().default(512),
      })
      .strict()
      .default({
        memoryMiB: 2048,
        timeoutSeconds: 29,
        ephemeralStorageMiB: 2048,
        maxElements: 1_000_000,
        registryTtlSeconds: 15,
        sessionCacheMiB: 512,
      }),
    /** The OpenAI routes (`/v1/chat/completions`, `/v1/completions`), served by the chat function. */
    chat: z
      .object({
        /**
         * How long one chat or completion answer may take, streamed or not: the integration timeout
         * of the two streamed routes and the chat function's timeout.
         */
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(
            STREAM_TIMEOUT_MAX_SECONDS,
            `at most ${STREAM_TIMEOUT_MAX_SECONDS} seconds: API Gateway streams an answer for 15 minutes at most`,
          )
          .default(STREAM_TIMEOUT_MAX_SECONDS),
      })
      .strict()
      .default({ timeoutSeconds: STREAM_TIMEOUT_MAX_SECONDS }),
    /** Usage plans (tiers). Every API key belongs to one. */
    usagePlans: z
      .array(PlanSchema)
      .min(1)
      .default([
        {
          name: 'standard',
          description: 'Default tier',
          throttle: { rateLimit: 100, burstLimit: 200 },
          quota: { limit: 1_000_000, period: 'MONTH' },
        },
      ]),
    /** API keys to create, each in a usage plan. The first one's id is a stack output. */
    apiKeys: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
            plan: z.string(),
            /** This key's own budgets and limits, each over its plan's. */
            limits: LimitsSchema.optional(),
          })
          .strict(),
      )
      .min(1)
      .default([{ name: 'default', plan: 'standard' }]),
    modelStore: z
      .object({
        /** Days before a replaced (noncurrent) object version is deleted. */
        noncurrentVersionExpirationDays: z.number().int().positive().default(30),
        /** Days before access logs are deleted. */
        accessLogExpirationDays: z.number().int().positive().default(90),
        /** `retain` keeps the bucket when the stack is deleted. */
        removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
      })
      .strict()
      .default({ noncurrentVersionExpirationDays: 30, accessLogExpirationDays: 90, removalPolicy: 'retain' }),
    /** Dashboard and alarms; alarms notify an SNS topic. */
    monitoring: z
      .object({
        /** An address to subscribe to the alarm topic (confirmed by email). */
        alarmEmail: z.email().optional(),
        /** 5xx answers, in percent of API requests, that raise the alarm. */
        api5xxRatePercent: z.number().positive().max(100).default(1),
        /** API p99 latency that raises the alarm, in milliseconds. */
        apiP99LatencyMs: z.number().int().positive().default(5000),
      })
      .strict()
      .default({ api5xxRatePercent: 1, apiP99LatencyMs: 5000 }),
    /** Usage per API key, model and day (DynamoDB). */
    usage: z
      .object({
        /** Days a day of usage is kept before DynamoDB's TTL deletes it. */
        retentionDays: z.number().int().min(1).max(3650).default(400),
      })
      .strict()
      .default({ retentionDays: 400 }),
    /**
     * CloudWatch Logs retention of function and API logs, in days. One year by default, what AWS
     * Control Tower's CT.CLOUDWATCH.PR.2 asks; fewer days are acknowledged in the synth report.
     */
    logRetentionDays: z.number().int().positive().default(365),
    /** Large models on SageMaker GPU endpoints. None by default: an endpoint costs money while it runs. */
    largeModels: z.array(LargeModelSchema).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const plans = new Set(config.usagePlans.map((p) => p.name));
    if (plans.size !== config.usagePlans.length) {
      ctx.addIssue({ code: 'custom', path: ['usagePlans'], message: 'usage plan names must be unique' });
    }
    const names = new Set(config.largeModels.map((m) => m.name));
    if (names.size !== config.largeModels.length) {
      ctx.addIssue({ code: 'custom', path: ['largeModels'], message: 'large model names must be unique' });
    }
    config.largeModels.forEach((m, i) => {
      try {
        GpuInstanceType.of(m.instanceType);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          path: ['largeModels', i, 'instanceType'],
          message: (error as Error).message,
        });
      }
      const min = m.minInstances ?? m.initialInstanceCount;
      const max = m.maxInstances ?? m.initialInstanceCount;
      if (!(min <= m.initialInstanceCount && m.initialInstanceCount <= max)) {
        ctx.addIssue({
          code: 'custom',
          path: ['largeModels', i],
          message: `instance counts must satisfy minInstances (${min}) <= initialInstanceCount (${m.initialInstanceCount}) <= maxInstances (${max})`,
        });
      }
      if (m.coldStartWaitSeconds > 0 && (min !== 0 || m.coldStartWaitSeconds >= config.chat.timeoutSeconds)) {
        ctx.addIssue({
          code: 'custom',
          path: ['largeModels', i, 'coldStartWaitSeconds'],
          message: `coldStartWaitSeconds needs minInstances 0 and must be under chat.timeoutSeconds (${config.chat.timeoutSeconds})`,
        });
      }
    });
    config.apiKeys.forEach((key, i) => {
      if (!plans.has(key.plan)) {
        ctx.addIssue({
          code: 'custom',
          path: ['apiKeys', i, 'plan'],
          message: `api key '${key.name}' names plan '${key.plan}', which is not in usagePlans (${[...plans].join(', ')})`,
        });
      }
    });
  });

export { type LargeModelConfig, protocolOf } from './large-models-config.ts';

export type ModelGateConfig = z.infer<typeof ConfigSchema>;

/** Validates a parsed configuration; the error lists every problem with its path. */
export function parseConfig(raw: unknown, source = 'configuration'): ModelGateConfig {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${source} is invalid:\n${problems.join('\n')}`);
  }
  return result.data;
}

/** Reads and validates a configuration file. */
export function loadConfig(path: string): ModelGateConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, path);
}

/** A key's budgets and limits: its own, each over its plan's. */
export function limitsOf(config: ModelGateConfig, keyName: string): KeyLimits {
  const key = config.apiKeys.find((k) => k.name === keyName);
  const plan = config.usagePlans.find((p) => p.name === key?.plan);
  return { ...plan?.limits, ...key?.limits };
}

/** The configuration of one large model (`largeModels[]`): container, model source, instances, scaling, local mode. */
import { z } from 'zod';
import { CONTAINER_PROTOCOLS, type ContainerProtocol } from '../functions/core/env.ts';

export const LargeModelSchema = z
  .object({
    /** The name clients use: OpenAI `model`, V2 model name. */
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'model names are 1-63 of a-z, 0-9, . _ -'),
    /** `lmi`, `tgi`, `triton`, or an image URI of your own. */
    container: z.string().min(1),
    /** What the container speaks; defaults to the preset's (lmi, tgi, v2 for triton). */
    protocol: z.enum(CONTAINER_PROTOCOLS).optional(),
    hfModelId: z.string().min(1).optional(),
    modelDataUrl: z
      .string()
      .regex(/^s3:\/\/[^/]+\/.+/, 'an S3 URL like s3://bucket/model.tar.gz')
      .optional(),
    instanceType: z.string(),
    initialInstanceCount: z.number().int().min(1).default(1),
    /** 0: an inference component on managed instance scaling that scales to zero when idle. */
    minInstances: z.number().int().min(0).optional(),
    maxInstances: z.number().int().min(1).optional(),
    targetInvocationsPerInstance: z.number().positive().default(60),
    /** With minInstances 0: minutes without a request before copies and instances go to zero. */
    scaleToZeroAfterMinutes: z.number().int().min(1).max(1440).default(15),
    /** With minInstances 0: seconds a request that finds no capacity is held (retrying) before a 503. */
    coldStartWaitSeconds: z.number().int().min(0).max(900).default(0),
    env: z.record(z.string(), z.string()).default({}),
    maxInputTokens: z.number().int().positive().optional(),
    maxTotalTokens: z.number().int().positive().optional(),
    startupTimeoutSeconds: z.number().int().min(60).max(3600).default(900),
    downloadTimeoutSeconds: z.number().int().min(60).max(3600).default(900),
    dataCaptureSamplingPercentage: z.number().min(0).max(100).default(10),
    /** Local mode only: forward this endpoint to a server of your own (TGI, vLLM) instead of the demo model. */
    localUrl: z.string().url().optional(),
    /** Local mode only, with minInstances 0: the component has capacity this long after its first request. */
    localColdStartSeconds: z.number().min(0).max(900).optional(),
    /**
     * Local mode only, with minInstances 0 and localColdStartSeconds: seconds without a request before the
     * component's copies go back to zero (default: scaleToZeroAfterMinutes, as deployed).
     */
    localScaleToZeroAfterSeconds: z.number().positive().max(86_400).optional(),
  })
  .strict()
  .refine((m) => Boolean(m.hfModelId) !== Boolean(m.modelDataUrl), {
    message: 'give exactly one model source: hfModelId or modelDataUrl',
  })
  .refine((m) => ['lmi', 'tgi', 'triton'].includes(m.container) || m.protocol !== undefined, {
    message: 'a container image of your own needs a protocol (openai, tgi, lmi or v2)',
  });

export type LargeModelConfig = z.infer<typeof LargeModelSchema>;

const PRESET_PROTOCOLS: Record<string, ContainerProtocol> = { lmi: 'lmi', tgi: 'tgi', triton: 'v2' };

/** What a large model's container speaks: as configured, else its preset's. */
export function protocolOf(model: LargeModelConfig): ContainerProtocol {
  return model.protocol ?? (PRESET_PROTOCOLS[model.container] as ContainerProtocol);
}

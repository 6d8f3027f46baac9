/**
 * Inference components in the SageMaker Runtime emulator: the InferenceComponentName checks SageMaker makes,
 * and a component that starts at zero copies and has capacity a while after its first request.
 */
import { NO_CAPACITY_MESSAGE } from '../../functions/core/runners/sagemaker.ts';
import type { EndpointTarget } from './emulator.ts';

/** The header InvokeEndpoint's InferenceComponentName travels in. */
export const INFERENCE_COMPONENT_HEADER = 'x-amzn-sagemaker-inference-component';

/** When each cold-starting component has capacity: set by the first request that found none. */
const warmAt = new WeakMap<EndpointTarget, number>();

/** The ValidationError message SageMaker would answer for this component header, or undefined to serve. */
export function componentRefusal(
  endpoint: string,
  target: EndpointTarget,
  header: string | string[] | undefined,
): string | undefined {
  const asked = typeof header === 'string' ? header : undefined;
  if (!target.component) {
    return asked ? `Endpoint ${endpoint} hosts no inference component ${asked}.` : undefined;
  }
  if (!asked) {
    return 'Inference Component Name header is required for endpoints to which you plan to deploy inference components. Please include Inference Component Name header or consider using SageMaker models.';
  }
  if (asked !== target.component) return `Inference component ${asked} not found on endpoint ${endpoint}.`;
  if (target.coldStartMs === undefined) return undefined;
  const now = Date.now();
  const at = warmAt.get(target) ?? now + target.coldStartMs;
  warmAt.set(target, at);
  return now < at ? NO_CAPACITY_MESSAGE : undefined;
}

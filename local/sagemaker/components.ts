/**
 * Inference components in the SageMaker Runtime emulator: the InferenceComponentName checks SageMaker makes,
 * and a component that starts at zero copies and has capacity a while after its first request.
 */
import type { LargeModelBinding } from '../../functions/core/env.ts';
import { NO_CAPACITY_MESSAGE } from '../../functions/core/runners/sagemaker.ts';
import type { LargeModelConfig } from '../../infra/config.ts';
import type { EndpointTarget } from './emulator.ts';

/** The header InvokeEndpoint's InferenceComponentName travels in. */
export const INFERENCE_COMPONENT_HEADER = 'x-amzn-sagemaker-inference-component';

/** When each cold-starting component has capacity: set by the first request that found none. */
const warmAt = new WeakMap<EndpointTarget, number>();

/** The inference component a model with minInstances 0 gets locally. */
const localComponent = (model: string) => `${model}-ic`;

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

/** A declared model with minInstances 0, as its emulated endpoint: an inference component, cold-starting if asked. */
export function componentTarget(model: LargeModelConfig): Pick<EndpointTarget, 'component' | 'coldStartMs'> {
  if (model.minInstances !== 0) return {};
  return {
    component: localComponent(model.name),
    ...(model.localColdStartSeconds !== undefined && { coldStartMs: model.localColdStartSeconds * 1000 }),
  };
}

/** What the functions are told about such a model: the component to name, the cold-start wait. */
export function componentBinding(
  model: LargeModelConfig,
): Pick<LargeModelBinding, 'component' | 'coldStartWaitSeconds'> {
  if (model.minInstances !== 0) return {};
  return {
    component: localComponent(model.name),
    ...(model.coldStartWaitSeconds > 0 && { coldStartWaitSeconds: model.coldStartWaitSeconds }),
  };
}

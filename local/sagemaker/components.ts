/**
 * Inference components in the SageMaker Runtime emulator: the InferenceComponentName checks SageMaker makes,
 * and a component's copies: none at first, one a while after a request found none, none again after an idle time.
 */
import type { ServerResponse } from 'node:http';
import type { LargeModelBinding } from '../../functions/core/env.ts';
import { NO_CAPACITY } from '../../functions/core/runners/no-capacity.ts';
import type { LargeModelConfig } from '../../infra/config.ts';
import type { EndpointTarget } from './emulator.ts';

/** The header InvokeEndpoint's InferenceComponentName travels in. */
export const INFERENCE_COMPONENT_HEADER = 'x-amzn-sagemaker-inference-component';

/** The inference component a model with minInstances 0 gets locally. */
const localComponent = (model: string) => `${model}-ic`;

/**
 * The copies of an emulated inference component, as the deployed scaling policies move them: a
 * request that finds none is refused (SageMaker's no-capacity ValidationError) and starts a
 * scale-out that ends `coldStartMs` later (the step policy on NoCapacityInvocationFailures); with
 * no request for `idleMs` after the last one ended, the copies go back to zero (the idle policy).
 */
export class ComponentCapacity {
  private state: 'zero' | 'starting' | 'up' = 'zero';
  private readyAt = 0;
  private lastActive = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly coldStartMs: number,
    readonly idleMs: number,
    private readonly onChange?: (copies: 0 | 1) => void,
  ) {}

  /** Copies serving now: 0 or 1. */
  get copies(): 0 | 1 {
    this.settle(Date.now());
    return this.state === 'up' ? 1 : 0;
  }

  /** Admits an invocation (true: call `done()` when it ends), or refuses it for no capacity, scaling out. */
  admit(): boolean {
    const now = Date.now();
    this.settle(now);
    if (this.state === 'up') {
      this.inFlight++;
      this.arm();
      return true;
    }
    if (this.state === 'zero') {
      this.state = 'starting';
      this.readyAt = now + this.coldStartMs;
      this.arm();
    }
    return false;
  }

  /** An admitted invocation ended: the idle time counts from the last one to end. */
  done(): void {
    this.inFlight--;
    this.lastActive = Date.now();
    this.arm();
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private settle(now: number): void {
    if (this.state === 'starting' && now >= this.readyAt) {
      this.state = 'up';
      this.lastActive = this.readyAt;
      this.onChange?.(1);
    }
    if (this.state === 'up' && this.inFlight === 0 && now >= this.lastActive + this.idleMs) {
      this.state = 'zero';
      this.onChange?.(0);
    }
  }

  /** A timer at the next change the clock alone makes (scale-out done, idle time spent), so state moves without traffic. */
  private arm(): void {
    clearTimeout(this.timer);
    const at =
      this.state === 'starting'
        ? this.readyAt
        : this.state === 'up' && this.inFlight === 0
          ? this.lastActive + this.idleMs
          : undefined;
    if (at === undefined) return;
    this.timer = setTimeout(
      () => {
        this.settle(Date.now());
        this.arm();
      },
      Math.max(0, at - Date.now()),
    );
    this.timer.unref();
  }
}

/**
 * The ValidationError message SageMaker would answer for this component header, or undefined to serve;
 * an invocation served by a component counts as traffic until `res` closes.
 */
export function componentRefusal(
  endpoint: string,
  target: EndpointTarget,
  header: string | string[] | undefined,
  res: ServerResponse,
): string | undefined {
  const asked = typeof header === 'string' ? header : undefined;
  if (!target.component) {
    return asked ? `Endpoint ${endpoint} hosts no inference component ${asked}.` : undefined;
  }
  if (!asked) {
    return 'Inference Component Name header is required for endpoints to which you plan to deploy inference components. Please include Inference Component Name header or consider using SageMaker models.';
  }
  if (asked !== target.component) return `Inference component ${asked} not found on endpoint ${endpoint}.`;
  const { capacity } = target;
  if (!capacity) return undefined;
  if (!capacity.admit()) return NO_CAPACITY.message;
  res.once('close', () => capacity.done());
  return undefined;
}

/**
 * A declared model with minInstances 0, as its emulated endpoint: an inference component; with
 * localColdStartSeconds, its copies start at zero, scale out on demand and in after the idle time
 * (localScaleToZeroAfterSeconds, else scaleToZeroAfterMinutes as deployed).
 */
export function componentTarget(
  model: LargeModelConfig,
  onEvent?: (message: string) => void,
): Pick<EndpointTarget, 'component' | 'capacity'> {
  if (model.minInstances !== 0) return {};
  const component = localComponent(model.name);
  if (model.localColdStartSeconds === undefined) return { component };
  const idleSeconds = model.localScaleToZeroAfterSeconds ?? model.scaleToZeroAfterMinutes * 60;
  const capacity = new ComponentCapacity(model.localColdStartSeconds * 1000, idleSeconds * 1000, (copies) =>
    onEvent?.(
      copies === 1
        ? `inference component ${component} scaled out to 1 copy`
        : `inference component ${component} scaled in to 0 copies after ${idleSeconds} s without a request`,
    ),
  );
  return { component, capacity };
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

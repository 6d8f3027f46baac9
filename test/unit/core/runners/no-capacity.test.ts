/** Recognising SageMaker's no-capacity refusal: by type, status and fault, then the documented message. */
import { ModelError, SageMakerRuntimeClient, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { describe, expect, it } from 'vitest';
import { ServiceUnavailableError, UpstreamError } from '../../../../functions/core/errors.ts';
import { isNoCapacity, NO_CAPACITY } from '../../../../functions/core/runners/no-capacity.ts';
import { ColdStartError, SageMakerRunner } from '../../../../functions/core/runners/sagemaker.ts';

const validation = (message: string, status = 400) =>
  new ValidationError({ message, $metadata: { httpStatusCode: status } });

describe('isNoCapacity', () => {
  it('is the SDK’s ValidationError, 400, carrying the documented message', () => {
    expect(isNoCapacity(validation(NO_CAPACITY.message))).toBe(true);
    // The advice after the first sentence may change without breaking the match.
    expect(
      isNoCapacity(validation('Inference Component has no capacity to process this request. Retry.')),
    ).toBe(true);
    // Nor a prefix, or the capitalisation.
    expect(
      isNoCapacity(validation('Inference component my-ic Has No Capacity To Process This Request')),
    ).toBe(true);
  });

  it('is not another ValidationError, another type, or another status', () => {
    expect(isNoCapacity(validation('Inference component x-ic not found on endpoint e.'))).toBe(false);
    expect(isNoCapacity(validation('The model says: no capacity left in the KV cache'))).toBe(false);
    expect(isNoCapacity(validation(NO_CAPACITY.message, 500))).toBe(false);
    const model = new ModelError({ message: NO_CAPACITY.message, $metadata: { httpStatusCode: 424 } });
    expect(isNoCapacity(model)).toBe(false);
    expect(isNoCapacity(new Error(NO_CAPACITY.message))).toBe(false);
    expect(isNoCapacity(undefined)).toBe(false);
  });
});

describe('SageMakerRunner.translate', () => {
  const runner = (component?: string) =>
    new SageMakerRunner(new SageMakerRuntimeClient({ region: 'us-east-1' }), {
      name: 'm',
      endpoint: 'e',
      protocol: 'tgi',
      ...(component && { component }),
    });

  it('turns the refusal into a cold start (503, Retry-After) for a model on an inference component', () => {
    const error = runner('m-ic').translate(validation(NO_CAPACITY.message));
    expect(error).toBeInstanceOf(ColdStartError);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
  });

  it('leaves other ValidationErrors, and models without a component, as upstream failures', () => {
    expect(runner('m-ic').translate(validation('Inference component x not found.'))).toBeInstanceOf(
      UpstreamError,
    );
    expect(runner().translate(validation(NO_CAPACITY.message))).toBeInstanceOf(UpstreamError);
  });
});

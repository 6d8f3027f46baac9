/**
 * How SageMaker Runtime turns away a request to an inference component that has no copies (scaled
 * to zero, or scaling out from zero), and how the relay recognises it. The emulator answers the same.
 */
import { ValidationError } from '@aws-sdk/client-sagemaker-runtime';

/**
 * The answer, as far as public sources state it:
 * - the error type is `ValidationError` (HTTP 400, a client fault): the SageMaker Runtime service
 *   model (botocore `sagemaker-runtime/2017-05-13/service-2.json`, the SDK's `ValidationError`)
 *   and boto3's `An error occurred (ValidationError) when calling the InvokeEndpoint operation: …`
 *   quoted in AWS's announcement, "Unlock cost savings with the new scale down to zero feature in
 *   SageMaker Inference" (AWS Machine Learning Blog, 2024-12-03);
 * - the message is the one below, verbatim from that post;
 * - SageMaker counts each such request in the `NoCapacityInvocationFailures` metric
 *   (docs: sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html).
 * The service model gives ValidationError no member but `Message`: there is no distinct error
 * code for this case, so after the type, status and fault the message is the only discriminator.
 */
export const NO_CAPACITY = {
  type: 'ValidationError',
  status: 400,
  message:
    'Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress (if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API.',
} as const;

/**
 * The words of the message's first sentence that say what happened, compared without case: the
 * advice after it, a prefix or the capitalisation may change without the meaning changing.
 */
const NO_CAPACITY_WORDS = 'has no capacity to process this request';

/**
 * Whether a SageMaker Runtime failure is the no-capacity refusal: by code first (the SDK's
 * `ValidationError`, HTTP 400, client fault), then, since that type covers every malformed
 * request too, by the words of the documented message's first sentence.
 */
export function isNoCapacity(error: unknown): boolean {
  if (!(error instanceof ValidationError) && (error as Error | undefined)?.name !== NO_CAPACITY.type) {
    return false;
  }
  const { $metadata, $fault, message } = error as ValidationError;
  if ($metadata?.httpStatusCode !== undefined && $metadata.httpStatusCode !== NO_CAPACITY.status)
    return false;
  if ($fault !== undefined && $fault !== 'client') return false;
  return typeof message === 'string' && message.toLowerCase().includes(NO_CAPACITY_WORDS);
}

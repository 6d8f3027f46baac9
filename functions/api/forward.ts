/** Tensor models on SageMaker endpoints (Triton): their V2 infer requests forwarded unchanged, admitted and counted per key. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { callerKey } from '../core/auth.ts';
import { BadRequestError } from '../core/errors.ts';
import { jsonBody } from '../core/http.ts';
import type { SageMakerRunner } from '../core/runners/sagemaker.ts';
import { recordServed, rowsOf } from '../core/usage/requests.ts';
import type { ApiUsage } from '../core/usage/route.ts';

/** A V2 request for a tensor model on a SageMaker endpoint, forwarded as it came. */
export async function forwardTensors(
  event: APIGatewayProxyEvent,
  endpoint: Pick<SageMakerRunner, 'invoke'>,
  usage: ApiUsage | undefined,
): Promise<APIGatewayProxyResult> {
  if (event.pathParameters?.version !== undefined) {
    throw new BadRequestError(
      `model '${event.pathParameters.model}' runs on an endpoint and has no versions: use POST /v2/models/${event.pathParameters.model}/infer`,
    );
  }
  const model = event.pathParameters?.model ?? '';
  const limited = usage?.admit && (await usage.admit(callerKey(event), model, false));
  const request = jsonBody(event, 'an Open Inference Protocol request {"inputs": [...]}');
  const answer = await endpoint.invoke(JSON.stringify(request));
  recordServed(usage?.sink, event, model, {
    rows: rowsOf({ outputs: (request as { inputs?: [] }).inputs }),
  });
  return {
    statusCode: 200,
    headers: { 'Content-Type': answer.contentType ?? 'application/json', ...limited },
    body: new TextDecoder().decode(answer.body),
  };
}

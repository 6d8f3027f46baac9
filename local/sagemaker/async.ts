/** InvokeEndpointAsync on loopback: the input read from S3, answered 202 at once, the output or failure written back to S3. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { callContainer } from './container-call.ts';
import type { EndpointTarget, SageMakerEmulatorOptions } from './emulator.ts';
import { collect, RuntimeFault } from './wire.ts';

function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}

export async function invokeAsync(
  name: string,
  target: EndpointTarget,
  req: IncomingMessage,
  res: ServerResponse,
  options: SageMakerEmulatorOptions,
  timeoutMs: number,
): Promise<void> {
  const location = req.headers['x-amzn-sagemaker-inputlocation'];
  const input = typeof location === 'string' ? parseS3Uri(location) : undefined;
  if (!input) {
    throw new RuntimeFault(
      'ValidationError',
      'X-Amzn-SageMaker-InputLocation must be an S3 URI, s3://bucket/key.',
    );
  }
  const { s3, asyncOutput } = options;
  if (!s3 || !asyncOutput)
    throw new RuntimeFault('ValidationError', `Endpoint ${name} has no async inference configuration.`);
  const id = (req.headers['x-amzn-sagemaker-inference-id'] as string | undefined) ?? randomUUID();
  const output = { bucket: asyncOutput.bucket, key: `${asyncOutput.prefix}${name}/output/${id}.out` };
  const failure = { bucket: asyncOutput.bucket, key: `${asyncOutput.prefix}${name}/failure/${id}.out` };
  const uri = (o: { bucket: string; key: string }) => `s3://${o.bucket}/${o.key}`;
  const contentType =
    (req.headers['x-amzn-sagemaker-content-type'] as string | undefined) ?? 'application/octet-stream';
  const accept = req.headers['x-amzn-sagemaker-accept'] as string | undefined;
  const invocationTimeout =
    Number(req.headers['x-amzn-sagemaker-invocationtimeoutseconds'] ?? 0) * 1000 || timeoutMs;

  const body = JSON.stringify({ InferenceId: id });
  res.writeHead(202, {
    'Content-Type': 'application/json',
    'X-Amzn-SageMaker-OutputLocation': uri(output),
    'X-Amzn-SageMaker-FailureLocation': uri(failure),
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);

  // The work happens after the answer, as on SageMaker.
  void (async () => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key }));
      const payload = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
      const headers: Record<string, string> = {
        'Content-Type': contentType,
        ...(accept && { Accept: accept }),
      };
      const response = await callContainer(target, name, headers, payload, invocationTimeout);
      const answer = await collect(response);
      const ok = (response.statusCode ?? 500) < 300;
      await s3.send(
        new PutObjectCommand({
          Bucket: ok ? output.bucket : failure.bucket,
          Key: ok ? output.key : failure.key,
          Body: ok
            ? answer
            : JSON.stringify({
                OriginalStatusCode: response.statusCode,
                OriginalMessage: answer.toString('utf8'),
              }),
          ContentType: ok
            ? (response.headers['content-type'] ?? 'application/octet-stream')
            : 'application/json',
        }),
      );
    } catch (error) {
      await s3
        .send(
          new PutObjectCommand({
            Bucket: failure.bucket,
            Key: failure.key,
            Body: JSON.stringify({ Message: (error as Error).message }),
            ContentType: 'application/json',
          }),
        )
        .catch(() => {});
    }
  })();
}

/** A model whose manifest is markup in every text field, to show the console renders it as text. */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { TestTopology } from '../fixtures/local.ts';

export const HOSTILE = '<img src=x onerror="alert(1)">';

/** Publishes iris's model file again as `hostile`, with markup in every text field of its manifest. */
export async function publishHostile(api: TestTopology): Promise<void> {
  const read = async (key: string) =>
    (await api.s3
      .send(new GetObjectCommand({ Bucket: api.bucket, Key: key }))
      .then((o) => o.Body?.transformToByteArray())) as Uint8Array;
  const manifest = JSON.parse(new TextDecoder().decode(await read('models/iris/1/manifest.json')));
  const hostile = {
    ...manifest,
    name: 'hostile',
    description: `<script>alert(1)</script>${HOSTILE}`,
    labels: [HOSTILE, '<b>bold</b>', 'plain'],
    features: manifest.features.map((f: string, i: number) => (i === 0 ? HOSTILE : f)),
  };
  await api.s3.send(
    new PutObjectCommand({
      Bucket: api.bucket,
      Key: 'models/hostile/1/model.onnx',
      Body: await read('models/iris/1/model.onnx'),
    }),
  );
  await api.s3.send(
    new PutObjectCommand({
      Bucket: api.bucket,
      Key: 'models/hostile/1/manifest.json',
      Body: JSON.stringify(hostile),
    }),
  );
}

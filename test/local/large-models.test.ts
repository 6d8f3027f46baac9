/**
 * Large models from the configuration on the local topology, through the SageMaker Runtime emulator: an LMI model
 * on the demo container, a V2 tensor server of the test's own, and batch files of OpenAI requests.
 */
import type { Server } from 'node:http';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../infra/config.ts';
import { settledManifest } from '../fixtures/batch.ts';
import { loopbackUrl, testContainer } from '../fixtures/containers.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
let triton: Server;
const seen: unknown[] = [];

/** A server of the user's own following the container contract and speaking V2 (as Triton does). */
function tensorServer(): Promise<Server> {
  return testContainer((body, _req, res) => {
    const request = JSON.parse(body);
    seen.push(request);
    const input = request.inputs[0];
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        model_name: 'tensors',
        outputs: [
          {
            name: 'doubled',
            datatype: input.datatype,
            shape: input.shape,
            data: input.data.map((v: number) => v * 2),
          },
        ],
      }),
    );
  });
}

beforeAll(async () => {
  triton = await tensorServer();
  const config = parseConfig({
    largeModels: [
      { name: 'my-llm', container: 'lmi', hfModelId: 'org/model', instanceType: 'ml.g5.2xlarge' },
      {
        name: 'tensors',
        container: 'triton',
        modelDataUrl: 's3://bucket/model.tar.gz',
        instanceType: 'ml.g5.xlarge',
        localUrl: loopbackUrl(triton),
      },
    ],
  });
  api = await startTestTopology({ config, languageModels: true });
}, 90_000);
afterAll(async () => {
  await api.close();
  triton.close();
});

describe('large models declared in the configuration, locally', () => {
  it('serves a language model without a local URL on the demo model, under its own name', async () => {
    const client = new OpenAI({ apiKey: api.apiKey, baseURL: `${api.apiUrl}/v1`, maxRetries: 0 });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(
      expect.arrayContaining(['demo-lm', 'my-llm', 'tensors']),
    );
    const answer = await client.chat.completions.create({
      model: 'my-llm',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
      seed: 1,
    });
    expect(answer).toMatchObject({ model: 'my-llm', choices: [{ message: { role: 'assistant' } }] });
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('forwards V2 inference for a tensor model to its endpoint unchanged', async () => {
    const request = { id: 'r1', inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2, 3] }] };
    const { status, json } = await api.call('/v2/models/tensors/infer', { body: request });
    expect(status).toBe(200);
    expect(json.outputs[0]).toEqual({ name: 'doubled', datatype: 'FP32', shape: [3], data: [2, 4, 6] });
    expect(seen.at(-1)).toEqual(request);
    const versioned = await api.call('/v2/models/tensors/versions/1/infer', { body: request });
    expect(versioned.status).toBe(400);
    expect(versioned.json.error).toMatch(/runs on an endpoint and has no versions/);
  });

  it('refuses chat with a tensor model, pointing at the V2 route', async () => {
    const response = await api.call('/v1/chat/completions', {
      body: { model: 'tensors', messages: [{ role: 'user', content: 'x' }] },
    });
    expect(response.status).toBe(400);
    expect(response.json.error.message).toMatch(/takes tensors: use POST \/v2\/models\/tensors\/infer/);
  });
});

describe('batches of OpenAI requests for a language model', () => {
  it('answers every line in order through the endpoint, with per-line errors', async () => {
    const lines = [
      {
        custom_id: 'a',
        method: 'POST',
        url: '/v1/chat/completions',
        body: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, seed: 1 },
      },
      {
        custom_id: 'b',
        method: 'POST',
        url: '/v1/completions',
        body: { prompt: 'The ', max_tokens: 3, seed: 2 },
      },
      { custom_id: 'c', method: 'POST', url: '/v1/embeddings', body: {} },
      { custom_id: 'd', url: '/v1/chat/completions', body: { messages: [], max_tokens: 2 } },
      { method: 'POST', url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: 'x' }] } },
    ].map((l) => JSON.stringify(l));
    lines.splice(2, 0, 'not json');
    await api.s3.send(
      new PutObjectCommand({
        Bucket: api.bucket,
        Key: 'batch/input/my-llm/requests.jsonl',
        Body: `${lines.join('\n')}\n`,
      }),
    );
    await settledManifest(api, 'my-llm/requests.jsonl');
    const read = async (key: string) =>
      (await api.s3
        .send(new GetObjectCommand({ Bucket: api.bucket, Key: key }))
        .then((o) => o.Body?.transformToString())) ?? '';
    const output = (await read('batch/output/my-llm/requests.jsonl.jsonl'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(output.map((o) => o.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(output[0]).toMatchObject({
      custom_id: 'a',
      response: { status_code: 200, body: { object: 'chat.completion', model: 'my-llm' } },
    });
    expect(output[1]).toMatchObject({
      custom_id: 'b',
      response: { status_code: 200, body: { object: 'text_completion' } },
    });
    expect(output[1].response.body.choices[0].text).toHaveLength(3);
    expect(output[2]).toEqual({ line: 3, custom_id: null, error: expect.stringMatching(/^not JSON/) });
    expect(output[3]).toEqual({
      line: 4,
      custom_id: 'c',
      error: '"url" must be one of /v1/chat/completions, /v1/completions',
    });
    expect(output[4]).toEqual({
      line: 5,
      custom_id: 'd',
      error: `'messages' must be a non-empty array of {"role", "content"}`,
    });
    expect(output[5]).toEqual({ line: 6, custom_id: null, error: '"custom_id" must be a string' });
    const manifest = JSON.parse(await read('batch/output/my-llm/requests.jsonl.manifest.json'));
    expect(manifest).toMatchObject({
      status: 'completed_with_errors',
      rows: 6,
      succeeded: 2,
      failed: 4,
      model: 'my-llm',
    });
  });
});

/** The CNN, LSTM and Transformer samples end to end: predict with nested instances, batch of nested JSONL rows, the CLI, canary and shadow; all checked against PyTorch's own answers. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../infra/config.ts';
import { settledManifest } from '../fixtures/batch.ts';
import { runCli, topologyEnv } from '../fixtures/cli.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { parityFixture, TENSOR_MODELS } from '../fixtures/models.ts';

let api: TestTopology;
const dir = mkdtempSync(join(tmpdir(), 'modelgate-families-'));
beforeAll(async () => {
  api = await startTestTopology({ config: parseConfig({ api: { registryTtlSeconds: 0 } }) });
});
afterAll(() => api.close());

const cli = (...argv: string[]) => runCli(argv, topologyEnv(api));

/** Same prediction as the framework: the label exactly, a number to float32 precision. */
function expectPrediction(actual: unknown, expected: number | string) {
  if (typeof expected === 'string') expect(actual).toBe(expected);
  else
    expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(
      1e-5 * Math.max(1, Math.abs(expected)),
    );
}

describe('predict with nested per-row arrays', () => {
  const image = parityFixture('digits-cnn').instances[0] as number[][][];

  it.each([
    ['a flat row of 64 values', [image.flat(3)], /instance 0 is shape \[64\]/],
    ['an image without its channel', [image[0]], /instance 0 is shape \[8,8\]/],
    [
      'a short pixel row',
      [[(image[0] as number[][]).map((r, i) => (i === 3 ? r.slice(0, 7) : r))]],
      /instance 0 is an array of 7 at \[0,3\] where 8 belong/,
    ],
    ['a bare number', [3], /instance 0 is 3/],
  ])('refuses %s with a 400 naming the expected shape', async (_, instances, message) => {
    const { status, json } = await api.call('/v1/models/digits-cnn/predict', { body: { instances } });
    expect(status).toBe(400);
    expect(json.error).toMatch(message);
    expect(json.error).toMatch(
      /model 'digits-cnn' expects each instance to be a nested array of shape \[1,8,8\] of FP32 values \(64 in all\)/,
    );
  });
});

describe.each(TENSOR_MODELS)('batch of nested JSONL rows: %s', (name) => {
  it('scores every row as PyTorch does and names the shape a bad row lacks', async () => {
    const fixture = parityFixture(name);
    const rows = fixture.instances.map((r) => JSON.stringify(r));
    const file = `${name}/rows.jsonl`;
    // Line 2 is the first row flattened: refused, the others scored.
    const body = [rows[0], JSON.stringify(fixture.instances[0]?.flat(3)), ...rows.slice(1)].join('\n');
    await api.s3.send(
      new PutObjectCommand({ Bucket: api.bucket, Key: `batch/input/${file}`, Body: `${body}\n` }),
    );
    const manifest = await settledManifest(api, file);
    expect(manifest).toMatchObject({ model: name, rows: rows.length + 1, succeeded: rows.length, failed: 1 });
    const output = await api.s3
      .send(new GetObjectCommand({ Bucket: api.bucket, Key: `batch/output/${file}.jsonl` }))
      .then((o) => o.Body?.transformToString() ?? '');
    const lines = output
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[1]).toMatchObject({
      line: 2,
      error: expect.stringMatching(/: expected a nested array of shape \[/),
    });
    const scored = lines.filter((l) => !('error' in l));
    expect(scored).toHaveLength(rows.length);
    scored.forEach((line, i) => {
      expectPrediction(line.prediction, fixture.predictions[i] as number | string);
      if (fixture.probabilities) {
        const probabilities = Object.values(line.probabilities as Record<string, number>);
        probabilities.forEach((p, c) => {
          expect(p).toBeCloseTo(fixture.probabilities?.[i]?.[c] as number, 5);
        });
      }
    });
  });
});

describe('modelgate predict', () => {
  it.each(TENSOR_MODELS)('sends nested instances of %s from a JSONL file', async (name) => {
    const fixture = parityFixture(name);
    const file = join(dir, `${name}.jsonl`);
    writeFileSync(file, `${fixture.instances.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const { code, out } = await cli('predict', name, '--file', file, '--json');
    expect(code).toBe(0);
    const answer = JSON.parse(out);
    expect(answer.predictions).toHaveLength(fixture.instances.length);
    answer.predictions.forEach((p: unknown, i: number) => {
      expectPrediction(p, fixture.predictions[i] as number);
    });
  });
});

describe('canary and shadow of a CNN', () => {
  it('splits traffic between two versions, mirrors to a shadow that agrees, and answers as PyTorch does', async () => {
    const cnn = new URL('../../models/digits-cnn/model.onnx', import.meta.url).pathname;
    for (let i = 0; i < 2; i++)
      expect((await cli('models', 'push', cnn, '--name', 'digits-routed')).code).toBe(0);
    expect((await cli('models', 'canary', 'digits-routed', '--version', '2', '--weight', '50')).code).toBe(0);
    expect((await cli('models', 'shadow', 'digits-routed', '--version', '1')).code).toBe(0);
    const fixture = parityFixture('digits-cnn');
    const versions = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const { status, json } = await api.call('/v1/models/digits-routed/predict', {
        body: { instances: fixture.instances.slice(i, i + 1) },
        headers: { 'x-modelgate-route-key': `user-${i}` },
      });
      expect(status).toBe(200);
      // Pushed without labels: the class id itself is the prediction.
      expect(String(json.predictions[0])).toBe(fixture.predictions[i]);
      versions.add(json.model_version);
    }
    expect([...versions].sort()).toEqual(['1', '2']);
    const metrics = await (await fetch(`${api.apiUrl}/metrics`)).text();
    const agreed =
      /modelgate_shadow_requests_total\{model="digits-routed",version="1",outcome="agree"\} (\d+)/.exec(
        metrics,
      );
    expect(Number(agreed?.[1])).toBeGreaterThan(0);
    expect(metrics).not.toMatch(
      /modelgate_shadow_requests_total\{model="digits-routed",version="1",outcome="disagree"\}/,
    );
  });
});

/**
 * Batch jobs between two API keys: a job belongs to the key that submitted it,
 * ids are random, another key gets 404, and files are read only from the key's own prefix.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobId } from '../../functions/core/batch/manifest.ts';
import { parseConfig } from '../../infra/config.ts';
import { settledManifest } from '../fixtures/batch.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
let keyA: string;
let keyB: string;
beforeAll(async () => {
  api = await startTestTopology({
    config: parseConfig({
      usagePlans: [{ name: 'unlimited' }],
      apiKeys: [
        { name: 'team-a', plan: 'unlimited' },
        { name: 'team-b', plan: 'unlimited' },
      ],
    }),
  });
  keyA = api.apiKeys.get('team-a') as string;
  keyB = api.apiKeys.get('team-b') as string;
});
afterAll(() => api.close());

const put = (key: string, body: string) =>
  api.s3.send(new PutObjectCommand({ Bucket: api.bucket, Key: key, Body: body }));

async function submitted(key: string, input: string) {
  const answer = await api.call('/v1/batches', { key, body: { model: 'linear', input } });
  expect(answer.status).toBe(202);
  await settledManifest(api, `linear/jobs/${answer.json.id}/${input.split('/').at(-1)}`);
  return answer.json.id as string;
}

describe('batch jobs between API keys', () => {
  it('answers a job to its owner only: another key gets the 404 of an unknown id', async () => {
    await put('batch/keys/team-a/rows.jsonl', '[1]\n[2]\n[3]\n');
    const id = await submitted(keyA, 'rows.jsonl');
    const owner = await api.call(`/v1/batches/${id}`, { key: keyA });
    expect(owner.json).toMatchObject({ id, status: 'succeeded', manifest: { rows: 3 } });
    const none = await api.call(`/v1/batches/${id}/errors`, { key: keyA });
    expect(none).toMatchObject({ status: 200, json: { data: [], has_more: false } });
    const other = await api.call(`/v1/batches/${id}`, { key: keyB });
    const madeUp = await api.call(`/v1/batches/batch_${'x'.repeat(32)}`, { key: keyB });
    expect(other).toMatchObject({ status: 404, json: { error: `no batch job '${id}'` } });
    expect(madeUp.status).toBe(404);
    expect(other.json.error.replace(id, '')).toBe(madeUp.json.error.replace(`batch_${'x'.repeat(32)}`, ''));
  });

  it("lists a job's failed rows to its owner only, from the output file", async () => {
    // Line 2 and 4 fail (one value, not a number); lines 1 and 3 are scored.
    await put('batch/keys/team-a/mixed.jsonl', '[1]\n[1,2]\n[3]\n["x"]\n');
    const id = await submitted(keyA, 'mixed.jsonl');
    const owner = await api.call(`/v1/batches/${id}/errors`, { key: keyA });
    expect(owner.status).toBe(200);
    expect(owner.json).toMatchObject({ object: 'list', id, has_more: false });
    expect(owner.json.data).toEqual([
      { line: 2, error: '2 values; the model expects 1 (x)' },
      { line: 4, error: expect.stringMatching(/^value 0 .* is "x": expected a number$/) },
    ]);
    const status = await api.call(`/v1/batches/${id}`, { key: keyA });
    expect(owner.json.output).toBe(status.json.output);
    expect(status.json.output_uri).toBe(`s3://${api.bucket}/${status.json.output}`);
    const other = await api.call(`/v1/batches/${id}/errors`, { key: keyB });
    const madeUp = await api.call(`/v1/batches/batch_${'x'.repeat(32)}/errors`, { key: keyB });
    expect(other).toMatchObject({ status: 404, json: { error: `no batch job '${id}'` } });
    expect(madeUp.status).toBe(404);
  });

  it('lists at most 100 failed rows and says there are more', async () => {
    await put('batch/keys/team-a/bad.jsonl', '["x"]\n'.repeat(101));
    const id = await submitted(keyA, 'bad.jsonl');
    const answer = await api.call(`/v1/batches/${id}/errors`, { key: keyA });
    expect(answer.json.data).toHaveLength(100);
    expect(answer.json.data.at(-1)).toMatchObject({ line: 100 });
    expect(answer.json.has_more).toBe(true);
  });

  it('makes ids random: the same file submitted twice is two jobs with unrelated ids', async () => {
    await put('batch/keys/team-a/again.jsonl', '[4]\n');
    const first = await submitted(keyA, 'again.jsonl');
    const second = await submitted(keyA, 'again.jsonl');
    expect(first).not.toBe(second);
    expect(first).not.toContain(jobId('batch/keys/team-a/again.jsonl'));
  });

  it("reads submitted files only from the caller's own prefix", async () => {
    await put('batch/keys/team-a/secret.jsonl', '[5]\n');
    // Team b names team a's file, by its full key or by climbing out of its own prefix.
    for (const input of ['batch/keys/team-a/secret.jsonl', '../team-a/secret.jsonl']) {
      const answer = await api.call('/v1/batches', { key: keyB, body: { model: 'linear', input } });
      expect(answer.status).toBe(400);
      expect(answer.json.error).toMatch(/under your prefix batch\/keys\/team-b\//);
    }
    // A file dropped on the event path stays the operators': no key can submit or read it.
    await put('batch/input/linear/operator.jsonl', '[6]\n');
    await settledManifest(api, 'linear/operator.jsonl');
    const operatorJob = jobId('batch/input/linear/operator.jsonl');
    expect((await api.call(`/v1/batches/${operatorJob}`, { key: keyA })).status).toBe(404);
    const relative = await api.call('/v1/batches', {
      key: keyB,
      body: { model: 'linear', input: 'operator.jsonl' },
    });
    expect(relative.status).toBe(404);
  });

  it("lists a key's own jobs, newest first, and nothing of another key's", async () => {
    await put('batch/keys/team-b/mine.jsonl', '[7]\n');
    const own = await submitted(keyB, 'mine.jsonl');
    const listB = await api.call('/v1/batches', { key: keyB });
    expect(listB.status).toBe(200);
    expect(listB.json).toMatchObject({ object: 'list', has_more: false });
    expect(listB.json.data.map((j: { id: string }) => j.id)).toEqual([own]);
    expect(listB.json.data[0]).toMatchObject({ status: 'succeeded', input: 'batch/keys/team-b/mine.jsonl' });
    const listA = await api.call('/v1/batches', { key: keyA });
    const idsA = listA.json.data.map((j: { id: string }) => j.id);
    expect(idsA).toHaveLength(5);
    expect(idsA).not.toContain(own);
    const created = listA.json.data.map((j: { created_at: string }) => j.created_at);
    expect(created).toEqual([...created].sort().reverse());
  });
});

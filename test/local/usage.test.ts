/**
 * Usage per API key through the whole loopback topology: the totals in the
 * usage table equal what the clients were told, under 1,000 concurrent requests.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../infra/config.ts';
import { runCli } from '../fixtures/cli.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
let teamA: OpenAI;
let keyB: string;
beforeAll(async () => {
  api = await startTestTopology({
    languageModels: true,
    config: parseConfig({
      usagePlans: [{ name: 'unlimited' }],
      apiKeys: [
        { name: 'team-a', plan: 'unlimited' },
        { name: 'team-b', plan: 'unlimited' },
      ],
    }),
  });
  teamA = new OpenAI({ apiKey: api.apiKey, baseURL: `${api.apiUrl}/v1`, maxRetries: 0 });
  keyB = api.apiKeys.get('team-b') as string;
}, 90_000);
afterAll(() => api.close());

const messages = [{ role: 'user' as const, content: 'Tell me my fortune.' }];
const zero = {
  requests: 0,
  rows: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  client_errors: 0,
  server_errors: 0,
};

/** A key's usage today, by model, once every answered request is written. */
async function usageByModel(key?: string) {
  await api.drainUsage();
  const { status, json } = await api.call('/v1/usage', { ...(key && { key }) });
  expect(status).toBe(200);
  return Object.fromEntries(json.data.map((l: { model: string }) => [l.model, l])) as Record<
    string,
    typeof zero & { total_tokens: number; key_id: string }
  >;
}

describe('usage per API key', () => {
  it('totals 1,000 concurrent requests on one key exactly as the clients were told', async () => {
    const before = await usageByModel();
    const told = { requests: 0, rows: 0, prompt: 0, completion: 0 };
    const chat = async (i: number) => {
      const params = { model: 'demo-lm', messages, max_tokens: 4 + (i % 7), seed: i, temperature: 1 };
      if (i % 2 === 0) {
        const stream = await teamA.chat.completions.create({
          ...params,
          stream: true,
          stream_options: { include_usage: true },
        });
        for await (const chunk of stream) {
          told.prompt += chunk.usage?.prompt_tokens ?? 0;
          told.completion += chunk.usage?.completion_tokens ?? 0;
        }
      } else {
        const answer = await teamA.chat.completions.create(params);
        told.prompt += answer.usage?.prompt_tokens ?? 0;
        told.completion += answer.usage?.completion_tokens ?? 0;
      }
    };
    const predict = async (i: number) => {
      const instances = Array.from({ length: 1 + (i % 4) }, () => [5.1, 3.5, 1.4, 0.2]);
      const { status, json } = await api.call('/v1/models/iris/predict', { body: { instances } });
      expect(status).toBe(200);
      told.rows += json.predictions.length;
    };
    // 500 streamed chats, 250 whole chats, 250 predictions, all in flight together.
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => (i < 750 ? chat(i) : predict(i)).then(() => told.requests++)),
    );
    expect(told.requests).toBe(1000);
    expect(told.prompt).toBeGreaterThan(0);

    const after = await usageByModel();
    const lm = { ...zero, ...after['demo-lm'] };
    const iris = { ...zero, ...after.iris };
    const was = { lm: { ...zero, ...before['demo-lm'] }, iris: { ...zero, ...before.iris } };
    expect(lm.requests - was.lm.requests).toBe(750);
    expect(lm.prompt_tokens - was.lm.prompt_tokens).toBe(told.prompt);
    expect(lm.completion_tokens - was.lm.completion_tokens).toBe(told.completion);
    expect(iris.requests - was.iris.requests).toBe(250);
    expect(iris.rows - was.iris.rows).toBe(told.rows);
    expect(lm.server_errors + iris.server_errors).toBe(0);
  }, 180_000);

  it('counts the tokens of a stream whose client did not ask for usage, without showing it', async () => {
    const before = (await usageByModel())['demo-lm'] ?? zero;
    const whole = await teamA.chat.completions.create({
      model: 'demo-lm',
      messages,
      max_tokens: 12,
      seed: 3,
    });
    const chunks = [];
    const stream = await teamA.chat.completions.create({
      model: 'demo-lm',
      messages,
      max_tokens: 12,
      seed: 3,
      stream: true,
    });
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((c) => c.usage)).toBe(false);
    const after = (await usageByModel())['demo-lm'];
    const wholeTokens = whole.usage?.completion_tokens ?? 0;
    // The same seed gives the same answer: the stream used what the whole answer did.
    expect((after?.completion_tokens ?? 0) - before.completion_tokens).toBe(2 * wholeTokens);
    expect((after?.requests ?? 0) - before.requests).toBe(2);
  });

  it('counts client errors, and answers each key its own usage only', async () => {
    const unknown = await api.call('/v1/models/iris/predict', { key: keyB, body: { instances: [[1, 2]] } });
    expect(unknown.status).toBe(400);
    await expect(
      new OpenAI({ apiKey: keyB, baseURL: `${api.apiUrl}/v1`, maxRetries: 0 }).chat.completions.create({
        model: 'no-such-model',
        messages,
      }),
    ).rejects.toMatchObject({ status: 404 });
    const b = await usageByModel(keyB);
    expect(Object.keys(b).sort()).toEqual(['iris', 'no-such-model']);
    expect(b.iris).toMatchObject({ key_id: 'team-b', requests: 1, client_errors: 1, rows: 0 });
    expect(b['no-such-model']).toMatchObject({ requests: 1, client_errors: 1 });
    expect(Object.values(await usageByModel()).every((l) => l.key_id === 'team-a')).toBe(true);
  });

  it('answers a bad date range with 400 saying what it expects', async () => {
    const { status, json } = await api.call('/v1/usage?from=yesterday');
    expect(status).toBe(400);
    expect(json.error).toMatch(/"from" must be a date YYYY-MM-DD/);
    const today = new Date().toISOString().slice(0, 10);
    const range = await api.call(`/v1/usage?from=${today}&to=${today}`);
    expect(range.json).toMatchObject({ object: 'usage', key_id: 'team-a', from: today, to: today });
  });

  it("is read by the operator's CLI for one key or every key, as a table or JSON", async () => {
    await api.drainUsage();
    const env = { MODELGATE_DYNAMODB_PORT: new URL(api.dynamoUrl).port };
    const b = await runCli(['usage', '--key', 'team-b', '--json'], env);
    expect(b.code).toBe(0);
    const report = JSON.parse(b.out);
    expect(report.data.map((l: { key: string; model: string }) => `${l.key} ${l.model}`)).toEqual([
      'team-b iris',
      'team-b no-such-model',
    ]);
    expect(report.totals).toMatchObject({ requests: 2, client_errors: 2 });
    const all = await runCli(['usage'], env);
    expect(all.out).toMatch(/^DAY +KEY +MODEL +REQUESTS +ROWS +PROMPT +COMPLETION +4XX +5XX\n/);
    expect(all.out).toMatch(/ team-a +demo-lm +\d+/);
    expect(all.out).toMatch(/ team-b +iris +1 +0 +0 +0 +1 +0\n/);
    expect(all.out).toMatch(/\ntotal +\d+/);
    const bad = await runCli(['usage', '--from', '2026-13-01'], env);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--from must be a date YYYY-MM-DD/);
  });
});

/**
 * Budgets and per-minute limits per API key, through the whole loopback
 * topology and the official OpenAI client: 429s in OpenAI's shapes and headers.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../infra/config.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
const client = (name: string) =>
  new OpenAI({ apiKey: api.apiKeys.get(name) as string, baseURL: `${api.apiUrl}/v1`, maxRetries: 0 });
beforeAll(async () => {
  api = await startTestTopology({
    languageModels: true,
    config: parseConfig({
      usagePlans: [{ name: 'unlimited' }, { name: 'metered', limits: { tokensPerMonth: 30 } }],
      apiKeys: [
        { name: 'free', plan: 'unlimited' },
        { name: 'minute', plan: 'unlimited', limits: { tokensPerMinute: 60, requestsPerMinute: 1000 } },
        { name: 'monthly', plan: 'metered' },
        { name: 'requests', plan: 'unlimited', limits: { requestsPerMonth: 2 } },
      ],
    }),
  });
}, 90_000);
afterAll(() => api.close());

const chat = { model: 'demo-lm', messages: [{ role: 'user' as const, content: 'Tell me my fortune.' }] };

/** Sends chats (usage written after each) until one is refused; at most `most`. */
async function untilRefused(openai: OpenAI, most: number) {
  const answered: Array<Record<string, string | null>> = [];
  for (let i = 0; i < most; i++) {
    try {
      const { response } = await openai.chat.completions
        .create({ ...chat, max_tokens: 20, seed: i })
        .withResponse();
      answered.push({
        limit: response.headers.get('x-ratelimit-limit-tokens'),
        remaining: response.headers.get('x-ratelimit-remaining-tokens'),
      });
      await api.drainUsage();
    } catch (error) {
      return { answered, error: error as InstanceType<typeof OpenAI.APIError> };
    }
  }
  throw new Error(`no request refused in ${most}`);
}

describe('budgets and token limits per API key', () => {
  it('answers 429 rate_limit_exceeded with the x-ratelimit headers over tokens per minute', async () => {
    const { answered, error } = await untilRefused(client('minute'), 30);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered[0]).toEqual({ limit: '60', remaining: '60' });
    const remaining = answered.map((a) => Number(a.remaining));
    expect(remaining).toEqual([...remaining].sort((a, b) => b - a));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.status).toBe(429);
    expect(error.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded', param: null });
    expect(error.message).toMatch(
      /Rate limit reached for demo-lm on tokens per min \(TPM\): Limit 60, Used \d+/,
    );
    expect(error.headers?.get('x-ratelimit-limit-tokens')).toBe('60');
    expect(error.headers?.get('x-ratelimit-remaining-tokens')).toBe('0');
    expect(error.headers?.get('x-ratelimit-reset-tokens')).toMatch(/^\d+s$/);
    expect(error.headers?.get('x-ratelimit-limit-requests')).toBe('1000');
    expect(error.headers?.get('x-ratelimit-remaining-requests')).toMatch(/^\d+$/);
    // A stream is refused the same way, before it starts.
    const stream = client('minute').chat.completions.create({ ...chat, stream: true });
    await expect(stream).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    // Another key is not limited by this one's use.
    await expect(client('free').chat.completions.create({ ...chat, max_tokens: 5 })).resolves.toBeDefined();
  });

  it("answers 429 insufficient_quota once a key used its plan's monthly tokens", async () => {
    const { error } = await untilRefused(client('monthly'), 10);
    expect(error.status).toBe(429);
    expect(error.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(error.message).toMatch(
      /monthly budget of 30 tokens \(\d+ this month\); it renews on \d{4}-\d{2}-01/,
    );
    expect(error.headers?.get('x-should-retry')).toBe('false');
  });

  it('refuses every route over a monthly request budget, saying which budget', async () => {
    const key = api.apiKeys.get('requests') as string;
    const predict = () =>
      api.call('/v1/models/iris/predict', { key, body: { instances: [[5.1, 3.5, 1.4, 0.2]] } });
    expect((await predict()).status).toBe(200);
    await api.drainUsage();
    expect((await predict()).status).toBe(200);
    await api.drainUsage();
    const refused = await predict();
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatch(/monthly budget of 2 requests \(2 this month\)/);
    await expect(client('requests').chat.completions.create(chat)).rejects.toMatchObject({
      status: 429,
      code: 'insufficient_quota',
    });
  });
});

/**
 * The OpenAI-compatible API on the local topology with the demo language model, through the official openai
 * client and `modelgate chat`: answers and streams in OpenAI's schema, stops, keys, errors, client aborts, and
 * a container killed mid-stream.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../fixtures/cli.ts';
import { pingCounter } from '../fixtures/containers.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { SAMPLE_NAMES } from '../fixtures/models.ts';
import { assertOpenAI } from '../fixtures/openai-schema.ts';

let api: TestTopology;
let client: OpenAI;
beforeAll(async () => {
  api = await startTestTopology({ languageModels: true });
  client = new OpenAI({ apiKey: api.apiKey, baseURL: `${api.apiUrl}/v1`, maxRetries: 0 });
}, 90_000);
afterAll(() => api.close());

const messages = [{ role: 'user' as const, content: 'Tell me my fortune.' }];

/** Active generations in the demo container, from its /ping header. */
function activeGenerations(): Promise<number> {
  return pingCounter(api.containers.get('demo-lm')?.url, 'x-active-generations');
}

describe('OpenAI-compatible API with the official openai client', () => {
  it('lists the language model and the ONNX models', async () => {
    const models = await client.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toEqual(['demo-lm', ...SAMPLE_NAMES]);
    expect(models.data[0]).toMatchObject({ object: 'model', owned_by: 'modelgate' });
    assertOpenAI('ListModelsResponse', (await api.call('/v1/models')).json);
  });

  it('answers a chat completion in OpenAI shape, reproducibly for a seed', async () => {
    const params = { model: 'demo-lm', messages, max_tokens: 24, seed: 42, temperature: 0.9 };
    const first = await client.chat.completions.create(params);
    expect(first).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion',
      model: 'demo-lm',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: expect.any(String) },
          finish_reason: expect.stringMatching(/^(stop|length)$/),
        },
      ],
    });
    assertOpenAI('CreateChatCompletionResponse', first);
    expect(first.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(first.usage?.total_tokens).toBe(
      (first.usage?.prompt_tokens ?? 0) + (first.usage?.completion_tokens ?? 0),
    );
    const again = await client.chat.completions.create(params);
    expect(again.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
  });

  it('streams the same tokens as server-sent chunks, role first, finish reason and usage last', async () => {
    const params = { model: 'demo-lm', messages, max_tokens: 24, seed: 42, temperature: 0.9 };
    const whole = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const chunk of chunks) assertOpenAI('CreateChatCompletionStreamResponse', chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]?.id)).toBe(true);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(content).toBe(whole.choices[0]?.message.content);
    const finish = chunks.at(-2);
    expect(finish?.choices[0]?.finish_reason).toBe(whole.choices[0]?.finish_reason);
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { completion_tokens: whole.usage?.completion_tokens },
    });
  });

  it('never lets a stop sequence through, streamed or not', async () => {
    for (const stream of [false, true]) {
      const params = {
        model: 'demo-lm',
        messages,
        max_tokens: 200,
        seed: 7,
        temperature: 1,
        stop: ['e', 't'],
      };
      let content = '';
      let reason: string | null | undefined;
      if (stream) {
        for await (const c of await client.chat.completions.create({ ...params, stream: true })) {
          content += c.choices[0]?.delta.content ?? '';
          reason = c.choices[0]?.finish_reason ?? reason;
        }
      } else {
        const answer = await client.chat.completions.create(params);
        content = answer.choices[0]?.message.content ?? '';
        reason = answer.choices[0]?.finish_reason;
      }
      expect(content).not.toMatch(/[et]/);
      expect(reason).toBe('stop');
    }
  });

  it('answers text completions, whole and streamed', async () => {
    const params = { model: 'demo-lm', prompt: 'The wise ', max_tokens: 20, seed: 5, temperature: 0.8 };
    const whole = await client.completions.create(params);
    assertOpenAI('CreateCompletionResponse', whole);
    expect(whole).toMatchObject({
      object: 'text_completion',
      model: 'demo-lm',
      choices: [{ index: 0, text: expect.any(String) }],
    });
    expect(whole.usage).toMatchObject({
      prompt_tokens: 'The wise '.length,
      completion_tokens: whole.choices[0]?.text.length,
    });
    let streamed = '';
    let reason: string | null | undefined;
    for await (const c of await client.completions.create({ ...params, stream: true })) {
      streamed += c.choices[0]?.text ?? '';
      reason = c.choices[0]?.finish_reason ?? reason;
    }
    expect(streamed).toBe(whole.choices[0]?.text);
    expect(reason).toBe(whole.choices[0]?.finish_reason);
  });

  it('accepts the key as a bearer token or as x-api-key, and nothing else', async () => {
    const body = JSON.stringify({ model: 'demo-lm', messages, max_tokens: 2 });
    const post = (headers: Record<string, string>) =>
      fetch(`${api.apiUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await post({ authorization: `Bearer ${api.apiKey}` })).status).toBe(200);
    expect((await post({ 'x-api-key': api.apiKey })).status).toBe(200);
    const none = await post({});
    expect(none.status).toBe(403);
    expect(await none.json()).toEqual({ message: 'Forbidden' });
    expect((await post({ authorization: 'Bearer wrong' })).status).toBe(403);
  });

  it.each([
    [{ model: 'nope', messages }, 404, 'model', 'model_not_found'],
    [{ model: 'iris', messages }, 404, 'model', 'model_not_found'],
    [{ model: 'demo-lm', messages: [] }, 400, 'messages', 'invalid_value'],
    [
      { model: 'demo-lm', messages: [{ role: 'robot', content: 'x' }] },
      400,
      'messages[0].role',
      'invalid_value',
    ],
    [{ model: 'demo-lm', messages, temperature: 3 }, 400, 'temperature', 'invalid_value'],
    [{ model: 'demo-lm', messages, n: 2 }, 400, 'n', 'invalid_value'],
    [{ messages }, 400, 'model', 'invalid_value'],
  ])('refuses %j with %i and an OpenAI error naming %s', async (body, status, param, code) => {
    const error = await client.chat.completions.create(body as never).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(status);
    expect(error.error).toMatchObject({
      param,
      code,
      type: 'invalid_request_error',
      message: expect.any(String),
    });
    assertOpenAI('ErrorResponse', { error: error.error });
  });

  it("passes the container's own validation message back as a 400", async () => {
    const error = await client.chat.completions
      .create({ model: 'demo-lm', messages, max_tokens: 100_000 })
      .catch((e) => e);
    expect(error.status).toBe(400);
    expect(error.error.message).toMatch(
      /model 'demo-lm' \(endpoint demo-lm\) refused the request: Input validation error: `inputs` tokens \+ `max_new_tokens` must be <= 2048/,
    );
  });

  it('answers malformed JSON with an OpenAI error', async () => {
    const response = await fetch(`${api.apiUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': api.apiKey },
      body: '{"model": ',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/not valid JSON/),
    });
  });

  it('stops generating upstream when the client goes away', async () => {
    const aborter = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'demo-lm', messages, max_tokens: 2000, temperature: 1, stream: true },
      { signal: aborter.signal },
    );
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    expect(await activeGenerations()).toBe(1);
    aborter.abort();
    let active = 1;
    for (let i = 0; i < 50 && active > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      active = await activeGenerations();
    }
    expect(active).toBe(0);
  });

  it('ends a stream with an error event, not a hang, when the container dies mid-stream', async () => {
    const container = api.containers.get('demo-lm');
    const stream = await client.chat.completions.create({
      model: 'demo-lm',
      messages,
      max_tokens: 2000,
      temperature: 1,
      stream: true,
    });
    const pid = container?.pid;
    let received = 0;
    let finish: string | null | undefined;
    const error: unknown = await (async () => {
      for await (const chunk of stream) {
        received++;
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (received === 3) process.kill(container?.pid as number, 'SIGKILL');
      }
    })().catch((e) => e);
    expect(received).toBeGreaterThanOrEqual(3);
    // No finish reason: the stream did not finish; the error event says why (finish_reason "error" is not OpenAI's).
    expect(finish).toBeUndefined();
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/failed while streaming|Model stream failed/);
    // The supervisor restarts it (a new process); until then requests get 503 with Retry-After.
    await vi.waitFor(() => expect(container?.pid).not.toBe(pid), { timeout: 10_000 });
    await container?.waitHealthy(60_000);
    // Seeded: a sampled answer may end (EOS) before its third token.
    const after = await client.chat.completions.create({
      model: 'demo-lm',
      messages,
      max_tokens: 3,
      seed: 7,
    });
    expect(after.choices[0]?.message.content).toHaveLength(3);
  }, 90_000);
});

describe('modelgate chat', () => {
  const cli = (argv: string[], lines?: string[]) =>
    runCli(argv, { MODELGATE_PORT: String(api.gateway.port), MODELGATE_API_KEY: api.apiKey }, lines);

  it('answers one message, streamed as it is generated, the same text as the API gives', async () => {
    const ask = ['chat', 'demo-lm', '--message', 'Tell me my fortune.', '--max-tokens', '20', '--seed', '7'];
    const asked = await cli([...ask, '--json']);
    expect(asked.code).toBe(0);
    const answer = JSON.parse(asked.out);
    expect(answer).toMatchObject({ model: 'demo-lm', finish_reason: 'length' });
    expect(answer.content.length).toBeGreaterThan(0);
    // The same seeded request, streamed as plain text: the same words (an unseeded one may sample
    // nothing but spaces).
    const plain = await cli(ask);
    expect(plain.code).toBe(0);
    expect(plain.out.endsWith('\n')).toBe(true);
    expect(plain.out.trimEnd()).toBe(answer.content.trimEnd());
  });

  it('holds a conversation line by line until /exit, keeping the history', async () => {
    const talk = await cli(
      ['chat', 'demo-lm', '--max-tokens', '6', '--system', 'Be brief.'],
      ['Hello', '', 'And tomorrow?', '/exit', 'never sent'],
    );
    expect(talk.code).toBe(0);
    expect(talk.err).toMatch(/^chatting with demo-lm; end with Ctrl-D or \/exit\n> (> )+\n$/);
    expect(talk.out.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(1);
    expect(talk.out.match(/\n/g)).toHaveLength(2);
  });

  it('says what was wrong: unknown model, bad --max-tokens or --seed', async () => {
    const unknown = await cli(['chat', 'nope', '--message', 'hi']);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.err).toMatch(/^modelgate: HTTP 404: .*nope/);
    expect(await cli(['chat', 'demo-lm', '--message', 'hi', '--max-tokens', '0'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--max-tokens must be a positive integer, got '0'/),
    });
    expect(await cli(['chat', 'demo-lm', '--message', 'hi', '--seed', '1.5'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--seed must be a non-negative integer, got '1.5'/),
    });
  });
});

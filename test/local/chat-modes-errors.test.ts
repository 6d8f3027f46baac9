/**
 * Errors through a TGI, an LMI and an OpenAI-compatible container, on both OpenAI routes, plain and
 * streamed, with the OpenAI SDK: a failed generation is a 502 and a prompt over the input limit a 400,
 * each with the container's own words, and a stream that fails mid-way ends with a valid error event.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatModes, MODES, startChatModes } from '../fixtures/chat-modes.ts';
import { assertOpenAI, sseEvents } from '../fixtures/openai-schema.ts';

let modes: ChatModes;
let client: OpenAI;
beforeAll(async () => {
  modes = await startChatModes();
  client = modes.client;
}, 120_000);
afterAll(() => modes.api.close());

/** The raw SSE answer of an OpenAI route, as a client without the SDK reads it. */
async function rawStream(route: string, body: Record<string, unknown>) {
  const response = await fetch(`${modes.api.apiUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': modes.api.apiKey },
    body: JSON.stringify({ ...body, stream: true }),
  });
  return { status: response.status, text: await response.text() };
}

/** The events of a stream that failed after HTTP 200: it must still end with [DONE], after at least one chunk. */
async function failedStreamEvents(model: string, route: string, body: Record<string, unknown>) {
  const { status, text } = await rawStream(route, { model, ...body });
  expect({ model, status, done: text.trimEnd().endsWith('data: [DONE]') }).toEqual({
    model,
    status: 200,
    done: true,
  });
  const events = sseEvents(text);
  expect(events.length).toBeGreaterThan(1);
  return events;
}

describe('errors, the same from every container', () => {
  const fault = [{ role: 'user' as const, content: 'x [[generation-fault]]' }];

  it('answers a failed generation with 502 and the container’s message, plain and mid-stream', async () => {
    for (const model of MODES) {
      const error = await client.chat.completions
        .create({ model, messages: fault, max_tokens: 50, seed: 1 })
        .catch((e) => e);
      expect({ model, status: error.status }).toEqual({ model, status: 502 });
      expect(error.error.message).toMatch(/CUDA error: an illegal memory access/);
      assertOpenAI('ErrorResponse', { error: error.error });
      const failed = await modes
        .streamed({ model, messages: fault, max_tokens: 50, seed: 1 })
        .catch((e) => e);
      expect(failed).toBeInstanceOf(OpenAI.APIError);
      expect(failed.message).toMatch(/illegal memory access|failed during the generation/);
    }
  });

  it('ends a stream that fails mid-way with a valid OpenAI error event and [DONE], every chunk before it valid', async () => {
    for (const model of MODES) {
      const events = await failedStreamEvents(model, '/v1/chat/completions', {
        messages: fault,
        max_tokens: 50,
        seed: 1,
      });
      for (const chunk of events.slice(0, -1)) assertOpenAI('CreateChatCompletionStreamResponse', chunk);
      assertOpenAI('ErrorResponse', events.at(-1));
    }
  });

  it('answers a prompt over the input limit with 400 and the container’s words, streamed too', async () => {
    const long = [{ role: 'user' as const, content: 'a'.repeat(1100) }];
    for (const model of MODES) {
      for (const stream of [false, true]) {
        const error = await (stream
          ? modes.streamed({ model, messages: long })
          : modes.whole({ model, messages: long })
        ).catch((e) => e);
        expect({ model, stream, status: error.status }).toEqual({ model, stream, status: 400 });
        expect(error.error.message).toMatch(/must have less than 1024 tokens/);
        expect(error.error.message).not.toMatch(/object Object/);
      }
    }
  });
});

describe('errors on the text completion route, the same from every container', () => {
  // Greedy: a sampled generation may end before the fault, which strikes at the eighth token.
  const fault = { prompt: 'x [[generation-fault]]', max_tokens: 50, temperature: 0 };

  it('answers a failed generation with 502 and the container’s message (TGI and LMI 424, the OpenAI server 500)', async () => {
    for (const model of MODES) {
      const error = await client.completions.create({ model, ...fault }).catch((e) => e);
      expect({ model, status: error.status }).toEqual({ model, status: 502 });
      expect(error.error.message).toMatch(/CUDA error: an illegal memory access/);
      assertOpenAI('ErrorResponse', { error: error.error });
    }
  });

  it('ends a generation that fails mid-stream with an error event the SDK throws, then [DONE], the chunks before it valid', async () => {
    for (const model of MODES) {
      // TGI: a generate error event; LMI: a last line with finish_reason "error"; the OpenAI server: an error event.
      const events = await failedStreamEvents(model, '/v1/completions', fault);
      for (const chunk of events.slice(0, -1)) {
        expect(chunk).toMatchObject({ object: 'text_completion', choices: [{ finish_reason: null }] });
      }
      assertOpenAI('ErrorResponse', events.at(-1));
      expect(events.at(-1)).toMatchObject({
        error: { message: expect.stringMatching(/illegal memory access|failed during the generation/) },
      });
      const stream = await client.completions.create({ model, ...fault, stream: true });
      const failed = await (async () => {
        for await (const _ of stream);
      })().catch((e) => e);
      expect(failed).toBeInstanceOf(OpenAI.APIError);
    }
  });

  it('fails the other generations of LMI’s rolling batch with the failed one: a 502, not a stop', async () => {
    // Seed 3 runs 612 tokens: still streaming when the other request fails at its eighth.
    const stream = await client.completions.create({
      model: 'lmi-lm',
      prompt: 'The wise ',
      max_tokens: 1000,
      seed: 3,
      temperature: 0.7,
      stream: true,
    });
    const chunks = stream[Symbol.asyncIterator]();
    expect((await chunks.next()).done).toBe(false);
    const failed = await client.completions.create({ model: 'lmi-lm', ...fault }).catch((e) => e);
    expect(failed.status).toBe(502);
    const rest = await (async () => {
      for (let c = await chunks.next(); !c.done; c = await chunks.next()) {
        expect(c.value.choices[0]?.finish_reason).toBeNull();
      }
    })().catch((e) => e);
    expect(rest).toBeInstanceOf(OpenAI.APIError);
    expect(rest.message).toMatch(/failed during the generation \(finish_reason "error"\)/);
  });

  it('answers a prompt over the input limit with 400 and the container’s words, streamed too', async () => {
    const long = 'a'.repeat(1100);
    for (const model of MODES) {
      for (const stream of [false, true]) {
        const error = await (async () => {
          if (!stream) return client.completions.create({ model, prompt: long });
          for await (const _ of await client.completions.create({ model, prompt: long, stream: true }));
        })().catch((e) => e);
        expect({ model, stream, status: error?.status }).toEqual({ model, stream, status: 400 });
        expect(error.error.message).toMatch(/must have less than 1024 tokens/);
        assertOpenAI('ErrorResponse', { error: error.error });
      }
    }
  });
});

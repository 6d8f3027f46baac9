/**
 * The demo container's wire formats, read raw at `/invocations` as SageMaker
 * forwards them: TGI 3.2.3 and LMI 0.35 (rolling batch) as docs/LARGE-MODELS.md
 * lists them, with the upstream file that defines each.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoLmMode, serve } from '../../local/containers/demo-lm/server.ts';

const servers = new Map<string, { server: Server; url: string }>();
beforeAll(async () => {
  const modelDir = new URL('../../models/llm/demo-lm', import.meta.url).pathname;
  const start = async (key: string, mode: DemoLmMode, speculativeLength = 0) => {
    const { server, port } = await serve({ port: 0, modelDir, modelId: 'm', mode, speculativeLength });
    servers.set(key, { server, url: `http://127.0.0.1:${port}` });
  };
  await Promise.all([start('tgi', 'tgi'), start('lmi', 'lmi'), start('lmi-spec', 'lmi', 2)]);
}, 60_000);
afterAll(() => {
  for (const { server } of servers.values()) server.close();
});

async function post(key: string, body: unknown) {
  const response = await fetch(`${servers.get(key)?.url}/invocations`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON events.
type Event = Record<string, any>;

const lines = (text: string): Event[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l.replace(/^data:/, '')) as Event);

// Seed 32 ends with the end-of-sequence token within 120 tokens.
const eos = {
  inputs: 'The wise ',
  parameters: { max_new_tokens: 120, seed: 32, temperature: 0.7, details: true },
};

describe('TGI 3.2.3 mode', () => {
  it('returns the prompt with the text unless return_full_text is false (server.rs, compat_generate)', async () => {
    const full = JSON.parse((await post('tgi', eos)).text);
    const bare = JSON.parse(
      (await post('tgi', { ...eos, parameters: { ...eos.parameters, return_full_text: false } })).text,
    );
    expect(full[0].generated_text).toBe(`The wise ${bare[0].generated_text}`);
  });

  it('streams SSE without [DONE], the special end-of-sequence token last with the details (generate_stream_internal)', async () => {
    const { type, text } = await post('tgi', { ...eos, stream: true });
    expect(type).toBe('text/event-stream');
    expect(text).not.toContain('[DONE]');
    const events = lines(text);
    const last = events.at(-1);
    expect(last?.token).toMatchObject({ text: '</s>', special: true });
    expect(last?.details).toMatchObject({
      finish_reason: 'eos_token',
      generated_tokens: events.length,
      input_length: 9,
    });
    // The prompt too: return_full_text defaults to true.
    expect(last?.generated_text).toBe(
      'The wise ' +
        events
          .slice(0, -1)
          .map((e) => e.token.text)
          .join(''),
    );
  });

  it('refuses decoder_input_details in a stream with an error event after HTTP 200', async () => {
    const { status, text } = await post('tgi', {
      ...eos,
      parameters: { ...eos.parameters, decoder_input_details: true },
      stream: true,
    });
    expect(status).toBe(200);
    expect(lines(text)).toEqual([
      { error: expect.stringMatching(/not supported when streaming/), error_type: 'validation' },
    ]);
  });

  it('answers a tool call without content, finish reason the stop reason (chat_completions)', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const answer = JSON.parse(
      (await post('tgi', { messages: [{ role: 'user', content: 'Oslo' }], tools })).text,
    );
    expect(answer.choices[0].message).toEqual({
      role: 'assistant',
      tool_calls: [
        {
          id: '0',
          type: 'function',
          function: { description: null, name: 'weather', arguments: '{"city":"Oslo"}' },
        },
      ],
    });
    expect(answer.choices[0].finish_reason).toBe('stop');
  });

  it('answers a Messages API stream over the input limit with an error object after HTTP 200, then [DONE]', async () => {
    const { status, text } = await post('tgi', {
      messages: [{ role: 'user', content: 'a'.repeat(1100) }],
      stream: true,
    });
    expect(status).toBe(200);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(lines(text.replace('data: [DONE]', ''))[0]).toEqual({
      error: { message: expect.stringMatching(/must have less than 1024 tokens/), http_status_code: 422 },
    });
  });

  it('refuses a prompt over MAX_INPUT_TOKENS with 422, and in a generate stream with a validation event after HTTP 200 (validation.rs)', async () => {
    const long = { inputs: 'a'.repeat(1100), parameters: { max_new_tokens: 5 } };
    const whole = await post('tgi', long);
    expect(whole.status).toBe(422);
    expect(JSON.parse(whole.text)).toEqual({
      error: expect.stringMatching(/must have less than 1024 tokens/),
      error_type: 'validation',
    });
    const streamed = await post('tgi', { ...long, stream: true });
    expect(streamed.status).toBe(200);
    expect(lines(streamed.text)).toEqual([
      { error: expect.stringMatching(/must have less than 1024 tokens/), error_type: 'validation' },
    ]);
  });

  it('answers a failed generation with 424 (sagemaker.rs)', async () => {
    const { status, text } = await post('tgi', { inputs: 'x [[generation-fault]]' });
    expect(status).toBe(424);
    expect(JSON.parse(text)).toMatchObject({ error_type: 'generation' });
  });
});

describe('LMI 0.35 mode (rolling batch)', () => {
  it('answers an object without the prompt, details only when asked (output_formatter.py, json)', async () => {
    const answer = JSON.parse((await post('lmi', eos)).text);
    const tgi = JSON.parse(
      (await post('tgi', { ...eos, parameters: { ...eos.parameters, return_full_text: false } })).text,
    );
    expect(answer.generated_text).toBe(tgi[0].generated_text);
    expect(answer.details).toMatchObject({ finish_reason: 'eos_token', inputs: 'The wise ' });
    expect(answer.details).not.toHaveProperty('prefill');
  });

  it('streams JSON Lines tokens, generated_text and details on the last line only (jsonlines)', async () => {
    const { type, text } = await post('lmi', { ...eos, stream: true });
    expect(type).toBe('application/jsonlines');
    const events = lines(text);
    expect(events.slice(0, -1).every((e) => Object.keys(e).join() === 'token')).toBe(true);
    expect(events.at(-1)).toMatchObject({ token: { text: '' }, details: { finish_reason: 'eos_token' } });
    expect(events[0]?.token).toEqual({
      id: expect.any(Number),
      text: expect.any(String),
      log_prob: expect.any(Number),
    });
  });

  it('streams chat chunks without usage or [DONE], the finish reason on every chunk of the final step (jsonlines_chat)', async () => {
    const chat = {
      messages: [{ role: 'user', content: 'Tell me my fortune.' }],
      max_tokens: 120,
      seed: 39,
      temperature: 0.7,
      stream: true,
    };
    const plain = lines((await post('lmi', chat)).text);
    const speculative = lines((await post('lmi-spec', chat)).text);
    const text = (chunks: Event[]) => chunks.map((c) => c.choices[0].delta.content).join('');
    expect(text(speculative)).toBe(text(plain));
    for (const chunks of [plain, speculative]) {
      expect(chunks.every((c) => !('usage' in c) && c.id === 'chatcmpl-<built-in function id>')).toBe(true);
    }
    const finished = (chunks: Event[]) =>
      chunks.filter((c) => c.choices[0].finish_reason === 'eos_token').length;
    expect(finished(plain)).toBe(1);
    expect(finished(speculative)).toBeGreaterThan(1);
  });

  it('fails a rolling batch with 424, and every other generation running in it (rolling_batch.py, stop_on_any_exception)', async () => {
    // Seed 3 runs 612 tokens: still generating when the other request fails at its eighth.
    const long = {
      inputs: 'The wise ',
      parameters: { max_new_tokens: 1000, seed: 3, temperature: 0.7, do_sample: true, details: true },
      stream: true,
    };
    const running = await fetch(`${servers.get('lmi')?.url}/invocations`, {
      method: 'POST',
      body: JSON.stringify(long),
    });
    const reader = (running.body as ReadableStream<Uint8Array>).getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    expect((await post('lmi', { inputs: 'x [[generation-fault]]' })).status).toBe(424);
    for (let r = await reader.read(); !r.done; r = await reader.read())
      text += new TextDecoder().decode(r.value);
    const events = lines(text);
    expect(events.length).toBeLessThan(612);
    expect(events.at(-1)).toMatchObject({ details: { finish_reason: 'error' } });
    // The batch is new once its generations have failed.
    expect((await post('lmi', eos)).status).toBe(200);
  });
});

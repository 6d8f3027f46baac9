/**
 * The same seeded generation through a TGI container, an LMI container (with
 * speculative decoding) and an OpenAI-compatible one, end to end with the
 * OpenAI SDK: the same OpenAI answers, plain and streamed, every one valid
 * under OpenAI's own response schemas. docs/LARGE-MODELS.md maps the findings.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatModes, MODES, startChatModes } from '../fixtures/chat-modes.ts';
import { pingCounter } from '../fixtures/containers.ts';
import { assertOpenAI } from '../fixtures/openai-schema.ts';

let modes: ChatModes;
let client: OpenAI;
beforeAll(async () => {
  modes = await startChatModes();
  client = modes.client;
}, 120_000);
afterAll(() => modes.api.close());

const whole = (params: OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming) => modes.whole(params);
const streamed = (params: OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming) =>
  modes.streamed(params);
const fortune = [{ role: 'user' as const, content: 'Tell me my fortune.' }];
const weather: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** Prompt log-probability passes of a container, from its /ping header. */
function prefills(name: string): Promise<number> {
  return pingCounter(modes.api.containers.get(name)?.url, 'x-prefill-computations');
}

describe('the same seeded generation through TGI, LMI and an OpenAI-compatible container', () => {
  it('runs each declared model on a demo container in the mode of its container or protocol', async () => {
    const framing: Record<string, string> = {};
    for (const model of MODES) {
      const response = await fetch(`${modes.api.containers.get(model)?.url}/invocations`, {
        method: 'POST',
        body: JSON.stringify({ inputs: 'The wise ', parameters: { max_new_tokens: 3 }, stream: true }),
      });
      framing[model] = `${response.status} ${response.headers.get('content-type')}`;
      await response.body?.cancel();
    }
    // TGI streams generate as SSE, LMI as JSON Lines; an OpenAI server has no generate API.
    expect(framing).toEqual({
      'tgi-lm': '200 text/event-stream',
      'lmi-lm': '200 application/jsonlines',
      'vllm-lm': expect.stringMatching(/^4\d\d /),
    });
  });

  it('lists them all in a valid model list', async () => {
    const list = await client.models.list();
    assertOpenAI('ListModelsResponse', { object: 'list', data: list.data });
    expect(list.data.map((m) => m.id)).toEqual(expect.arrayContaining([...MODES]));
  });

  it.each([
    [39, 'stop'],
    [4, 'length'],
  ])(
    'answers chat (seed %i) with the same text, finish reason (%s) and usage, plain and streamed',
    async (seed, reason) => {
      const params = { messages: fortune, max_tokens: 120, seed, temperature: 0.7 };
      const answers = await Promise.all(MODES.map((model) => whole({ ...params, model })));
      const [tgi] = answers;
      expect(tgi?.choices[0]?.finish_reason).toBe(reason);
      for (const a of answers) {
        expect(a.choices[0]).toMatchObject({
          message: { content: tgi?.choices[0]?.message.content, refusal: null },
          finish_reason: reason,
        });
        expect(a.usage).toEqual(tgi?.usage);
      }
      for (const model of MODES) {
        const s = await streamed({ ...params, model });
        expect(s.content).toBe(tgi?.choices[0]?.message.content);
        expect(s.finish).toBe(reason);
        expect(s.usage?.completion_tokens).toBe(tgi?.usage?.completion_tokens);
        // LMI's rolling-batch chat chunks carry no usage: its prompt count is unknown (documented).
        expect(s.usage?.prompt_tokens).toBe(model === 'lmi-lm' ? 0 : tgi?.usage?.prompt_tokens);
      }
    },
  );

  it.each([
    [32, 'stop'],
    [1, 'length'],
  ])(
    'answers text completions (seed %i, %s) without repeating the prompt, plain and streamed',
    async (seed, reason) => {
      const params = { prompt: 'The wise ', max_tokens: 120, seed, temperature: 0.7 };
      const answers = await Promise.all(
        MODES.map((model) => client.completions.create({ ...params, model })),
      );
      const [tgi] = answers;
      for (const [i, a] of answers.entries()) {
        assertOpenAI('CreateCompletionResponse', a);
        expect(a.choices[0]).toMatchObject({ text: tgi?.choices[0]?.text, finish_reason: reason });
        expect(a.choices[0]?.text.startsWith('The wise')).toBe(false);
        expect(a.usage?.completion_tokens).toBe(tgi?.usage?.completion_tokens);
        // LMI's generate answer has no prompt count, and asking for one costs a prefill pass (documented).
        expect(a.usage?.prompt_tokens).toBe(MODES[i] === 'lmi-lm' ? 0 : 'The wise '.length);
      }
      for (const [i, model] of MODES.entries()) {
        let text = '';
        let finish: string | null = null;
        let usage: OpenAI.CompletionUsage | undefined;
        const stream = await client.completions.create({
          ...params,
          model,
          stream: true,
          stream_options: { include_usage: true },
        });
        for await (const c of stream) {
          text += c.choices[0]?.text ?? '';
          finish = c.choices[0]?.finish_reason ?? finish;
          usage = c.usage ?? usage;
        }
        expect({ model, text, finish }).toEqual({ model, text: tgi?.choices[0]?.text, finish: reason });
        // TGI's last event says the prompt's length (details.input_length); LMI's says nothing of it.
        expect({ model, usage }).toEqual({ model, usage: { ...answers[i]?.usage } });
      }
      for (const model of MODES) {
        // The prompt once, with echo only: TGI would repeat it by default.
        const echoed = await client.completions.create({ ...params, model, echo: true });
        let streamedEcho = '';
        for await (const c of await client.completions.create({ ...params, model, echo: true, stream: true }))
          streamedEcho += c.choices[0]?.text ?? '';
        expect({ model, whole: echoed.choices[0]?.text, streamed: streamedEcho }).toEqual({
          model,
          whole: `The wise ${tgi?.choices[0]?.text}`,
          streamed: `The wise ${tgi?.choices[0]?.text}`,
        });
      }
      expect(await prefills('lmi-lm')).toBe(0);
    },
  );

  it('answers a seeded text completion without a temperature alike: OpenAI’s default of 1, not greedy decoding', async () => {
    const params = { prompt: 'The wise ', max_tokens: 20, seed: 5 };
    const texts = await Promise.all(
      MODES.map(async (model) => (await client.completions.create({ ...params, model })).choices[0]?.text),
    );
    const greedy = await client.completions.create({ ...params, model: 'tgi-lm', temperature: 0 });
    expect(texts).toEqual(MODES.map(() => texts[0]));
    expect(texts[0]).not.toBe(greedy.choices[0]?.text);
  });

  it('round-trips a tool call with the SDK through TGI and the OpenAI-compatible server alike', async () => {
    for (const model of ['tgi-lm', 'vllm-lm']) {
      const ask = {
        model,
        messages: [{ role: 'user' as const, content: 'Paris' }],
        tools: [weather],
        seed: 3,
        temperature: 0.7,
        max_tokens: 40,
      };
      const first = await whole(ask);
      const call = first.choices[0]?.message
        .tool_calls?.[0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      expect(first.choices[0]?.finish_reason).toBe('tool_calls');
      expect(first.choices[0]?.message.content).toBeNull();
      expect(call.function.name).toBe('weather');
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
      const s = await streamed(ask);
      expect(s).toMatchObject({
        finish: 'tool_calls',
        calls: [{ name: 'weather', arguments: call.function.arguments }],
      });
      const reply = await whole({
        ...ask,
        messages: [
          ...ask.messages,
          first.choices[0]?.message as OpenAI.Chat.Completions.ChatCompletionMessageParam,
          { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 °C' },
        ],
      });
      expect(reply.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
      expect(reply.choices[0]?.message.content?.length).toBeGreaterThan(0);
    }
    const refused = await client.chat.completions
      .create({ model: 'lmi-lm', messages: fortune, tools: [weather] })
      .catch((e) => e);
    expect(refused).toMatchObject({
      status: 400,
      error: {
        param: 'tools',
        message: expect.stringMatching(/LMI's rolling-batch chat API, which answers no tool calls/),
      },
    });
    assertOpenAI('ErrorResponse', { error: refused.error });
  });

  it('answers json_schema through TGI (translated) and the OpenAI server, and refuses it for LMI saying what works', async () => {
    const response_format = {
      type: 'json_schema' as const,
      json_schema: {
        name: 'fortune',
        schema: { type: 'object', properties: { luck: { type: 'number' } }, required: ['luck'] },
      },
    };
    for (const model of ['tgi-lm', 'vllm-lm']) {
      const answer = await whole({ model, messages: fortune, response_format, seed: 1 });
      expect(JSON.parse(answer.choices[0]?.message.content ?? '')).toEqual({ luck: 1 });
    }
    const refused = await client.chat.completions
      .create({ model: 'lmi-lm', messages: fortune, response_format })
      .catch((e) => e);
    expect(refused).toMatchObject({
      status: 400,
      error: { param: 'response_format', message: expect.stringMatching(/must be \{"type": "text"\}/) },
    });
  });

  it('answers chat logprobs from every container in OpenAI’s shape', async () => {
    for (const model of MODES) {
      const answer = await whole({
        model,
        messages: fortune,
        logprobs: true,
        max_tokens: 5,
        seed: 2,
        temperature: 0.7,
      });
      const content = answer.choices[0]?.logprobs?.content ?? [];
      expect(content.map((t) => t.token).join('')).toBe(answer.choices[0]?.message.content);
      expect(content.every((t) => t.logprob <= 0 && Array.isArray(t.bytes))).toBe(true);
    }
  });
});

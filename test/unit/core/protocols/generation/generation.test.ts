/** OpenAI requests to model containers and back: stream reassembly, bodies, answers, chunks, SageMaker errors. */
import {
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  ServiceUnavailable,
} from '@aws-sdk/client-sagemaker-runtime';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../../../functions/core/errors.ts';
import {
  chatAnswer,
  chatChunks,
  completionAnswer,
  completionChunks,
  containerChatBody,
  containerCompletionBody,
  lines,
  streamEvents,
} from '../../../../../functions/core/protocols/generation/generation.ts';
import { parseChatRequest, parseCompletionRequest } from '../../../../../functions/core/protocols/openai.ts';
import { SageMakerRunner } from '../../../../../functions/core/runners/sagemaker.ts';
import { all, from, streamedText } from '../../../../fixtures/streams.ts';

/** The bytes of `text` cut into pieces at the given offsets. */
function cut(text: string, offsets: number[]): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const points = [0, ...offsets.filter((o) => o > 0 && o < bytes.length), bytes.length];
  return points.slice(1).map((end, i) => bytes.slice(points[i], end));
}

const chat = parseChatRequest({
  model: 'llm',
  messages: [{ role: 'user', content: 'hi' }],
  stream: true,
  stream_options: { include_usage: true },
});
const completion = parseCompletionRequest({ model: 'llm', prompt: 'Once', max_tokens: 5, stream: true });

describe('stream reassembly', () => {
  it('rebuilds the same lines wherever the byte stream is cut, even inside a UTF-8 character', async () => {
    const text =
      'data: {"token":{"text":"héllo"}}\n\ndata: {"token":{"text":"wörld ✓"}}\r\n\ndata: [DONE]\n\n';
    const expected = await all(lines(from(text)));
    const length = new TextEncoder().encode(text).length;
    for (let a = 1; a < length; a++) {
      for (const b of [a + 1, a + 3, a + 7]) {
        expect(await all(lines(from(...cut(text, [a, b])))), `cut at ${a}, ${b}`).toEqual(expected);
      }
    }
    expect(
      await all(
        lines(
          from(
            ...cut(
              text,
              Array.from({ length }, (_, i) => i),
            ),
          ),
        ),
      ),
    ).toEqual(expected);
  });

  it('reads server-sent events, skipping comments and other fields, until [DONE]', async () => {
    const events = await all(
      streamEvents(
        from(
          ': keep-alive\n',
          'event: message\nid: 1\ndata:{"a":1}\n\n',
          'data: {"a":2}\n\ndata: [DONE]\n\ndata: {"a":3}\n\n',
        ),
        'text/event-stream',
      ),
    );
    expect(events).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('reads JSON Lines (LMI), with or without a data: prefix', async () => {
    const events = await all(
      streamEvents(
        from('{"token":{"id":1,"text":"a","log_prob":-1}}\n{"to', 'ken":{"text":"b"}}\ndata: {"c":1}\n'),
        'application/jsonlines',
      ),
    );
    expect(events).toEqual([
      { token: { id: 1, text: 'a', log_prob: -1 } },
      { token: { text: 'b' } },
      { c: 1 },
    ]);
  });

  it('refuses lines that are not JSON, and error events, as upstream failures', async () => {
    await expect(all(streamEvents(from('data: oops\n\n'), 'text/event-stream'))).rejects.toThrow(
      UpstreamError,
    );
    await expect(
      all(streamEvents(from('{"error":"CUDA out of memory"}\n'), 'application/jsonlines')),
    ).rejects.toThrow(/failed while generating: CUDA out of memory/);
  });
});

describe('container requests', () => {
  it('sends chat as the Messages API and completions as TGI/LMI generate', () => {
    expect(
      containerChatBody(
        parseChatRequest({
          model: 'm',
          messages: [{ role: 'user', content: 'x' }],
          max_tokens: 9,
          temperature: 0.2,
        }),
      ),
    ).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 9,
      temperature: 0.2,
      stream: false,
    });
    expect(
      containerCompletionBody(parseCompletionRequest({ model: 'm', prompt: 'p', stop: 'x', seed: 3 }), 'tgi'),
    ).toEqual({
      inputs: 'p',
      parameters: {
        max_new_tokens: 16,
        do_sample: true,
        stop: ['x'],
        seed: 3,
        return_full_text: false,
        details: true,
        decoder_input_details: true,
      },
      stream: false,
    });
    expect(
      containerCompletionBody(parseCompletionRequest({ model: 'm', prompt: 'p' }), 'openai'),
    ).toMatchObject({ model: 'm', prompt: 'p', max_tokens: 16 });
  });
});

describe('answers', () => {
  const req = parseCompletionRequest({ model: 'llm', prompt: 'Once', stop: ['END'] });

  it('reads TGI arrays, LMI objects and OpenAI completions alike', () => {
    const tgi = completionAnswer(req, [
      {
        generated_text: ' upon a timeEND',
        details: { finish_reason: 'stop_sequence', generated_tokens: 4, prefill: [1, 2] },
      },
    ]);
    expect(tgi.choices[0]).toMatchObject({ text: ' upon a time', finish_reason: 'stop' });
    expect(tgi.usage).toEqual({ prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 });
    const lmi = completionAnswer(req, {
      generated_text: ' there',
      details: { finish_reason: 'length', generated_tokens: 2 },
    });
    expect(lmi.choices[0]).toMatchObject({ text: ' there', finish_reason: 'length' });
    const openai = completionAnswer(req, {
      choices: [{ text: 'x', finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1 },
    });
    expect(openai.usage.total_tokens).toBe(2);
    expect(() => completionAnswer(req, { nope: 1 })).toThrow(/without generated_text/);
  });

  it('rewrites a container chat completion as ours and refuses one without a message', () => {
    const answer = chatAnswer(
      parseChatRequest({ model: 'llm', messages: [{ role: 'user', content: 'x' }] }),
      {
        id: 'theirs',
        choices: [{ message: { role: 'assistant', content: 'hello' }, finish_reason: 'eos_token' }],
        usage: { prompt_tokens: 3, completion_tokens: 1 },
      },
    );
    expect(answer).toMatchObject({
      object: 'chat.completion',
      model: 'llm',
      choices: [{ message: { content: 'hello' }, finish_reason: 'stop' }],
    });
    expect(answer.id).toMatch(/^chatcmpl-/);
    expect(() =>
      chatAnswer(parseChatRequest({ model: 'llm', messages: [{ role: 'user', content: 'x' }] }), []),
    ).toThrow(UpstreamError);
  });
});

describe('streams', () => {
  it('turns LMI JSON Lines chat chunks into OpenAI chunks with usage last', async () => {
    const upstream = from(
      '{"choices":[{"delta":{"role":"assistant","content":"He"}}]}\n',
      '{"choices":[{"delta":{"content":"llo"}}]}\n{"choices":[{"delta":{},"finish_reason":"length"}]}\n',
    );
    const chunks = await all(chatChunks(chat, streamEvents(upstream, 'application/jsonlines')));
    expect(chunks.map((c) => (c.choices as Array<{ delta: unknown }>)[0]?.delta)).toEqual([
      { role: 'assistant', content: 'He' },
      { content: 'llo' },
      {},
      undefined,
    ]);
    expect(chunks.at(-2)).toMatchObject({ choices: [{ finish_reason: 'length' }] });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 2 } });
  });

  it('holds back a stop sequence split across tokens', async () => {
    const request = parseChatRequest({
      model: 'llm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stop: ['STOP'],
    });
    const tokens = ['ab', 'cS', 'T', 'OPdef'].map(
      (t) => `data: {"choices":[{"delta":{"content":"${t}"}}]}\n\n`,
    );
    const chunks = await all(
      chatChunks(
        request,
        streamEvents(
          from(...tokens, 'data: {"choices":[{"delta":{},"finish_reason":"length"}]}\n\n'),
          'text/event-stream',
        ),
      ),
    );
    const text = streamedText(chunks);
    expect(text).toBe('abc');
    expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
  });

  it('refuses a chat stream that ends without a finish reason', async () => {
    await expect(
      all(
        chatChunks(
          chat,
          streamEvents(from('data: {"choices":[{"delta":{"content":"a"}}]}\n\n'), 'text/event-stream'),
        ),
      ),
    ).rejects.toThrow(/without a finish reason/);
  });

  it('turns TGI and LMI token events into text_completion chunks', async () => {
    const tgi = from(
      'data:{"token":{"id":1,"text":" up","special":false},"generated_text":null}\n\n',
      'data:{"token":{"id":2,"text":"on","special":false},"generated_text":" upon","details":{"finish_reason":"eos_token"}}\n\n',
    );
    const a = await all(completionChunks(completion, streamEvents(tgi, 'text/event-stream')));
    expect(a.map((c) => (c.choices as Array<{ text: string }>)[0]?.text).join('')).toBe(' upon');
    expect(a.at(-1)).toMatchObject({ object: 'text_completion', choices: [{ finish_reason: 'stop' }] });
    const lmi = from(
      '{"token":{"id":1,"text":"x","log_prob":-0.1}}\n',
      '{"token":{"id":2,"text":"y","log_prob":-0.2},"generated_text":"xy","details":{"finish_reason":"length","generated_tokens":2,"inputs":"Once"}}\n',
    );
    const b = await all(completionChunks(completion, streamEvents(lmi, 'application/jsonlines')));
    expect(b.map((c) => (c.choices as Array<{ text: string }>)[0]?.text).join('')).toBe('xy');
    expect(b.at(-1)).toMatchObject({ choices: [{ finish_reason: 'length' }] });
  });
});

describe('SageMaker errors as ModelGate errors', () => {
  const runner = new SageMakerRunner(new SageMakerRuntimeClient({ region: 'us-east-1' }), {
    name: 'llm',
    endpoint: 'llm-ep',
    protocol: 'tgi',
  });
  const meta = { $metadata: {} };

  it('maps a container 4xx to 400 with its message, 5xx to 502, not-ready to 503, unavailability to 503', () => {
    const refused = runner.translate(
      new ModelError({
        ...meta,
        message: 'x',
        OriginalStatusCode: 422,
        OriginalMessage: '{"error":"Input validation error: `inputs` too long","error_type":"validation"}',
      }),
    );
    expect(refused).toMatchObject({
      statusCode: 400,
      message: "model 'llm' (endpoint llm-ep) refused the request: Input validation error: `inputs` too long",
    });
    expect(
      runner.translate(
        new ModelError({ ...meta, message: 'x', OriginalStatusCode: 500, OriginalMessage: 'boom' }),
      ),
    ).toMatchObject({ statusCode: 502 });
    expect(
      runner.translate(
        new ModelError({ ...meta, message: 'x', OriginalStatusCode: 429, OriginalMessage: 'busy' }),
      ),
    ).toMatchObject({ statusCode: 429, headers: { 'Retry-After': '1' } });
    expect(runner.translate(new ModelNotReadyException({ ...meta, message: 'warming' }))).toMatchObject({
      statusCode: 503,
      headers: { 'Retry-After': '5' },
    });
    expect(runner.translate(new ServiceUnavailable({ ...meta, message: 'down' }))).toMatchObject({
      statusCode: 503,
    });
    expect(runner.translate(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toMatchObject({
      statusCode: 503,
    });
  });
});

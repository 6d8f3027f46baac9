/**
 * The relay read against what TGI 3.2.3 and LMI 0.35 really send (issue 19's
 * findings 1–8, issue 14's logprobs and refusal): each test names its finding.
 */
import { ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  TooManyRequestsError,
  UpstreamError,
} from '../../../../../functions/core/errors.ts';
import {
  chatAnswer,
  chatChunks,
  completionAnswer,
  completionChunks,
  containerCompletionBody,
  streamEvents,
} from '../../../../../functions/core/protocols/generation/generation.ts';
import { parseChatRequest, parseCompletionRequest } from '../../../../../functions/core/protocols/openai.ts';
import { SageMakerRunner } from '../../../../../functions/core/runners/sagemaker.ts';
import { assertOpenAI } from '../../../../fixtures/openai-schema.ts';
import { all, from, streamedText, user, weather } from '../../../../fixtures/streams.ts';

describe('finding 1: completions never repeat the prompt', () => {
  it('asks TGI and LMI for the generated text only (TGI returns the full text by default)', () => {
    for (const protocol of ['tgi', 'lmi'] as const) {
      const body = containerCompletionBody(parseCompletionRequest({ model: 'm', prompt: 'Once' }), protocol);
      expect(body.parameters).toMatchObject({ return_full_text: false });
    }
  });
});

describe('finding 2: the end-of-sequence token of a TGI stream', () => {
  it('reads the finish reason and counts from the special last event', async () => {
    const request = parseCompletionRequest({
      model: 'm',
      prompt: 'Once',
      stream: true,
      stream_options: { include_usage: true },
    });
    const tgi = from(
      'data:{"index":1,"token":{"id":1,"text":" up","logprob":-1,"special":false},"generated_text":null,"details":null}\n\n',
      'data:{"index":2,"token":{"id":2,"text":"</s>","logprob":-0.1,"special":true},"generated_text":" up","details":{"finish_reason":"eos_token","generated_tokens":2,"seed":null,"input_length":4}}\n\n',
    );
    const chunks = await all(completionChunks(request, streamEvents(tgi, 'text/event-stream')));
    expect(chunks.map((c) => (c.choices as Array<{ text: string }>)[0]?.text ?? '').join('')).toBe(' up');
    expect(chunks.at(-2)).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
    expect(chunks.at(-1)).toMatchObject({
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
    });
    // OpenAI's document has no text-completion chunk schema: the last two chunks are whole answers.
    for (const c of chunks.slice(-2)) assertOpenAI('CreateCompletionResponse', c);
  });
});

describe('finding 3: TGI tool calls', () => {
  const request = parseChatRequest({ model: 'm', messages: user, tools: [weather] });

  it('answers a message without content as tool calls, finish reason tool_calls, arguments as text', () => {
    const answer = chatAnswer(request, {
      object: 'chat.completion',
      id: '',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            tool_calls: [
              {
                id: '0',
                type: 'function',
                function: { description: null, name: 'weather', arguments: { city: 'Paris' } },
              },
            ],
          },
          logprobs: null,
          finish_reason: 'eos_token',
        },
      ],
      usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 },
    });
    expect(answer.choices[0]).toMatchObject({
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          { id: '0', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
        ],
      },
      finish_reason: 'tool_calls',
    });
    assertOpenAI('CreateChatCompletionResponse', answer);
  });

  it('streams tool-call deltas with id, type and name first, then argument text', async () => {
    const delta = (fn: unknown) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, id: '', type: 'function', function: fn }] }, finish_reason: null }] })}\n\n`;
    const events = from(
      delta({ name: 'weather', arguments: '' }),
      delta({ name: null, arguments: '{"city":' }),
      delta({ name: null, arguments: '"Paris"}' }),
      'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
    );
    const chunks = await all(
      chatChunks({ ...request, stream: true }, streamEvents(events, 'text/event-stream')),
    );
    const calls = chunks.flatMap(
      (c) => (c.choices as Array<{ delta: { tool_calls?: unknown[] } }>)[0]?.delta.tool_calls ?? [],
    );
    expect(calls[0]).toMatchObject({
      index: 0,
      id: expect.stringMatching(/^call_/),
      type: 'function',
      function: { name: 'weather' },
    });
    expect(calls.slice(1)).toEqual([
      { index: 0, function: { arguments: '{"city":' } },
      { index: 0, function: { arguments: '"Paris"}' } },
    ]);
    expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: 'tool_calls' }] });
    for (const c of chunks) assertOpenAI('CreateChatCompletionStreamResponse', c);
  });
});

describe('finding 4: 424 is a failed generation on the server', () => {
  it('maps a container 424 to 502 with its message, for TGI and LMI bodies alike', () => {
    const runner = new SageMakerRunner(new SageMakerRuntimeClient({ region: 'us-east-1' }), {
      name: 'llm',
      endpoint: 'ep',
      protocol: 'tgi',
    });
    for (const body of [
      '{"error":"Request failed during generation: Server error: CUDA OOM","error_type":"generation"}',
      '{"code":424,"message":"CUDA OOM"}',
    ]) {
      const error = runner.translate(
        new ModelError({ $metadata: {}, message: 'x', OriginalStatusCode: 424, OriginalMessage: body }),
      );
      expect(error).toMatchObject({ statusCode: 502, message: expect.stringMatching(/CUDA OOM/) });
    }
  });
});

describe('finding 5: error events after HTTP 200', () => {
  it('reads the Messages API error object: 422 is the client’s mistake, with the container’s message', async () => {
    const events = from(
      'data: {"error":{"message":"Input validation error: `inputs` must have less than 1024 tokens. Given: 2000","http_status_code":422}}\n\ndata: [DONE]\n\n',
    );
    const error = await all(streamEvents(events, 'text/event-stream', "model 'm'")).catch((e) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toBe(
      "model 'm' refused the request: Input validation error: `inputs` must have less than 1024 tokens. Given: 2000",
    );
  });

  it('reads generate error events by their type: validation 400, overloaded 429, generation 502', async () => {
    const read = (event: unknown) =>
      all(streamEvents(from(`data:${JSON.stringify(event)}\n\n`), 'text/event-stream')).catch((e) => e);
    expect(await read({ error: 'bad', error_type: 'validation' })).toBeInstanceOf(BadRequestError);
    expect(await read({ error: 'busy', error_type: 'overloaded' })).toBeInstanceOf(TooManyRequestsError);
    expect(
      await read({ error: 'Request failed during generation: x', error_type: 'generation' }),
    ).toMatchObject({
      statusCode: 502,
      message: 'the model server failed while generating: Request failed during generation: x',
    });
  });
});

describe('finding 8: nothing computed that nobody asked for, no token lost at the end', () => {
  it('never asks LMI for prompt log-probabilities', () => {
    for (const stream of [false, true]) {
      const body = containerCompletionBody(
        parseCompletionRequest({ model: 'm', prompt: 'p', stream }),
        'lmi',
      );
      expect(body.parameters).not.toHaveProperty('decoder_input_details');
    }
  });

  it('keeps every chunk of LMI’s final step, each stamped with the finish reason', async () => {
    const line = (content: string, finish: string | null) =>
      `${JSON.stringify({ id: 'chatcmpl-<built-in function id>', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: finish }] })}\n`;
    const request = parseChatRequest({
      model: 'm',
      messages: user,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await all(
      chatChunks(
        request,
        streamEvents(
          from(line('Sun', null), line('ny', 'eos_token'), line('!', 'eos_token'), line('', 'eos_token')),
          'application/jsonlines',
        ),
      ),
    );
    const text = streamedText(chunks);
    expect(text).toBe('Sunny!');
    expect(chunks.at(-2)).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
    expect(chunks.at(-1)).toMatchObject({ usage: { prompt_tokens: 0, completion_tokens: 4 } });
  });

  it('reads an LMI sequence that failed mid-stream as a server failure', async () => {
    const request = parseCompletionRequest({ model: 'm', prompt: 'p', stream: true });
    const events = from(
      '{"token":{"id":1,"text":"a","log_prob":-1}}\n',
      '{"token":{"id":-1,"text":"","log_prob":0},"generated_text":"a","details":{"finish_reason":"error"}}\n',
    );
    await expect(
      all(completionChunks(request, streamEvents(events, 'application/jsonlines'))),
    ).rejects.toThrow(UpstreamError);
  });

  it('reads LMI’s abort and error finish reasons as server failures, whole and streamed, never as a stop', async () => {
    for (const reason of ['abort', 'error']) {
      const chat = parseChatRequest({ model: 'm', messages: user });
      const whole = () =>
        chatAnswer(chat, {
          choices: [{ message: { role: 'assistant', content: 'a' }, finish_reason: reason }],
        });
      expect(whole).toThrow(UpstreamError);
      expect(whole).toThrow(`finish_reason "${reason}"`);
      const text = () =>
        completionAnswer(parseCompletionRequest({ model: 'm', prompt: 'p' }), {
          generated_text: 'a',
          details: { finish_reason: reason, generated_tokens: 1 },
        });
      expect(text).toThrow(UpstreamError);
      const line = `${JSON.stringify({ choices: [{ index: 0, delta: { content: 'a' }, finish_reason: reason }] })}\n`;
      const streamed = all(
        chatChunks({ ...chat, stream: true }, streamEvents(from(line), 'application/jsonlines')),
      );
      await expect(streamed).rejects.toThrow(UpstreamError);
    }
  });
});

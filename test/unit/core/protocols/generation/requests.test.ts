/**
 * Requests the relay sends to TGI, LMI and OpenAI servers (issue 19's findings
 * 6 and 7) and the chat log probabilities and refusal field of issue 14.
 */
import { describe, expect, it } from 'vitest';
import {
  chatAnswer,
  chatChunks,
  completionAnswer,
  containerChatBody,
  containerCompletionBody,
  streamEvents,
} from '../../../../../functions/core/protocols/generation/generation.ts';
import { parseChatRequest, parseCompletionRequest } from '../../../../../functions/core/protocols/openai.ts';
import { assertOpenAI } from '../../../../fixtures/openai-schema.ts';
import { all, from, user, weather } from '../../../../fixtures/streams.ts';

describe('finding 6: prompt tokens wherever the answer carries them', () => {
  it('asks TGI and OpenAI servers for a usage chunk on every chat stream, and LMI for none', () => {
    const request = parseChatRequest({ model: 'm', messages: user, stream: true });
    expect(containerChatBody(request, 'tgi').stream_options).toEqual({ include_usage: true });
    expect(containerChatBody(request, 'openai').stream_options).toEqual({ include_usage: true });
    expect(containerChatBody(request, 'lmi').stream_options).toBeUndefined();
  });
});

describe('the same seeded generation whatever the container', () => {
  it('samples at OpenAI’s default temperature unless told otherwise: TGI and LMI decode greedily without do_sample', () => {
    const body = (params: Record<string, unknown>) =>
      containerCompletionBody(parseCompletionRequest({ model: 'm', prompt: 'p', ...params }), 'lmi')
        .parameters;
    expect(body({})).toMatchObject({ do_sample: true });
    expect(body({})).not.toHaveProperty('temperature');
    expect(body({ temperature: 0.7 })).toMatchObject({ do_sample: true, temperature: 0.7 });
    expect(body({ temperature: 0 })).toMatchObject({ do_sample: false });
    expect(body({ temperature: 0 })).not.toHaveProperty('temperature');
  });
});

describe('finding 7: multi-turn tool use and response_format', () => {
  const calls = [
    { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
  ];
  const turns = [
    ...user,
    { role: 'assistant', content: null, tool_calls: calls },
    { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
  ];

  it('keeps assistant tool calls and the call a tool result answers', () => {
    const body = containerChatBody(
      parseChatRequest({ model: 'm', messages: turns, tools: [weather] }),
      'tgi',
    );
    expect(body.messages).toEqual([
      user[0],
      { role: 'assistant', tool_calls: calls },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ]);
  });

  it('refuses a tool result that names no call', () => {
    expect(() =>
      parseChatRequest({ model: 'm', messages: [...user, { role: 'tool', content: 'x' }] }),
    ).toThrow(/tool_call_id/);
  });

  it('translates json_schema and json_object into TGI’s grammar, passes them to OpenAI servers, refuses them for LMI, drops text', () => {
    const format = {
      type: 'json_schema',
      json_schema: { name: 'w', schema: { type: 'object', properties: { t: { type: 'number' } } } },
    };
    const request = parseChatRequest({ model: 'm', messages: user, response_format: format });
    expect(containerChatBody(request, 'tgi').response_format).toEqual({
      type: 'json',
      value: format.json_schema.schema,
    });
    expect(containerChatBody(request, 'openai').response_format).toMatchObject(format);
    expect(() => containerChatBody(request, 'lmi')).toThrow(/'response_format' must be \{"type": "text"\}/);
    const object = parseChatRequest({ model: 'm', messages: user, response_format: { type: 'json_object' } });
    expect(containerChatBody(object, 'tgi').response_format).toEqual({
      type: 'json',
      value: { type: 'object' },
    });
    expect(() => containerChatBody(object, 'lmi')).toThrow(/TGI or OpenAI-compatible container/);
    const text = parseChatRequest({ model: 'm', messages: user, response_format: { type: 'text' } });
    for (const protocol of ['tgi', 'lmi', 'openai'] as const) {
      expect(containerChatBody(text, protocol)).not.toHaveProperty('response_format');
    }
    expect(() => parseChatRequest({ model: 'm', messages: user, response_format: { type: 'xml' } })).toThrow(
      /json_object/,
    );
  });
});

describe('issue 14: chat logprobs and the refusal field', () => {
  it('forwards logprobs and translates TGI’s (no bytes) and LMI’s (a one-element list) into OpenAI’s', async () => {
    const request = parseChatRequest({ model: 'm', messages: user, logprobs: true, top_logprobs: 1 });
    expect(containerChatBody(request, 'tgi')).toMatchObject({ logprobs: true, top_logprobs: 1 });
    const tgi = chatAnswer(request, {
      choices: [
        {
          message: { role: 'assistant', content: 'hé' },
          logprobs: {
            content: [{ token: 'hé', logprob: -0.5, top_logprobs: [{ token: 'hé', logprob: -0.5 }] }],
          },
          finish_reason: 'length',
        },
      ],
    });
    expect(tgi.choices[0]?.logprobs).toEqual({
      content: [
        {
          token: 'hé',
          logprob: -0.5,
          bytes: [104, 195, 169],
          top_logprobs: [{ token: 'hé', logprob: -0.5, bytes: [104, 195, 169] }],
        },
      ],
      refusal: null,
    });
    assertOpenAI('CreateChatCompletionResponse', tgi);
    const lmi = `${JSON.stringify({ choices: [{ index: 0, delta: { content: 'a' }, logprobs: [{ content: [{ token: 'a', logprob: -1, bytes: [97], top_logprobs: [{ token: -1, logprob: -1, bytes: [97] }] }] }], finish_reason: 'length' }] })}\n`;
    const chunks = await all(
      chatChunks({ ...request, stream: true }, streamEvents(from(lmi), 'application/jsonlines')),
    );
    expect(chunks[0]).toMatchObject({
      choices: [{ logprobs: { content: [{ token: 'a', top_logprobs: [{ token: 'a' }] }] } }],
    });
    for (const c of chunks) assertOpenAI('CreateChatCompletionStreamResponse', c);
  });

  it('answers every chat completion with refusal: null and passes OpenAI’s schema', () => {
    const answer = chatAnswer(parseChatRequest({ model: 'm', messages: user }), {
      choices: [{ message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
    });
    expect(answer.choices[0]?.message.refusal).toBeNull();
    assertOpenAI('CreateChatCompletionResponse', answer);
    assertOpenAI(
      'CreateCompletionResponse',
      completionAnswer(parseCompletionRequest({ model: 'm', prompt: 'p' }), [
        { generated_text: 'x', details: { finish_reason: 'length', generated_tokens: 1 } },
      ]),
    );
  });
});

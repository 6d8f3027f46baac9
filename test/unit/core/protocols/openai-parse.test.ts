/**
 * The OpenAI request parsers read only what their route's schema has checked, and take the
 * requests OpenAI clients send as the parser before the schemas took them.
 */
import { describe, expect, it } from 'vitest';
import { parseChatRequest, parseCompletionRequest } from '../../../../functions/core/protocols/openai.ts';

const user = [{ role: 'user', content: 'hi' }];

describe('parseCompletionRequest', () => {
  it('never reads max_completion_tokens, a chat parameter its schema does not check', () => {
    for (const value of ['abc', -5, 2.5, 10]) {
      const request = parseCompletionRequest({ model: 'm', prompt: 'p', max_completion_tokens: value });
      expect(request.maxTokens).toBe(16);
    }
    expect(parseCompletionRequest({ model: 'm', prompt: 'p', max_tokens: 7 }).maxTokens).toBe(7);
  });
});

describe('parseChatRequest', () => {
  it('takes max_completion_tokens before max_tokens', () => {
    const request = parseChatRequest({ model: 'm', messages: user, max_tokens: 5, max_completion_tokens: 9 });
    expect(request.maxTokens).toBe(9);
    expect(parseChatRequest({ model: 'm', messages: user, max_tokens: 5 }).maxTokens).toBe(5);
  });
});

describe('null for an unset field, as the parser before the schemas took it', () => {
  it('takes a message name and tool_call_id of null as absent', () => {
    const request = parseChatRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'hi', name: null, tool_call_id: null }],
    });
    expect(request.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('still refuses a tool result whose tool_call_id is null', () => {
    expect(() =>
      parseChatRequest({ model: 'm', messages: [{ role: 'tool', content: 'x', tool_call_id: null }] }),
    ).toThrow(expect.objectContaining({ param: 'messages[0].tool_call_id' }));
  });

  it('takes include_usage: null as false', () => {
    const request = parseChatRequest({
      model: 'm',
      messages: user,
      stream: true,
      stream_options: { include_usage: null },
    });
    expect(request.includeUsage).toBe(false);
  });
});

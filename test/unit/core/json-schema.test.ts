/**
 * The request-schema checker: what it refuses and the words it refuses with, made from the schema or its
 * `x-message`, and the OpenAI parameter each refusal of a chat or completion request names.
 */
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../functions/core/errors.ts';
import { expected, SHOWN_CHARS, schemaProblem } from '../../../functions/core/json-schema.ts';
import { parseChatRequest, parseCompletionRequest } from '../../../functions/core/protocols/openai.ts';

describe('schemaProblem', () => {
  it('accepts what matches and names the first place that does not, with its path', () => {
    const schema = {
      type: 'object',
      required: ['a'],
      properties: {
        a: { type: 'array', items: { type: 'object', properties: { b: { enum: ['x', 'y'] } } } },
      },
    };
    expect(schemaProblem({ a: [{ b: 'x' }, {}] }, schema)).toBeUndefined();
    expect(schemaProblem({ a: [{ b: 'x' }, { b: 'z' }] }, schema)).toEqual({
      message: `'a[1].b' must be one of x, y, got "z"`,
      param: 'a[1].b',
    });
    expect(schemaProblem({}, schema)).toEqual({ message: "'a' is required", param: 'a' });
  });

  it('quotes at most SHOWN_CHARS characters of a refused value, however long it is', () => {
    const problem = schemaProblem(
      { tools: 'x'.repeat(1_000_000) },
      {
        type: 'object',
        properties: { tools: { type: 'array' } },
      },
    );
    expect(problem?.message).toBe(
      `'tools' must be an array of values, got "${'x'.repeat(SHOWN_CHARS - 1)}… (1000002 characters)`,
    );
    expect(schemaProblem('x'.repeat(SHOWN_CHARS - 2), { type: 'number' })?.message).toMatch(/got "x+"$/);
  });

  it('says what a schema asks for in words', () => {
    expect(expected({ type: ['number', 'null'], minimum: 0, maximum: 2 })).toBe('a number from 0 to 2');
    expect(expected({ type: 'integer', minimum: 1 })).toBe('an integer of at least 1');
    expect(expected({ type: 'boolean' })).toBe('true or false');
    expect(expected({ type: 'string', minLength: 1 })).toBe('a non-empty string');
    expect(expected({ type: 'array', items: { type: 'string' }, maxItems: 4 })).toBe(
      'an array of up to 4 strings',
    );
    expect(expected({ type: 'array', items: { type: 'object' }, minItems: 1 })).toBe(
      'a non-empty array of objects',
    );
    expect(expected({ oneOf: [{ type: 'string' }, { type: 'null' }, { type: 'array' }] })).toBe(
      'a string or an array of values',
    );
    expect(expected({ const: 'text' })).toBe('"text"');
  });

  it('keeps oneOf to exactly one match, anyOf to at least one, and not to none', () => {
    const oneOf = { oneOf: [{ type: 'number' }, { type: 'integer' }] };
    expect(schemaProblem(1.5, oneOf)).toBeUndefined();
    expect(schemaProblem(2, oneOf)?.message).toMatch(/must be a number or an integer, got 2/);
    expect(schemaProblem('a', { anyOf: [{ type: 'number' }, { const: 'a' }] })).toBeUndefined();
    expect(schemaProblem('a', { not: { const: 'a' } })).toBeDefined();
  });

  it("tells a node's own failure in its x-message, with {path} filled in, and its parts' in theirs", () => {
    const schema = {
      type: 'object',
      properties: {
        list: {
          type: 'array',
          items: {
            type: 'object',
            properties: { n: { type: 'integer' } },
            'x-message': '{path} must be a row',
          },
          'x-message': 'list must be an array',
          'x-param': 'the-list',
        },
      },
    };
    expect(schemaProblem({ list: 3 }, schema)).toEqual({
      message: 'list must be an array',
      param: 'the-list',
    });
    expect(schemaProblem({ list: [{}, 'x'] }, schema)).toEqual({
      message: 'list[1] must be a row',
      param: 'list[1]',
    });
    expect(schemaProblem({ list: [{ n: 0.5 }] }, schema)?.message).toBe(
      "'list[0].n' must be an integer, got 0.5",
    );
  });
});

describe('chat and completion requests refused by their schemas', () => {
  const user = [{ role: 'user', content: 'hi' }];
  const refusal = (parse: () => unknown) => {
    try {
      parse();
    } catch (error) {
      expect(error).toBeInstanceOf(BadRequestError);
      const { message, param } = error as BadRequestError;
      return { message, param };
    }
    throw new Error('the request was accepted');
  };

  it.each([
    [
      { model: 'm', messages: user, temperature: 3 },
      "'temperature' must be a number from 0 to 2, got 3",
      'temperature',
    ],
    [
      { model: 'm', messages: user, max_tokens: 1.5 },
      "'max_tokens' must be an integer from 1 to 1000000, got 1.5",
      'max_tokens',
    ],
    [{ messages: user }, "'model' is required: the name of a model from GET /v1/models", 'model'],
    [{ model: 'm', messages: [] }, `'messages' must be a non-empty array of {"role", "content"}`, 'messages'],
    [
      { model: 'm', messages: [{ role: 'bot' }] },
      `'messages[0].role' must be one of system, developer, user, assistant, tool, got "bot"`,
      'messages[0].role',
    ],
    [
      { model: 'm', messages: [...user, { role: 'tool', content: '4' }] },
      "messages[1] is a tool result: 'tool_call_id' must name the call it answers",
      'messages[1].tool_call_id',
    ],
    [
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url' }] }] },
      'messages[0].content must be a string or an array of text parts {"type": "text", "text": "..."}',
      'messages[0].content',
    ],
    [
      { model: 'm', messages: [{ role: 'assistant', tool_calls: [{ id: 'c1' }] }] },
      "'messages[0].tool_calls[0].function' is required",
      'messages[0].tool_calls[0].function',
    ],
    [
      { model: 'm', messages: user, stream_options: { include_usage: true } },
      "'stream_options' is only allowed with 'stream': true",
      'stream_options',
    ],
    [
      { model: 'm', messages: user, top_logprobs: 2 },
      "'top_logprobs' needs 'logprobs': true",
      'top_logprobs',
    ],
    [
      { model: 'm', messages: user, response_format: { type: 'json_schema' } },
      `'response_format.json_schema' must be {"name", "schema": {...}}`,
      'response_format',
    ],
    [{ model: 'm', messages: user, n: 2 }, "'n' must be 1: one choice per request is supported", 'n'],
    [
      { model: 'm', messages: user, stop: ['a', 'b', 'c', 'd', 'e'] },
      '\'stop\' must be a string or an array of up to 4 strings, got ["a","b","c","d","e"]',
      'stop',
    ],
  ])('chat %#: %j', (body, message, param) => {
    expect(refusal(() => parseChatRequest(body))).toEqual({ message, param });
  });

  it('refuses a body that is not an object without naming a parameter', () => {
    expect(refusal(() => parseChatRequest([]))).toEqual({
      message: 'request body must be a JSON object {"model", "messages": [{"role", "content"}, ...]}',
      param: undefined,
    });
  });

  it.each([
    [{ model: 'm', prompt: ['a', 'b'] }, "'prompt' must be a string (one prompt per request)", 'prompt'],
    [{ model: 'm' }, "'prompt' must be a string (one prompt per request)", 'prompt'],
    [{ model: 'm', prompt: 'p', logprobs: 2 }, "'logprobs' is not supported", 'logprobs'],
    [{ model: 'm', prompt: 'p', echo: 'yes' }, `'echo' must be true or false, got "yes"`, 'echo'],
  ])('completion %#: %j', (body, message, param) => {
    expect(refusal(() => parseCompletionRequest(body))).toEqual({ message, param });
  });

  it('reads what the schema lets through: null as absent, a one-prompt array, text parts joined', () => {
    const chat = parseChatRequest({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ],
      temperature: null,
      stop: 'x',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(chat).toMatchObject({ temperature: undefined, stop: ['x'], stream: true, includeUsage: true });
    expect(chat.messages[0]?.content).toBe('ab');
    expect(parseCompletionRequest({ model: 'm', prompt: ['p'] })).toMatchObject({
      prompt: 'p',
      maxTokens: 16,
    });
  });
});

/**
 * The chat and completion bodies of the OpenAPI document, read by ajv, against the chat function's parsers,
 * which check the same schemas with ModelGate's own checker: the same bodies accepted and the same refused,
 * at every bound, type and enum the document states.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../../functions/core/openapi/document.ts';
import { parseChatRequest, parseCompletionRequest } from '../../../../functions/core/protocols/openai.ts';
import { GENERATION_LIMITS, MAX_STOP, ROLES } from '../../../../functions/core/protocols/openai-schemas.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON documents.
type Json = Record<string, any>;
const schemas = (openApiDocument({ version: '1' }) as Json).components.schemas;
const ajv = new Ajv2020({ strict: false });
const schemaAccepts = {
  chat: ajv.compile(schemas.ChatRequest),
  completion: ajv.compile(schemas.CompletionRequest),
};
const parsers = { chat: parseChatRequest, completion: parseCompletionRequest };

const chat = (extra: Json = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
const completion = (extra: Json = {}) => ({ model: 'm', prompt: 'hi', ...extra });

/** Whether the parser takes the body. */
function parserAccepts(kind: 'chat' | 'completion', body: unknown): boolean {
  try {
    parsers[kind](body);
    return true;
  } catch {
    return false;
  }
}

/** Bodies of both kinds around every stated bound and type, each with what both sides must say. */
function cases(): [string, 'chat' | 'completion', Json, boolean][] {
  const all: [string, 'chat' | 'completion', Json, boolean][] = [];
  for (const [name, [min, max]] of Object.entries(GENERATION_LIMITS)) {
    const kinds = ['max_completion_tokens', 'top_logprobs'].includes(name)
      ? (['chat'] as const)
      : (['chat', 'completion'] as const);
    for (const kind of kinds) {
      const body = (value: unknown) =>
        (kind === 'chat' ? chat : completion)({
          [name]: value,
          ...(name === 'top_logprobs' && { logprobs: true }),
        });
      all.push([`${name} = ${min}`, kind, body(min), true]);
      all.push([`${name} = ${max}`, kind, body(max), true]);
      all.push([`${name} below ${min}`, kind, body(min - 1), false]);
      all.push([`${name} above ${max}`, kind, body(max + 1), false]);
      all.push([`${name} as text`, kind, body(String(min)), false]);
      if (Number.isInteger(min) && ['max_tokens', 'max_completion_tokens', 'top_logprobs'].includes(name))
        all.push([`${name} = ${min + 0.5}`, kind, body(min + 0.5), false]);
    }
  }
  for (const [kind, make] of [
    ['chat', chat],
    ['completion', completion],
  ] as const) {
    all.push(
      ['the smallest body', kind, make(), true],
      ['no model', kind, { ...make(), model: undefined }, false],
      ['an empty model', kind, make({ model: '' }), false],
      ['a stop string', kind, make({ stop: 'x' }), true],
      [`${MAX_STOP} stops`, kind, make({ stop: Array(MAX_STOP).fill('x') }), true],
      [`${MAX_STOP + 1} stops`, kind, make({ stop: Array(MAX_STOP + 1).fill('x') }), false],
      ['a numeric stop', kind, make({ stop: [1] }), false],
      ['n = 1', kind, make({ n: 1 }), true],
      ['n = 2', kind, make({ n: 2 }), false],
      ['stream as text', kind, make({ stream: 'yes' }), false],
      ['an integer seed', kind, make({ seed: 7 }), true],
      ['a fractional seed', kind, make({ seed: 7.5 }), false],
      [
        'stream_options with stream',
        kind,
        make({ stream: true, stream_options: { include_usage: true } }),
        true,
      ],
      ['stream_options without stream', kind, make({ stream_options: { include_usage: true } }), false],
      ['stream_options with stream false', kind, make({ stream: false, stream_options: {} }), false],
      ['a null model', kind, make({ model: null }), false],
      // OpenAI's clients may send null for a parameter they leave unset.
      ...[...Object.keys(GENERATION_LIMITS), 'seed', 'n', 'stop', 'stream', 'stream_options']
        .filter((name) => kind === 'chat' || !['max_completion_tokens', 'top_logprobs'].includes(name))
        .map((name): [string, 'chat' | 'completion', Json, boolean] => [
          `${name} null`,
          kind,
          make({ [name]: null }),
          true,
        ]),
    );
  }
  all.push(
    ...ROLES.map((role): [string, 'chat', Json, boolean] => [
      `role ${role}`,
      'chat',
      chat({ messages: [{ role, content: 'x', ...(role === 'tool' && { tool_call_id: 'c' }) }] }),
      true,
    ]),
    ['an unknown role', 'chat', chat({ messages: [{ role: 'robot', content: 'x' }] }), false],
    ['no messages', 'chat', chat({ messages: [] }), false],
    [
      'text parts',
      'chat',
      chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] }),
      true,
    ],
    [
      'an image part',
      'chat',
      chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }),
      false,
    ],
    ['content as a number', 'chat', chat({ messages: [{ role: 'user', content: 1 }] }), false],
    ['tools as an object', 'chat', chat({ tools: {} }), false],
    ['logprobs as text', 'chat', chat({ logprobs: 'yes' }), false],
    ['user as a number', 'chat', chat({ user: 1 }), false],
    ['user null', 'chat', chat({ user: null }), false],
    [
      'tools, response_format and logprobs null',
      'chat',
      chat({ tools: null, response_format: null, logprobs: null }),
      true,
    ],
    ['top_logprobs with logprobs', 'chat', chat({ logprobs: true, top_logprobs: 2 }), true],
    ['top_logprobs without logprobs', 'chat', chat({ top_logprobs: 2 }), false],
    ['top_logprobs with logprobs false', 'chat', chat({ logprobs: false, top_logprobs: 2 }), false],
    ['a json_object format', 'chat', chat({ response_format: { type: 'json_object' } }), true],
    [
      'a json_schema format',
      'chat',
      chat({
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      }),
      true,
    ],
    [
      'a json_schema format without its schema',
      'chat',
      chat({ response_format: { type: 'json_schema' } }),
      false,
    ],
    ['an unknown format', 'chat', chat({ response_format: { type: 'xml' } }), false],
    ['a suffix', 'completion', completion({ suffix: 'x' }), false],
    ['best_of 2', 'completion', completion({ best_of: 2 }), false],
    ['best_of 1', 'completion', completion({ best_of: 1 }), true],
    ['logprobs on a completion', 'completion', completion({ logprobs: 1 }), false],
    ['echo null', 'completion', completion({ echo: null }), false],
    ['a one-prompt array', 'completion', completion({ prompt: ['hi'] }), true],
    ['two prompts', 'completion', completion({ prompt: ['a', 'b'] }), false],
    ['no prompt', 'completion', { model: 'm' }, false],
    ['echo as text', 'completion', completion({ echo: 'yes' }), false],
  );
  return all;
}

describe('the OpenAPI chat bodies read by ajv and by the chat function agree', () => {
  it.each(cases())('%s (%s): accepted = %s by both', (_, kind, body, accepted) => {
    const schema = schemaAccepts[kind];
    expect(schema(body), ajv.errorsText(schema.errors)).toBe(accepted);
    expect(parserAccepts(kind, body)).toBe(accepted);
  });
});

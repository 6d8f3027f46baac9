/**
 * What every demo container mode reads from a request the same way: sampling
 * options, token limits, the chat prompt (tool calls and tool results included)
 * and what a chat turn answers: text, a tool call, or JSON for a schema.
 */
import type { SamplingOptions } from './model.ts';

/** A request the container refuses: TGI answers 422, LMI and OpenAI servers 400. */
export class ValidationError extends Error {}

export type Json = Record<string, unknown>;

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function number(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ValidationError(`\`${name}\` must be a number between ${min} and ${max}`);
  }
  return value;
}

function stops(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((s) => typeof s === 'string') || list.length > 4) {
    throw new ValidationError('`stop` must be a string or a list of at most 4 strings');
  }
  return list as string[];
}

const randomSeed = () => Math.floor(Math.random() * 2 ** 31);

/** Sampling options from generate `parameters` (TGI and LMI alike). */
export function generateOptions(parameters: Json, defaultMaxNewTokens: number): SamplingOptions {
  const temperature = number(parameters.temperature, 'temperature', 0, 100, 1);
  const topP = number(parameters.top_p, 'top_p', 0, 1, 1);
  const sample =
    parameters.do_sample === true ||
    (parameters.do_sample !== false &&
      (parameters.temperature !== undefined || parameters.top_p !== undefined));
  return {
    maxNewTokens: number(parameters.max_new_tokens, 'max_new_tokens', 1, 1_000_000, defaultMaxNewTokens),
    temperature,
    topP: topP === 0 ? 1 : topP,
    topK: number(parameters.top_k, 'top_k', 1, 1000, 1000),
    sample,
    stop: stops(parameters.stop),
    seed: number(parameters.seed, 'seed', 0, 2 ** 53, randomSeed()),
  };
}

/** Sampling options from an OpenAI-shaped request (Messages API, OpenAI completions). */
export function openAIOptions(body: Json, defaultMaxTokens: number): SamplingOptions {
  const temperature = number(body.temperature, 'temperature', 0, 2, 1);
  return {
    maxNewTokens: number(
      body.max_completion_tokens ?? body.max_tokens,
      'max_tokens',
      1,
      1_000_000,
      defaultMaxTokens,
    ),
    temperature,
    topP: number(body.top_p, 'top_p', 0, 1, 1) || 1,
    topK: 1000,
    sample: temperature > 0,
    stop: stops(body.stop),
    seed: number(body.seed, 'seed', 0, 2 ** 53, randomSeed()),
  };
}

/** Token limits of the served model (TGI's MAX_INPUT_TOKENS and MAX_TOTAL_TOKENS). */
export interface Limits {
  readonly maxInputTokens: number;
  readonly maxTotalTokens: number;
}

/** TGI's validation of a prompt's length (router/src/validation.rs), the same words. */
export function checkLength(inputTokens: number, maxNewTokens: number, limits: Limits): void {
  if (inputTokens > limits.maxInputTokens) {
    throw new ValidationError(
      `Input validation error: \`inputs\` must have less than ${limits.maxInputTokens} tokens. Given: ${inputTokens}`,
    );
  }
  if (inputTokens + maxNewTokens > limits.maxTotalTokens) {
    throw new ValidationError(
      `Input validation error: \`inputs\` tokens + \`max_new_tokens\` must be <= ${limits.maxTotalTokens}. Given: ${inputTokens} \`inputs\` tokens and ${maxNewTokens} \`max_new_tokens\``,
    );
  }
}

/** What a chat turn answers. */
export type ChatPlan =
  | { readonly kind: 'text'; readonly prompt: string }
  | { readonly kind: 'tool'; readonly prompt: string; readonly name: string; readonly arguments: string }
  | { readonly kind: 'json'; readonly prompt: string; readonly json: string };

function text(content: unknown, i: number): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (isJson(part) && part.type === 'text' ? String(part.text ?? '') : ''))
      .join('');
  }
  throw new ValidationError(`messages[${i}].content must be a string`);
}

/**
 * The prompt a chat becomes, as a chat template renders it: one line per
 * message, assistant tool calls and tool results included. A tool result must
 * answer a tool call made earlier in the conversation, as strict templates demand.
 */
export function chatPrompt(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ValidationError('`messages` must be a non-empty list of {role, content}');
  }
  const calls = new Set<string>();
  const lines = messages.map((m, i) => {
    if (!isJson(m) || typeof m.role !== 'string')
      throw new ValidationError(`messages[${i}].role must be a string`);
    if (m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
      const rendered = m.tool_calls.map((call, j) => {
        const fn = isJson(call) && isJson(call.function) ? call.function : undefined;
        if (!fn || typeof fn.name !== 'string' || !isJson(call) || typeof call.id !== 'string') {
          throw new ValidationError(
            `messages[${i}].tool_calls[${j}] must be {id, type, function: {name, arguments}}`,
          );
        }
        calls.add(call.id);
        const args = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {});
        return `${fn.name}(${args})`;
      });
      return `assistant: [calls ${rendered.join(', ')}]`;
    }
    if (m.role === 'tool') {
      if (typeof m.tool_call_id !== 'string' || !calls.has(m.tool_call_id)) {
        throw new ValidationError(
          `messages[${i}] is a tool result whose tool_call_id ${JSON.stringify(m.tool_call_id)} answers no earlier tool call`,
        );
      }
      return `tool: ${text(m.content, i)}`;
    }
    return `${m.role}: ${text(m.content, i)}`;
  });
  return `${lines.join('\n')}\nassistant: `;
}

/** A value that satisfies a JSON schema, built from its types: what a grammar-constrained model would write. */
export function instanceOf(schema: unknown, fill: string): unknown {
  if (!isJson(schema)) return {};
  switch (schema.type) {
    case 'object': {
      const properties = isJson(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required)
        ? (schema.required as string[])
        : Object.keys(properties);
      return Object.fromEntries(required.map((key) => [key, instanceOf(properties[key], fill)]));
    }
    case 'string':
      return Array.isArray(schema.enum) ? schema.enum[0] : fill;
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    default:
      return Array.isArray(schema.enum) ? schema.enum[0] : {};
  }
}

/**
 * Text, tool call or JSON: a tool is called (the one `tool_choice` names, else
 * the first) when tools are offered and the last message is not already a tool
 * result; a JSON schema given by `schema` is answered with an instance of it.
 */
export function chatPlan(body: Json, schema: unknown): ChatPlan {
  const prompt = chatPrompt(body.messages);
  const messages = body.messages as Json[];
  const last = messages[messages.length - 1] as Json;
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const fill = text(lastUser?.content, 0).slice(0, 40);
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  if (tools.length > 0 && body.tool_choice !== 'none' && last.role !== 'tool') {
    const named =
      isJson(body.tool_choice) && isJson(body.tool_choice.function)
        ? body.tool_choice.function.name
        : undefined;
    const tool = (
      named ? tools.find((t) => isJson(t.function) && t.function.name === named) : tools[0]
    ) as Json;
    const fn = isJson(tool?.function) ? tool.function : undefined;
    if (!fn || typeof fn.name !== 'string')
      throw new ValidationError('`tools` must be a list of {type: "function", function: {name}}');
    return {
      kind: 'tool',
      prompt,
      name: fn.name,
      arguments: JSON.stringify(instanceOf(fn.parameters, fill)),
    };
  }
  if (schema !== undefined) return { kind: 'json', prompt, json: JSON.stringify(instanceOf(schema, fill)) };
  return { kind: 'text', prompt };
}

/** Pieces a fixed text streams in: a few characters each, as a tokenizer would cut it. */
export function pieces(textToCut: string, size = 4): string[] {
  const out: string[] = [];
  for (let i = 0; i < textToCut.length; i += size) out.push(textToCut.slice(i, i + size));
  return out;
}

/**
 * What a container is sent for an OpenAI request, per protocol: the Messages
 * API (TGI, LMI, OpenAI servers) for chat, the generate API (TGI, LMI) or
 * OpenAI's completions for text; options a container cannot honour are refused.
 */

import type { ContainerProtocol } from '../../env.ts';
import { BadRequestError } from '../../errors.ts';
import type { ChatMessage, ChatRequest, CompletionRequest, ResponseFormat } from '../openai.ts';

export type { ContainerProtocol };

type Json = Record<string, unknown>;

export function defined(entries: Json): Json {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}

/** A message as the container reads it: tool calls and the call a tool result answers kept, no null content. */
function containerMessage(m: ChatMessage): Json {
  return defined({
    role: m.role,
    content: m.content ?? undefined,
    name: m.name,
    tool_call_id: m.tool_call_id,
    tool_calls: m.tool_calls,
  });
}

/**
 * `response_format` as the container takes it: TGI accepts only its grammar
 * `{"type": "json", "value": <schema>}`; OpenAI servers take OpenAI's; LMI's
 * rolling-batch chat API has none. `text` is the default and is not sent.
 */
function responseFormat(request: ChatRequest, protocol: ContainerProtocol): unknown {
  const format: ResponseFormat | undefined = request.responseFormat;
  if (!format || format.type === 'text') return undefined;
  if (protocol === 'openai') return format;
  if (protocol === 'tgi') {
    const schema =
      format.type === 'json_schema' ? (format.json_schema.schema ?? { type: 'object' }) : { type: 'object' };
    return { type: 'json', value: schema };
  }
  throw new BadRequestError(
    `model '${request.model}' runs on LMI's rolling-batch chat API, which has no structured output: 'response_format' must be {"type": "text"} for it (json_object and json_schema need a TGI or OpenAI-compatible container)`,
    { param: 'response_format', code: 'unsupported_value' },
  );
}

/** The container request of a chat completion: the Messages API that TGI, LMI and OpenAI servers share. */
export function containerChatBody(request: ChatRequest, protocol: ContainerProtocol = 'tgi'): Json {
  const tools = request.tools && request.tools.length > 0 ? request.tools : undefined;
  if (protocol === 'lmi' && (tools || request.toolChoice !== undefined)) {
    throw new BadRequestError(
      `model '${request.model}' runs on LMI's rolling-batch chat API, which answers no tool calls: 'tools' needs a TGI or OpenAI-compatible container`,
      { param: 'tools', code: 'unsupported_value' },
    );
  }
  // Usage is asked for whenever the container can give it: its prompt token count is exact.
  const usage = request.stream && protocol !== 'lmi' ? { include_usage: true } : undefined;
  return defined({
    model: request.model,
    messages: request.messages.map(containerMessage),
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    top_p: request.topP,
    stop: request.stop,
    seed: request.seed,
    presence_penalty: request.presencePenalty,
    frequency_penalty: request.frequencyPenalty,
    tools,
    tool_choice: request.toolChoice,
    response_format: responseFormat(request, protocol),
    logprobs: request.logprobs || undefined,
    top_logprobs: request.logprobs ? request.topLogprobs : undefined,
    stream: request.stream,
    stream_options: usage,
  });
}

/**
 * The container request of a text completion: TGI/LMI's generate API, or
 * OpenAI's own shape. `return_full_text: false` always (TGI's default repeats
 * the prompt); prompt tokens are asked of TGI only where its answer would not
 * carry them (a whole answer), and never of LMI, where they cost a pass of
 * prompt log-probabilities.
 */
export function containerCompletionBody(request: CompletionRequest, protocol: ContainerProtocol): Json {
  if (protocol === 'openai') {
    return defined({
      model: request.model,
      prompt: request.prompt,
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      top_p: request.topP,
      stop: request.stop,
      seed: request.seed,
      stream: request.stream,
      stream_options: request.stream ? { include_usage: true } : undefined,
    });
  }
  return defined({
    inputs: request.prompt,
    parameters: defined({
      max_new_tokens: request.maxTokens,
      temperature: request.temperature === 0 ? undefined : request.temperature,
      top_p: request.topP === undefined || request.topP >= 1 ? undefined : request.topP,
      // OpenAI samples at temperature 1 unless told otherwise; TGI's and LMI's generate API decode greedily.
      do_sample: request.temperature === undefined || request.temperature > 0,
      stop: request.stop,
      seed: request.seed,
      return_full_text: false,
      details: true,
      ...(protocol === 'tgi' && !request.stream ? { decoder_input_details: true } : {}),
    }),
    stream: request.stream,
  });
}

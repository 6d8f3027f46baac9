/** OpenAI whole answers (chat.completion, text_completion) from a container's whole answer. */
import { UpstreamError } from '../../errors.ts';
import { isObject } from '../../json.ts';
import { answerIdentity, type ChatRequest, type CompletionRequest, type Usage, usage } from '../openai.ts';
import { finishReason, logprobsOf, toolCalls, withoutStop } from './parts.ts';

type Json = Record<string, unknown>;

/** Our chat.completion from a container's (TGI, LMI or OpenAI server). */
export function chatAnswer(request: ChatRequest, raw: unknown, where = 'the model server') {
  const choice = isObject(raw) && Array.isArray(raw.choices) ? raw.choices[0] : undefined;
  const message = isObject(choice) && isObject(choice.message) ? choice.message : undefined;
  const calls = toolCalls(message?.tool_calls);
  if (!message || (!calls && typeof message.content !== 'string' && message.content !== null)) {
    throw new UpstreamError(`${where} answered without choices[0].message`);
  }
  const finish = finishReason((choice as Json).finish_reason, where);
  const reported = isObject(raw) && isObject(raw.usage) ? (raw.usage as Partial<Usage>) : {};
  const content = typeof message.content === 'string' ? withoutStop(message.content, request.stop) : null;
  return {
    ...answerIdentity('chat'),
    object: 'chat.completion' as const,
    model: request.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content: calls && content === '' ? null : content,
          refusal: null,
          ...(calls && { tool_calls: calls }),
        },
        logprobs: request.logprobs ? logprobsOf((choice as Json).logprobs) : null,
        // TGI answers a tool call with the stop reason of its grammar.
        finish_reason: calls ? ('tool_calls' as const) : finish,
      },
    ],
    usage: usage(reported.prompt_tokens ?? 0, reported.completion_tokens ?? 0),
  };
}

/** Text, finish reason and token counts of a generate answer: TGI's array, LMI's object, or OpenAI's completion. */
export function generated(raw: unknown, request: CompletionRequest, where = 'the model server') {
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (isObject(first) && Array.isArray(first.choices)) {
    const choice = first.choices[0] as Json | undefined;
    const reported = (first.usage ?? {}) as Partial<Usage>;
    if (typeof choice?.text !== 'string')
      throw new UpstreamError(`${where} answered without choices[0].text`);
    return {
      text: withoutStop(choice.text, request.stop),
      finish: finishReason(choice.finish_reason, where),
      promptTokens: reported.prompt_tokens ?? 0,
      completionTokens: reported.completion_tokens ?? 0,
    };
  }
  if (!isObject(first) || typeof first.generated_text !== 'string') {
    throw new UpstreamError(`${where} answered without generated_text`);
  }
  const details = isObject(first.details) ? first.details : {};
  return {
    text: withoutStop(first.generated_text, request.stop),
    finish: finishReason(details.finish_reason ?? 'length', where),
    // TGI lists the prompt's tokens (decoder_input_details); LMI's answer has no count of them.
    promptTokens: Array.isArray(details.prefill) ? details.prefill.length : 0,
    completionTokens: typeof details.generated_tokens === 'number' ? details.generated_tokens : 0,
  };
}

/** Our text_completion from a generate answer. */
export function completionAnswer(request: CompletionRequest, raw: unknown, where = 'the model server') {
  const g = generated(raw, request, where);
  return {
    ...answerIdentity('text'),
    object: 'text_completion' as const,
    model: request.model,
    choices: [
      {
        text: request.echo ? request.prompt + g.text : g.text,
        index: 0,
        logprobs: null,
        finish_reason: g.finish,
      },
    ],
    usage: usage(g.promptTokens, g.completionTokens),
  };
}

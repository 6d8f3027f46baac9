/**
 * The demo container as an OpenAI-compatible server at `/invocations` (as
 * vLLM's server answers, e.g. LMI's async mode): chat and text completions in
 * OpenAI's own shapes, stop sequences excluded, SSE ending with `[DONE]`.
 */
import { randomUUID } from 'node:crypto';
import { type FinishReason, GenerationFault } from './model.ts';
import { chatPlan, checkLength, isJson, type Json, openAIOptions, ValidationError } from './options.ts';
import {
  bytesOf,
  JSON_HEADERS,
  type Marked,
  type ModeContext,
  marked,
  planTokens,
  SSE_HEADERS,
} from './turn.ts';

/** vLLM's ErrorResponse: 400 for a bad request, 500 when generation fails. */
export function openAIServerError(error: unknown): { status: number; body: Json } {
  const status = error instanceof ValidationError ? 400 : 500;
  const message =
    error instanceof ValidationError || error instanceof GenerationFault ? error.message : 'internal error';
  return {
    status,
    body: {
      object: 'error',
      message,
      type: status === 400 ? 'BadRequestError' : 'InternalServerError',
      param: null,
      code: status,
    },
  };
}

const finishOf = (reason: FinishReason | undefined, tool: boolean) =>
  tool ? 'tool_calls' : reason === 'length' ? 'length' : 'stop';

/** The generated text without a trailing stop sequence: vLLM leaves stop strings out. */
function visible(tokens: Marked[], stop: readonly string[]): string {
  const text = tokens
    .filter((m) => !m.token.special)
    .map((m) => m.token.text)
    .join('');
  const hit = stop.find((s) => s.length > 0 && text.endsWith(s));
  return hit && tokens[tokens.length - 1]?.finish === 'stop_sequence' ? text.slice(0, -hit.length) : text;
}

function schemaOf(format: unknown): unknown {
  if (format === undefined || format === null || (isJson(format) && format.type === 'text')) return undefined;
  if (isJson(format) && format.type === 'json_object') return { type: 'object' };
  if (isJson(format) && format.type === 'json_schema' && isJson(format.json_schema))
    return format.json_schema.schema;
  throw new ValidationError('`response_format` must be {"type": "text" | "json_object" | "json_schema"}');
}

/** Writes an SSE stream of chunks, with a usage chunk when asked and `[DONE]`; a failure becomes an error event. */
async function stream(ctx: ModeContext, body: Json, run: (write: (chunk: Json) => void) => Promise<Json>) {
  ctx.res.writeHead(200, SSE_HEADERS);
  try {
    const usage = await run((chunk) => ctx.res.write(`data: ${JSON.stringify(chunk)}\n\n`));
    if (isJson(body.stream_options) && body.stream_options.include_usage === true) {
      ctx.res.write(`data: ${JSON.stringify({ ...usage, choices: [] })}\n\n`);
    }
  } catch (error) {
    const { body: failure } = openAIServerError(error);
    ctx.res.write(`data: ${JSON.stringify({ error: failure })}\n\n`);
  }
  ctx.res.end('data: [DONE]\n\n');
}

/** `{"messages", ...}`: a chat completion. */
export async function openAIChat(ctx: ModeContext, body: Json): Promise<void> {
  const plan = chatPlan(body, schemaOf(body.response_format));
  const options = openAIOptions(body, 16);
  const promptTokens = ctx.model.encode(plan.prompt).length;
  checkLength(promptTokens, options.maxNewTokens, ctx.limits);
  const base = {
    id: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
    created: Math.floor(Date.now() / 1000),
    model: ctx.modelId,
  };
  const tool = plan.kind === 'tool';
  const call = { id: `chatcmpl-tool-${randomUUID().replaceAll('-', '')}`, type: 'function' };
  const lp = (m: Marked) => ({
    token: m.token.special ? '' : m.token.text,
    logprob: m.token.logprob,
    bytes: bytesOf(m.token.special ? '' : m.token.text),
    top_logprobs: [],
  });
  const usage = (n: number) => ({
    prompt_tokens: promptTokens,
    completion_tokens: n,
    total_tokens: promptTokens + n,
  });
  const tokens = marked(planTokens(ctx, plan, options, (_name, args) => args));
  if (body.stream === true) {
    return stream(ctx, body, async (write) => {
      const chunk = (delta: Json, finish: string | null, m?: Marked) => ({
        ...base,
        object: 'chat.completion.chunk',
        choices: [
          {
            index: 0,
            delta,
            logprobs: body.logprobs === true && m ? { content: [lp(m)] } : null,
            finish_reason: finish,
          },
        ],
      });
      write(
        chunk(
          tool
            ? {
                role: 'assistant',
                tool_calls: [
                  {
                    index: 0,
                    ...call,
                    function: { name: plan.kind === 'tool' ? plan.name : '', arguments: '' },
                  },
                ],
              }
            : { role: 'assistant', content: '' },
          null,
        ),
      );
      let count = 0;
      for await (const m of tokens) {
        count = m.index;
        const text = m.token.special ? '' : m.token.text;
        if (text.length > 0)
          write(
            chunk(
              tool ? { tool_calls: [{ index: 0, function: { arguments: text } }] } : { content: text },
              null,
              m,
            ),
          );
        if (m.finish) write(chunk({}, finishOf(m.finish, tool)));
      }
      return { ...base, object: 'chat.completion.chunk', usage: usage(count) };
    });
  }
  const all: Marked[] = [];
  for await (const m of tokens) all.push(m);
  const text = visible(all, options.stop);
  const message =
    plan.kind === 'tool'
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [{ ...call, function: { name: plan.name, arguments: text } }],
        }
      : { role: 'assistant', content: text };
  ctx.res.writeHead(200, JSON_HEADERS).end(
    JSON.stringify({
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message,
          logprobs: body.logprobs === true ? { content: all.map(lp) } : null,
          finish_reason: finishOf(all[all.length - 1]?.finish, tool),
        },
      ],
      usage: usage(all.length),
    }),
  );
}

/** `{"prompt", ...}`: a text completion. */
export async function openAICompletion(ctx: ModeContext, body: Json): Promise<void> {
  if (typeof body.prompt !== 'string') throw new ValidationError('`prompt` must be a string');
  const prompt = body.prompt;
  const options = openAIOptions(body, 16);
  const promptTokens = ctx.model.encode(prompt).length;
  checkLength(promptTokens, options.maxNewTokens, ctx.limits);
  const base = {
    id: `cmpl-${randomUUID().replaceAll('-', '')}`,
    created: Math.floor(Date.now() / 1000),
    model: ctx.modelId,
    object: 'text_completion',
  };
  const usage = (n: number) => ({
    prompt_tokens: promptTokens,
    completion_tokens: n,
    total_tokens: promptTokens + n,
  });
  const tokens = marked(ctx.model.generate(prompt, options, ctx.signal));
  if (body.stream === true) {
    return stream(ctx, body, async (write) => {
      let count = 0;
      for await (const m of tokens) {
        count = m.index;
        const text = m.token.special ? '' : m.token.text;
        const finish = m.finish ? finishOf(m.finish, false) : null;
        if (text.length > 0 || finish)
          write({ ...base, choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] });
      }
      return { ...base, usage: usage(count) };
    });
  }
  const all: Marked[] = [];
  for await (const m of tokens) all.push(m);
  ctx.res.writeHead(200, JSON_HEADERS).end(
    JSON.stringify({
      ...base,
      choices: [
        {
          index: 0,
          text: visible(all, options.stop),
          logprobs: null,
          finish_reason: finishOf(all[all.length - 1]?.finish, false),
        },
      ],
      usage: usage(all.length),
    }),
  );
}

/**
 * The demo container speaking Hugging Face TGI 3.2.3 at `/invocations`: the
 * generate API (an array answer; SSE token events without `[DONE]`, the end of
 * sequence a special token) and the Messages API (tool calls without content,
 * stream error events after HTTP 200). docs/LARGE-MODELS.md names the sources.
 */
import { GenerationFault } from './model.ts';
import {
  chatPlan,
  checkLength,
  generateOptions,
  isJson,
  type Json,
  openAIOptions,
  pieces,
  ValidationError,
} from './options.ts';
import { JSON_HEADERS, type Marked, type ModeContext, marked, planTokens, SSE_HEADERS } from './turn.ts';

export const TGI_FINGERPRINT = '3.2.3-native';

/** TGI's error body and status: 422 validation, 424 generation failure. */
export function tgiError(error: unknown): { status: number; body: Json } {
  if (error instanceof ValidationError)
    return { status: 422, body: { error: error.message, error_type: 'validation' } };
  if (error instanceof GenerationFault) {
    return {
      status: 424,
      body: {
        error: `Request failed during generation: Server error: ${error.message}`,
        error_type: 'generation',
      },
    };
  }
  return { status: 500, body: { error: 'Incomplete generation', error_type: 'incomplete_generation' } };
}

const token = (m: Marked) => ({
  id: m.token.id,
  text: m.token.text,
  logprob: m.token.logprob,
  special: m.token.special,
});

/** `{"inputs", "parameters", "stream"}`. */
export async function tgiGenerate(ctx: ModeContext, body: Json): Promise<void> {
  const { res } = ctx;
  if (typeof body.inputs !== 'string') throw new ValidationError('`inputs` must be a string');
  const parameters = body.parameters ?? {};
  if (!isJson(parameters)) throw new ValidationError('`parameters` must be an object');
  const options = generateOptions(parameters, 100);
  // A text-generation model returns the prompt too unless told otherwise (server.rs, compat_generate).
  const prefix = parameters.return_full_text === false ? '' : body.inputs;
  const inputLength = ctx.model.encode(body.inputs).length;
  if (body.stream === true) {
    res.writeHead(200, SSE_HEADERS);
    try {
      if (parameters.decoder_input_details === true) {
        throw new ValidationError(
          'Input validation error: `decoder_input_details` == true is not supported when streaming tokens',
        );
      }
      checkLength(inputLength, options.maxNewTokens, ctx.limits);
      let text = '';
      for await (const m of marked(ctx.model.generate(body.inputs, options, ctx.signal))) {
        if (!m.token.special) text += m.token.text;
        const end = m.finish
          ? {
              generated_text: prefix + text,
              details:
                parameters.details === true
                  ? {
                      finish_reason: m.finish,
                      generated_tokens: m.index,
                      seed: options.sample ? options.seed : null,
                      input_length: inputLength,
                    }
                  : null,
            }
          : { generated_text: null, details: null };
        res.write(`data:${JSON.stringify({ index: m.index, token: token(m), top_tokens: [], ...end })}\n\n`);
      }
    } catch (error) {
      res.write(`data:${JSON.stringify(tgiError(error).body)}\n\n`);
    }
    res.end();
    return;
  }
  checkLength(inputLength, options.maxNewTokens, ctx.limits);
  const tokens: Marked[] = [];
  for await (const m of marked(ctx.model.generate(body.inputs, options, ctx.signal))) tokens.push(m);
  const last = tokens[tokens.length - 1];
  const text = tokens
    .filter((m) => !m.token.special)
    .map((m) => m.token.text)
    .join('');
  const answer: Json = { generated_text: prefix + text };
  if (parameters.details === true || parameters.decoder_input_details === true) {
    if (parameters.decoder_input_details === true) ctx.countPrefill();
    answer.details = {
      finish_reason: last?.finish ?? 'length',
      generated_tokens: tokens.length,
      seed: options.sample ? options.seed : null,
      prefill:
        parameters.decoder_input_details === true
          ? ctx.model
              .encode(body.inputs)
              .map((id, i) => ({ id, text: ctx.model.vocab[id] ?? '?', logprob: i === 0 ? null : -1 }))
          : [],
      tokens: tokens.map(token),
    };
  }
  ctx.res.writeHead(200, JSON_HEADERS).end(JSON.stringify([answer]));
}

/** TGI's chat finish reason: `eos_token` reads `stop`, the others keep their name (FinishReason::format). */
const chatFinish = (reason: string) => (reason === 'eos_token' ? 'stop' : reason);

/** The JSON schema of TGI's `response_format`: only `{"type": "json", "value"}` (or `regex`) is accepted. */
function grammar(format: unknown): unknown {
  if (format === undefined || format === null) return undefined;
  if (!isJson(format) || (format.type !== 'json' && format.type !== 'regex')) {
    const type = isJson(format) ? format.type : format;
    throw new ValidationError(
      `Failed to deserialize the JSON body into the target type: response_format: unknown variant \`${String(type)}\`, expected \`json\` or \`regex\``,
    );
  }
  return format.type === 'json' ? format.value : undefined;
}

/** `{"messages", ...}`: the Messages API. */
export async function tgiChat(ctx: ModeContext, body: Json): Promise<void> {
  const { res, model } = ctx;
  const plan = chatPlan(body, grammar(body.response_format));
  const options = openAIOptions(body, 100);
  const logprobs = body.logprobs === true;
  const promptTokens = model.encode(plan.prompt).length;
  const created = Math.floor(Date.now() / 1000);
  const base = { id: '', created, model: ctx.modelId, system_fingerprint: TGI_FINGERPRINT };
  // The grammar writes {"function": {"_name", ...arguments}}; its tokens are counted as the arguments' own.
  const toolText = (_name: string, args: string) => args;
  const lp = (m: Marked) => ({ token: m.token.text, logprob: m.token.logprob, top_logprobs: [] });
  if (body.stream === true) {
    res.writeHead(200, SSE_HEADERS);
    const chunk = (delta: Json, m: Marked | undefined, finish: string | null, usage: Json | null = null) =>
      `data: ${JSON.stringify({
        object: 'chat.completion.chunk',
        ...base,
        choices: [
          { index: 0, delta, logprobs: logprobs && m ? { content: [lp(m)] } : null, finish_reason: finish },
        ],
        usage,
      })}\n\n`;
    try {
      checkLength(promptTokens, options.maxNewTokens, ctx.limits);
      let sent = 0;
      for await (const m of marked(planTokens(ctx, plan, options, toolText))) {
        const finish = m.finish ? chatFinish(m.finish) : null;
        if (plan.kind === 'tool' && !m.token.special) {
          const args = plan.arguments;
          // The grammar's text is buffered until the name is known; the arguments then stream.
          const delta =
            sent === 0
              ? {
                  role: 'assistant',
                  tool_calls: [
                    { index: 0, id: '', type: 'function', function: { name: plan.name, arguments: '' } },
                  ],
                }
              : undefined;
          if (delta) res.write(chunk(delta, undefined, null));
          for (const piece of sent === 0 ? pieces(args) : []) {
            res.write(
              chunk(
                {
                  role: 'assistant',
                  tool_calls: [
                    { index: 0, id: '', type: 'function', function: { name: null, arguments: piece } },
                  ],
                },
                undefined,
                null,
              ),
            );
          }
          sent++;
          continue;
        }
        res.write(chunk({ role: 'assistant', content: m.token.special ? '' : m.token.text }, m, finish));
        if (
          m.finish &&
          body.stream_options &&
          isJson(body.stream_options) &&
          body.stream_options.include_usage
        ) {
          const usage = {
            prompt_tokens: promptTokens,
            completion_tokens: m.index,
            total_tokens: promptTokens + m.index,
          };
          res.write(
            `data: ${JSON.stringify({ object: 'chat.completion.chunk', ...base, choices: [], usage })}\n\n`,
          );
        }
      }
    } catch (error) {
      const { status, body: failure } = tgiError(error);
      res.write(
        `data: ${JSON.stringify({ error: { message: failure.error, http_status_code: status } })}\n\n`,
      );
    }
    res.end('data: [DONE]\n\n');
    return;
  }
  checkLength(promptTokens, options.maxNewTokens, ctx.limits);
  const tokens: Marked[] = [];
  for await (const m of marked(planTokens(ctx, plan, options, toolText))) tokens.push(m);
  const finish = chatFinish(tokens[tokens.length - 1]?.finish ?? 'length');
  const text = tokens
    .filter((m) => !m.token.special)
    .map((m) => m.token.text)
    .join('');
  const message =
    plan.kind === 'tool'
      ? {
          role: 'assistant',
          tool_calls: [
            {
              id: '0',
              type: 'function',
              function: { description: null, name: plan.name, arguments: plan.arguments },
            },
          ],
        }
      : { role: 'assistant', content: text };
  res.writeHead(200, JSON_HEADERS).end(
    JSON.stringify({
      object: 'chat.completion',
      ...base,
      choices: [
        { index: 0, message, logprobs: logprobs ? { content: tokens.map(lp) } : null, finish_reason: finish },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: tokens.length,
        total_tokens: promptTokens + tokens.length,
      },
    }),
  );
}

/**
 * The demo container speaking AWS LMI (djl-serving 0.35, rolling batch with
 * vLLM) at `/invocations`: the json and jsonlines output formatters for
 * `{"inputs"}`, the json_chat and jsonlines_chat formatters for `{"messages"}`
 * (chunks without usage or `[DONE]`, the finish reason on every chunk of the
 * final step); a failure fails the whole rolling batch. docs/LARGE-MODELS.md names the sources.
 */
import { GenerationFault } from './model.ts';
import {
  chatPlan,
  checkLength,
  generateOptions,
  isJson,
  type Json,
  openAIOptions,
  ValidationError,
} from './options.ts';
import { bytesOf, JSON_HEADERS, type Marked, type ModeContext, marked, planTokens, steps } from './turn.ts';

const JSONLINES = { 'Content-Type': 'application/jsonlines' };

/** LMI's error answer: 400 for a request it cannot parse, 424 when the rolling batch fails. */
export function lmiError(error: unknown): { status: number; body: Json } {
  if (error instanceof ValidationError) return { status: 400, body: { code: 400, message: error.message } };
  if (error instanceof GenerationFault) return { status: 424, body: { code: 424, message: error.message } };
  return { status: 500, body: { code: 500, message: 'internal error' } };
}

/** vLLM decodes the end-of-sequence token to empty text. */
const textOf = (m: Marked) => (m.token.special ? '' : m.token.text);
/** vLLM's `stop` (an end-of-sequence token or a stop string) reads `eos_token` in LMI (rolling_batch_vllm_utils.py). */
const lmiFinish = (reason: string | undefined) => (reason === 'stop_sequence' ? 'eos_token' : reason);
const tokenDict = (m: Marked) => ({ id: m.token.id, text: textOf(m), log_prob: m.token.logprob });

/** `{"inputs", "parameters", "stream"}`: json or jsonlines formatter. */
export async function lmiGenerate(ctx: ModeContext, body: Json): Promise<void> {
  const { res, model } = ctx;
  if (typeof body.inputs !== 'string') throw new ValidationError('`inputs` must be a string');
  const parameters = body.parameters ?? {};
  if (!isJson(parameters)) throw new ValidationError('`parameters` must be an object');
  const options = generateOptions(parameters, 30);
  const prefix = parameters.return_full_text === true ? body.inputs : '';
  const details = parameters.details === true;
  const prefill = parameters.decoder_input_details === true;
  checkLength(model.encode(body.inputs).length, options.maxNewTokens, ctx.limits);
  if (prefill) ctx.countPrefill();
  const inputs = body.inputs;
  const prefillTokens = () =>
    model.encode(inputs).map((id) => ({ id, text: model.vocab[id] ?? '?', log_prob: -1 }));
  const tokens = marked(ctx.batch.join(model.generate(body.inputs, options, ctx.signal)));
  if (body.stream === true) {
    let text = '';
    let started = false;
    try {
      for await (const step of steps(tokens, ctx.speculativeLength)) {
        if (!started) res.writeHead(200, JSONLINES);
        started = true;
        for (const m of step) {
          text += textOf(m);
          const line: Json = { token: tokenDict(m) };
          if (m.finish) {
            line.generated_text = prefix + text;
            if (details) {
              line.details = {
                finish_reason: lmiFinish(m.finish),
                generated_tokens: m.index,
                inputs: body.inputs,
              };
              if (prefill) (line.details as Json).prefill = prefillTokens();
            }
          }
          res.write(`${JSON.stringify(line)}\n`);
        }
      }
    } catch (error) {
      if (!started) throw error;
      // A failed sequence ends with finish_reason "error" (output_formatter.py, _jsonlines_output_formatter).
      res.write(
        `${JSON.stringify({ token: { id: -1, text: '', log_prob: 0 }, generated_text: prefix + text, details: { finish_reason: 'error' } })}\n`,
      );
    }
    res.end();
    return;
  }
  const all: Marked[] = [];
  for await (const m of tokens) all.push(m);
  const answer: Json = { generated_text: prefix + all.map(textOf).join('') };
  if (details) {
    answer.details = {
      finish_reason: lmiFinish(all[all.length - 1]?.finish) ?? 'length',
      generated_tokens: all.length,
      inputs: body.inputs,
      tokens: all.map(tokenDict),
      ...(prefill && { prefill: prefillTokens() }),
    };
  }
  res.writeHead(200, JSON_HEADERS).end(JSON.stringify(answer));
}

/** `{"messages", ...}`: json_chat or jsonlines_chat formatter. */
export async function lmiChat(ctx: ModeContext, body: Json): Promise<void> {
  const { res, model } = ctx;
  if (body.response_format !== undefined || body.tools !== undefined) {
    throw new ValidationError('this rolling-batch chat API takes neither `tools` nor `response_format`');
  }
  const plan = chatPlan(body, undefined);
  const options = openAIOptions(body, 30);
  const logprobs = body.logprobs === true;
  const promptTokens = model.encode(plan.prompt).length;
  checkLength(promptTokens, options.maxNewTokens, ctx.limits);
  // `id` is Python's builtin in the formatter's f-string.
  const id = 'chatcmpl-<built-in function id>';
  const created = Math.floor(Date.now() / 1000);
  const tokens = marked(ctx.batch.join(planTokens(ctx, plan, options, () => '')));
  if (body.stream === true) {
    let started = false;
    let first = true;
    try {
      for await (const step of steps(tokens, ctx.speculativeLength)) {
        if (!started) res.writeHead(200, JSONLINES);
        started = true;
        // Every chunk of the final step carries the sequence's finish reason.
        const finish = lmiFinish(step[step.length - 1]?.finish) ?? null;
        for (const m of step) {
          const delta: Json = { content: textOf(m) };
          if (first) delta.role = 'assistant';
          first = false;
          const b = bytesOf(textOf(m));
          // The formatter's trailing comma makes this a one-element tuple; its top token is the log-probability.
          const lp = logprobs
            ? [
                {
                  content: [
                    {
                      token: textOf(m),
                      logprob: m.token.logprob,
                      bytes: b,
                      top_logprobs: [{ token: m.token.logprob, logprob: m.token.logprob, bytes: b }],
                    },
                  ],
                },
              ]
            : null;
          const chunk = {
            id,
            object: 'chat.completion.chunk',
            created,
            choices: [{ index: 0, delta, logprobs: lp, finish_reason: finish }],
          };
          res.write(`${JSON.stringify(chunk)}\n`);
        }
      }
    } catch (error) {
      if (!started) throw error;
      const chunk = {
        id,
        object: 'chat.completion.chunk',
        created,
        choices: [{ index: 0, delta: { content: '' }, logprobs: null, finish_reason: 'error' }],
      };
      res.write(`${JSON.stringify(chunk)}\n`);
    }
    res.end();
    return;
  }
  const all: Marked[] = [];
  for await (const m of tokens) all.push(m);
  const lp = logprobs
    ? {
        content: all.map((m) => {
          const b = bytesOf(textOf(m));
          return {
            token: textOf(m),
            logprob: m.token.logprob,
            bytes: b,
            top_logprobs: [{ token: textOf(m), logprob: m.token.logprob, bytes: b }],
          };
        }),
      }
    : null;
  res.writeHead(200, JSON_HEADERS).end(
    JSON.stringify({
      id,
      object: 'chat.completion',
      created,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: all.map(textOf).join('') },
          logprobs: lp,
          finish_reason: lmiFinish(all[all.length - 1]?.finish) ?? 'length',
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: all.length,
        total_tokens: promptTokens + all.length,
      },
    }),
  );
}

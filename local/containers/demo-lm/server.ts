/**
 * The demo language model as a SageMaker container: `GET /ping` and
 * `POST /invocations` in one of three modes, as the real containers answer:
 * `tgi` (Hugging Face TGI 3.2.3), `lmi` (djl-serving 0.35, rolling batch) or
 * `openai` (an OpenAI-compatible server). A demo model writing fortune-flavoured
 * gibberish; the protocols, sampling and streaming are the real ones.
 *
 *   tsx local/containers/demo-lm/server.ts serve
 *
 * Env: SAGEMAKER_BIND_TO_PORT (default 8080), SM_MODEL_DIR (default /opt/ml/model,
 * holding model.onnx and tokenizer.json), MODEL_ID (name reported in answers),
 * DEMO_LM_MODE (tgi, lmi or openai; default tgi), MAX_INPUT_TOKENS and
 * MAX_TOTAL_TOKENS (TGI's limits, default 1024 and 2048), OPTION_SPECULATIVE_LENGTH
 * (lmi: tokens accepted per step beyond the first, default 0).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lmiChat, lmiError, lmiGenerate } from './lmi.ts';
import { DemoLanguageModel } from './model.ts';
import { openAIChat, openAICompletion, openAIServerError } from './openai.ts';
import { type Json, type Limits, ValidationError } from './options.ts';
import { RollingBatch } from './rolling-batch.ts';
import { tgiChat, tgiError, tgiGenerate } from './tgi.ts';
import type { ModeContext } from './turn.ts';

export { DemoLanguageModel, type SamplingOptions } from './model.ts';

export const DEMO_LM_MODES = ['tgi', 'lmi', 'openai'] as const;
export type DemoLmMode = (typeof DEMO_LM_MODES)[number];

interface Mode {
  readonly generate: (ctx: ModeContext, body: Json) => Promise<void>;
  readonly chat: (ctx: ModeContext, body: Json) => Promise<void>;
  readonly error: (error: unknown) => { status: number; body: Json };
}

const MODES: Record<DemoLmMode, Mode> = {
  tgi: { generate: tgiGenerate, chat: tgiChat, error: tgiError },
  lmi: { generate: lmiGenerate, chat: lmiChat, error: lmiError },
  openai: { generate: openAICompletion, chat: openAIChat, error: openAIServerError },
};

export interface ContainerOptions {
  readonly mode?: DemoLmMode;
  readonly limits?: Limits;
  readonly speculativeLength?: number;
}

/** The HTTP side of the container. */
export function createContainerServer(
  model: DemoLanguageModel,
  modelId: string,
  options: ContainerOptions = {},
) {
  const mode = MODES[options.mode ?? 'tgi'];
  const limits = options.limits ?? { maxInputTokens: 1024, maxTotalTokens: 2048 };
  let active = 0;
  let prefills = 0;
  const batch = new RollingBatch();
  return createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/ping') {
      // Running generations (a cancelled request must stop generating) and prompt log-probability passes.
      res
        .writeHead(200, {
          'X-Active-Generations': String(active),
          'X-Prefill-Computations': String(prefills),
        })
        .end();
      return;
    }
    if (req.method !== 'POST' || req.url !== '/invocations') {
      const { status, body } = mode.error(new ValidationError(`no route for ${req.method} ${req.url}`));
      res
        .writeHead(req.method === 'POST' ? 404 : status, { 'Content-Type': 'application/json' })
        .end(JSON.stringify(body));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const aborter = new AbortController();
      res.on('close', () => aborter.abort());
      const ctx: ModeContext = {
        model,
        modelId,
        limits,
        res,
        signal: aborter.signal,
        speculativeLength: options.speculativeLength ?? 0,
        countPrefill: () => prefills++,
        batch,
      };
      active++;
      const done = (async () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          throw new ValidationError('request body is not valid JSON');
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new ValidationError(
            'request body must be a JSON object with `inputs`, `prompt` or `messages`',
          );
        }
        const json = body as Json;
        return 'messages' in json ? mode.chat(ctx, json) : mode.generate(ctx, json);
      })();
      done
        .catch((error: unknown) => {
          if (res.headersSent) {
            res.destroy(error as Error);
            return;
          }
          const { status, body } = mode.error(error);
          res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
        })
        .finally(() => active--);
    });
  });
}

/** Starts the container: loads the model, then listens. */
export async function serve(options: { port: number; modelDir: string; modelId: string } & ContainerOptions) {
  const model = await DemoLanguageModel.load(options.modelDir);
  const server = createContainerServer(model, options.modelId, options);
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

if (process.argv[2] === 'serve') {
  const mode = (process.env.DEMO_LM_MODE ?? 'tgi') as DemoLmMode;
  if (!DEMO_LM_MODES.includes(mode)) {
    console.error(`DEMO_LM_MODE must be one of ${DEMO_LM_MODES.join(', ')}, got ${mode}`);
    process.exit(2);
  }
  const { port } = await serve({
    port: Number(process.env.SAGEMAKER_BIND_TO_PORT ?? 8080),
    modelDir: process.env.SM_MODEL_DIR ?? '/opt/ml/model',
    modelId: process.env.MODEL_ID ?? 'demo-lm',
    mode,
    limits: {
      maxInputTokens: Number(process.env.MAX_INPUT_TOKENS ?? 1024),
      maxTotalTokens: Number(process.env.MAX_TOTAL_TOKENS ?? 2048),
    },
    speculativeLength: Number(process.env.OPTION_SPECULATIVE_LENGTH ?? 0),
  });
  console.log(JSON.stringify({ listening: port }));
  process.on('SIGTERM', () => process.exit(0));
}

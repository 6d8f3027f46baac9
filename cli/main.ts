/**
 * The `modelgate` command line: its usage text, the parsing of its options, and dispatch to the models,
 * predict, chat and batch commands, with the exit code of each.
 */
import { parseArgs } from 'node:util';
import { ModelGateError } from '../functions/core/errors.ts';
import { chat, predict } from './api.ts';
import { status, submit } from './batch.ts';
import { type Io, UsageError } from './format.ts';
import { models } from './models.ts';
import { resolveTarget, type Target } from './target.ts';

export type { Io } from './format.ts';

export const USAGE = `Usage: modelgate <command> [options]

Models (the S3 registry; changes take effect within the registry TTL, 15 s by default, no deploy):
  models push <file.onnx> --name NAME     publish a new immutable version (checked by loading it)
      [--description TEXT] [--labels a,b,c] [--features f1,f2,...] [--set-alias ALIAS]
  models list                             models, versions and production routing
  models describe NAME                    versions, aliases with weights, tensors, sizes, dates
  models promote NAME --version V         all of production to V [--alias ALIAS: another alias]
  models canary NAME --version V --weight PERCENT
                                          PERCENT of production to V, the rest to the current version
  models shadow NAME --version V | --off  mirror production requests to V (answers compared, never returned)
  models rollback NAME                    production back to its routing before the last change
  models history NAME                     the last 20 alias changes
  models delete NAME --version V          delete a version no alias routes to

Calling the API:
  predict NAME --data '[[...], ...]' | --file rows.jsonl   [--route-key KEY: sticky routing]
  chat NAME [--message TEXT] [--system TEXT] [--max-tokens N] [--seed N]   interactive unless --message

Batch:
  batch submit <file> --model NAME [--no-wait]   upload a JSONL/CSV file as a batch job and wait for it
  batch status ID                                a batch job's status and summary

Usage (per API key, model and day; an operator's AWS credentials with --stack):
  usage [--key NAME] [--from YYYY-MM-DD --to YYYY-MM-DD]   every key, or one; the last 30 days by default

Target (local mode by default: the MODELGATE_* variables of npm start: MODELGATE_PORT,
MODELGATE_S3_PORT, MODELGATE_BUCKET, MODELGATE_HOME, MODELGATE_API_KEY):
  --stack NAME       a deployed stack: API URL and model bucket from its outputs, AWS credentials
  --bucket NAME      a deployed model bucket; --api-url URL a deployed API
  --endpoint URL     an S3 endpoint of your own (path-style)
  --api-key KEY      the API key (default: MODELGATE_API_KEY, locally the dev key)
  --json             machine-readable output (progress stays on stderr)
  -h, --help         this text

Exit codes: 0 done, 1 failed (the message says why), 2 bad command line,
3 batch job completed with per-row errors.
`;

const OPTIONS = {
  name: { type: 'string' },
  model: { type: 'string' },
  version: { type: 'string' },
  weight: { type: 'string' },
  alias: { type: 'string' },
  off: { type: 'boolean' },
  'set-alias': { type: 'string' },
  'no-wait': { type: 'boolean', default: false },
  description: { type: 'string' },
  labels: { type: 'string' },
  features: { type: 'string' },
  data: { type: 'string' },
  file: { type: 'string' },
  'route-key': { type: 'string' },
  message: { type: 'string' },
  system: { type: 'string' },
  'max-tokens': { type: 'string' },
  seed: { type: 'string' },
  key: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  stack: { type: 'string' },
  bucket: { type: 'string' },
  endpoint: { type: 'string' },
  'api-url': { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Runs one command line; returns the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err.write(`modelgate: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    io.out.write(USAGE);
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  const [group, command, ...rest] = positionals;
  let target: Target | undefined;
  try {
    target = await resolveTarget(values, io.env);
    switch (group) {
      case 'models':
        return await models(command, rest, values, target, io);
      case 'predict':
        return await predict(positionals.slice(1), values, target, io);
      case 'chat':
        return await chat(positionals.slice(1), values, target, io);
      case 'batch':
        return await batch(command, rest, values, target, io);
      case 'usage':
        if (positionals.length > 1) throw new UsageError('usage takes no arguments, only options');
        // Loaded on use: the DynamoDB client is for this command alone.
        return await (await import('./usage.ts')).usage(
          target,
          { key: values.key, from: values.from, to: values.to, json: values.json },
          io,
        );
      default:
        throw new UsageError(`unknown command '${positionals.join(' ')}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err.write(`modelgate: ${error.message}\n\nRun modelgate --help for the commands and options.\n`);
      return 2;
    }
    io.err.write(`modelgate: ${reason(error, target)}\n`);
    return 1;
  } finally {
    target?.s3.destroy();
  }
}

async function batch(
  command: string | undefined,
  rest: string[],
  values: ReturnType<typeof parse>['values'],
  target: Target,
  io: Io,
): Promise<number> {
  if (command === 'submit') {
    if (rest.length !== 1 || !values.model) {
      throw new UsageError('batch submit needs exactly one file and --model NAME');
    }
    return submit(
      target,
      rest[0] as string,
      { model: values.model, json: values.json, wait: !values['no-wait'] },
      io,
    );
  }
  if (command === 'status') {
    if (rest.length !== 1) throw new UsageError('batch status needs a job id');
    return status(target, rest[0] as string, values.json, io);
  }
  throw new UsageError(`unknown command 'batch ${command ?? ''}'`);
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

function reason(error: unknown, target: Target | undefined): string {
  const { code } = ((error as { cause?: unknown }).cause ?? error) as { code?: string };
  if (code === 'ECONNREFUSED' && target) {
    return `cannot reach the model store at ${target.where}: is \`npm start\` running?`;
  }
  if (error instanceof ModelGateError || error instanceof Error) return error.message;
  return String(error);
}

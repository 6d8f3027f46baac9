import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { ModelGateError } from '../functions/core/errors.ts';
import { publishModel } from '../functions/core/publish.ts';
import { Registry } from '../functions/core/registry.ts';
import { endpointConfig } from '../functions/core/s3.ts';
import { localS3Client } from '../infra/local/s3.ts';
import { status, submit } from './batch.ts';

interface Io {
  readonly out: { write(text: string): unknown };
  readonly err: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

const USAGE = `Usage: modelgate <command> [options]

Commands:
  models push <file.onnx> --name NAME   publish a new immutable version of a model
      [--description TEXT] [--labels a,b,c] [--features f1,f2,...]
  models list                           list models and their versions
  batch submit <file> --model NAME      upload a JSONL/CSV file as a batch job and wait for it
      [--no-wait]                       return once uploaded
  batch status <id>                     a batch job's status and summary

Target (local mode by default: http://127.0.0.1:$MODELGATE_S3_PORT, bucket $MODELGATE_BUCKET):
  --bucket NAME      a deployed model bucket (stack output ModelBucketName), AWS credentials
  --endpoint URL     an S3 endpoint of your own (path-style)
  --json             machine-readable output
  -h, --help         this text
`;

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
  const target = resolveTarget(values, io.env);
  try {
    if (group === 'models' && command === 'push') return await push(rest, values, target, io);
    if (group === 'models' && command === 'list') return await list(values, target, io);
    if (group === 'batch' && command === 'submit') {
      if (rest.length !== 1 || !values.model) {
        io.err.write('modelgate: batch submit needs exactly one file and --model NAME\n');
        return 2;
      }
      return await submit(
        target,
        rest[0] as string,
        { model: values.model, json: values.json, wait: !values['no-wait'] },
        io,
      );
    }
    if (group === 'batch' && command === 'status') {
      if (rest.length !== 1) {
        io.err.write('modelgate: batch status needs a job id\n');
        return 2;
      }
      return await status(target, rest[0] as string, values.json, io);
    }
    io.err.write(`modelgate: unknown command '${positionals.join(' ')}'\n\n${USAGE}`);
    return 2;
  } catch (error) {
    const { code } = ((error as { cause?: unknown }).cause ?? error) as { code?: string };
    const reason =
      code === 'ECONNREFUSED'
        ? `cannot reach the model store at ${target.where}: is \`npm start\` running?`
        : error instanceof ModelGateError || error instanceof Error
          ? error.message
          : String(error);
    io.err.write(`modelgate: ${reason}\n`);
    return 1;
  } finally {
    target.s3.destroy();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      model: { type: 'string' },
      'no-wait': { type: 'boolean', default: false },
      description: { type: 'string' },
      labels: { type: 'string' },
      features: { type: 'string' },
      bucket: { type: 'string' },
      endpoint: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

type Values = ReturnType<typeof parse>['values'];

function resolveTarget(
  values: Values,
  env: NodeJS.ProcessEnv,
): { s3: S3Client; bucket: string; where: string } {
  if (values.bucket && !values.endpoint) {
    return { s3: new S3Client({}), bucket: values.bucket, where: `s3://${values.bucket}` };
  }
  const endpoint = values.endpoint ?? `http://127.0.0.1:${env.MODELGATE_S3_PORT || 4568}`;
  const bucket = values.bucket ?? (env.MODELGATE_BUCKET || 'modelgate');
  const s3 = values.endpoint
    ? new S3Client({ ...endpointConfig(endpoint), maxAttempts: 2 })
    : localS3Client(endpoint, { maxAttempts: 2 });
  return { s3, bucket, where: `${endpoint}/${bucket}` };
}

async function push(
  files: string[],
  values: Values,
  target: { s3: S3Client; bucket: string; where: string },
  io: Io,
): Promise<number> {
  if (files.length !== 1 || !values.name) {
    io.err.write('modelgate: models push needs exactly one ONNX file and --name NAME\n');
    return 2;
  }
  const file = files[0] as string;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    io.err.write(`modelgate: cannot read ${file}: ${(error as Error).message}\n`);
    return 1;
  }
  const list = (text: string | undefined) =>
    text
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const manifest = await publishModel(target.s3, target.bucket, {
    name: values.name,
    bytes,
    description: values.description,
    labels: list(values.labels),
    features: list(values.features),
  });
  if (values.json) io.out.write(`${JSON.stringify(manifest, null, 2)}\n`);
  else {
    io.out.write(
      `published ${manifest.name} version ${manifest.version} to ${target.where}\n` +
        `  sha256  ${manifest.sha256}\n  size    ${manifest.sizeBytes} bytes\n` +
        `  inputs  ${manifest.inputs.map((t) => `${t.name} ${t.datatype} [${t.shape}]`).join(', ')}\n` +
        `  outputs ${manifest.outputs.map((t) => `${t.name} ${t.datatype} [${t.shape}]`).join(', ')}\n`,
    );
  }
  return 0;
}

async function list(
  values: Values,
  target: { s3: S3Client; bucket: string; where: string },
  io: Io,
): Promise<number> {
  const models = await new Registry({ s3: target.s3, bucket: target.bucket, ttlSeconds: 0 }).listModels();
  if (values.json) {
    io.out.write(`${JSON.stringify(models, null, 2)}\n`);
    return 0;
  }
  if (models.length === 0) {
    io.out.write(`no models in ${target.where}\n`);
    return 0;
  }
  const width = Math.max(5, ...models.map((m) => m.name.length));
  io.out.write(`${'MODEL'.padEnd(width)}  VERSIONS\n`);
  for (const m of models) io.out.write(`${m.name.padEnd(width)}  ${m.versions.join(', ')}\n`);
  return 0;
}

/**
 * `modelgate usage`: what API keys used, by day and model, read straight from
 * the usage table (an operator's AWS credentials, or local mode's emulator).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseRange, readUsage, type UsageLine } from '../functions/core/usage/report.ts';
import { localDynamoClient, USAGE_TABLE } from '../local/dynamodb.ts';
import { PORTS, portFromEnv } from '../local/ports.ts';
import { type Io, json, table, UsageError } from './format.ts';
import { STACK_OUTPUTS, type Target } from './target.ts';

export interface UsageOptions {
  readonly key?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly json: boolean;
}

/** Prints the usage of one key (`--key NAME`) or of every key over a date range (the last 30 days by default). */
export async function usage(target: Target, options: UsageOptions, io: Io): Promise<number> {
  const source = usageSource(target, io.env);
  let range: { from: string; to: string };
  try {
    range = parseRange({ from: options.from, to: options.to });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/"(from|to)"/, '--$1'));
  }
  const names = new Map([...source.keyIds].map(([name, id]) => [id, name]));
  let keyId: string | undefined;
  if (options.key !== undefined) {
    keyId = source.keyIds.get(options.key) ?? (source.local ? options.key : undefined);
    if (keyId === undefined) {
      throw new UsageError(
        `no API key named '${options.key}' in the stack (keys: ${[...source.keyIds.keys()].join(', ')})`,
      );
    }
  }
  try {
    const report = await readUsage(source.client, source.table, range, keyId);
    const data = report.data.map((l) => ({ ...l, key: names.get(l.key_id) ?? l.key_id }));
    if (options.json) json(io, { ...report, data });
    else io.out.write(render(data, report.totals, range));
    return 0;
  } finally {
    source.client.destroy();
  }
}

function render(
  data: Array<UsageLine & { key: string }>,
  totals: Omit<UsageLine, 'key_id' | 'day' | 'model'>,
  range: { from: string; to: string },
): string {
  if (data.length === 0) return `no usage from ${range.from} to ${range.to}\n`;
  const counts = (l: typeof totals) => [
    String(l.requests),
    String(l.rows),
    String(l.prompt_tokens),
    String(l.completion_tokens),
    String(l.client_errors),
    String(l.server_errors),
  ];
  return table(
    ['DAY', 'KEY', 'MODEL', 'REQUESTS', 'ROWS', 'PROMPT', 'COMPLETION', '4XX', '5XX'],
    [...data.map((l) => [l.day, l.key, l.model, ...counts(l)]), ['total', '', '', ...counts(totals)]],
  );
}

/** The usage table a target means, and its API keys' ids by name (locally a key's name is its id). */
function usageSource(target: Target, env: NodeJS.ProcessEnv) {
  if (target.stackOutputs) {
    const tableName = target.stackOutputs[STACK_OUTPUTS.usageTable];
    if (!tableName)
      throw new Error(`the stack has no ${STACK_OUTPUTS.usageTable} output: deploy this version`);
    const ids = JSON.parse(target.stackOutputs[STACK_OUTPUTS.apiKeyIds] ?? '{}') as Record<string, string>;
    return {
      client: new DynamoDBClient({}),
      table: tableName,
      keyIds: new Map(Object.entries(ids)),
      local: false,
    };
  }
  if (!target.local) {
    throw new UsageError(
      "usage reads the stack's usage table: name the stack with --stack NAME (or run locally)",
    );
  }
  const url = `http://127.0.0.1:${portFromEnv(env, PORTS.dynamodb)}`;
  return {
    client: localDynamoClient(url),
    table: USAGE_TABLE,
    keyIds: new Map<string, string>(),
    local: true,
  };
}

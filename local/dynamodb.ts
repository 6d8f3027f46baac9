/**
 * DynamoDB on loopback for local mode: dynalite (DynamoDB's API over LevelDB)
 * with its data in a folder, and the usage table created as the stack declares it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { USAGE_PK, USAGE_SK } from '../functions/core/usage/table.ts';
import { type LoopbackServer, listenLoopback } from './net.ts';
import { claimPort, PORTS } from './ports.ts';

/** The usage table of local mode. */
export const USAGE_TABLE = 'modelgate-usage';
/** Local mode sums additions this long before writing them: the in-process DynamoDB emulator costs CPU per write. */
export const LOCAL_USAGE_FLUSH_MS = 1000;

/** Credentials for the emulator: it checks none, but the SDK signs every request. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** A DynamoDB client for the emulator at `url`. */
export function localDynamoClient(url: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 2,
  });
}

/**
 * Starts dynalite on loopback, its LevelDB files in `directory` (kept across
 * restarts), and creates the usage table when it is missing.
 *
 * @param port 0 for an ephemeral one.
 */
export async function startLocalDynamo(options: {
  port: number;
  directory: string;
  usageTable: string;
}): Promise<LoopbackServer> {
  mkdirSync(options.directory, { recursive: true });
  // Loaded on use: the CLI imports this module for its client settings, not the server.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ path: options.directory, createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
  const listening = await listenLoopback(server, options.port);
  const client = localDynamoClient(listening.url);
  try {
    await createUsageTable(client, options.usageTable);
  } catch (error) {
    await listening.close();
    throw error;
  } finally {
    client.destroy();
  }
  return listening;
}

/** The emulator of `npm start`, its data in `home/dynamodb/`, a taken port told as the other ports are. */
export function startUsageTable(home: string, port: number): Promise<LoopbackServer> {
  const directory = join(home, 'dynamodb');
  return claimPort(PORTS.dynamodb, port, () =>
    startLocalDynamo({ port, directory, usageTable: USAGE_TABLE }),
  );
}

/** The usage table, keyed as `infra/constructs/usage-table.ts` declares it. */
export async function createUsageTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: USAGE_PK, AttributeType: 'S' },
          { AttributeName: USAGE_SK, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: USAGE_PK, KeyType: 'HASH' },
          { AttributeName: USAGE_SK, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException) return;
    throw error;
  }
  // dynalite has no TTL (UpdateTimeToLive): local items stay until .modelgate/ is removed.
}

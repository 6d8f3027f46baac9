/**
 * The events each function's real trigger sends, for the arm64 suite: API Gateway REST proxy
 * and REQUEST authorizer events, response-streaming chat requests, SQS messages carrying S3
 * notifications, and the Step Functions Distributed Map's item batches and merge input.
 */
import type { ChunkEvent, MergeEvent } from '../../functions/core/batch/chunks.ts';
import { DEMO_LM } from '../../local/topology.ts';
import { authorizerEvent, restEvent } from '../fixtures/events.ts';
import { parityFixture } from '../fixtures/models.ts';

/** Files dropped under batch/input/ before the suite runs, on both sides (the CSV with a bad value and a field too many). */
export const BATCH_FILES: Record<string, string> = {
  'batch/input/iris/rows.csv':
    'id,sepal_length,sepal_width,petal_length,petal_width\na,5.1,3.5,1.4,0.2\nb,6.7,3.1,n/a,2.4\nc,6.3,2.9,5.6,1.8\nd,x,6.3,2.9,5.6,1.8\n',
  'batch/input/diabetes/rows.jsonl': `${parityFixture('diabetes')
    .instances.slice(0, 5)
    .map((row) => JSON.stringify(row))
    .join('\n')}\n`,
};

/** A file under the calling key's own prefix (the event factories' key id is `key-id`), submitted through the API. */
export const SUBMITTED_FILES: Record<string, string> = {
  'batch/keys/key-id/rows.csv': BATCH_FILES['batch/input/iris/rows.csv'] as string,
};
const model = (name: string) => ({ model: name });

/** One event per kind of api route, in the order a client might send them. */
export const API_EVENTS = {
  live: restEvent('GET', '/v2/health/live'),
  ready: restEvent('GET', '/v2/health/ready'),
  server: restEvent('GET', '/v2'),
  'model list (V2)': restEvent('GET', '/v2/models'),
  'metadata iris': restEvent('GET', '/v2/models/{model}', model('iris')),
  'metadata unknown model': restEvent('GET', '/v2/models/{model}', model('nope')),
  'ready iris': restEvent('GET', '/v2/models/{model}/ready', model('iris')),
  'predict iris': restEvent('POST', '/v1/models/{model}/predict', model('iris'), {
    instances: [
      [5.1, 3.5, 1.4, 0.2],
      [6.7, 3.1, 5.6, 2.4],
    ],
  }),
  'predict iris by feature name': restEvent('POST', '/v1/models/{model}/predict', model('iris'), {
    instances: [{ sepal_length: 6.3, sepal_width: 2.9, petal_length: 5.6, petal_width: 1.8 }],
  }),
  'predict iris-logistic': restEvent('POST', '/v1/models/{model}/predict', model('iris-logistic'), {
    instances: [[5.9, 3.0, 5.1, 1.8]],
  }),
  'predict diabetes': restEvent('POST', '/v1/models/{model}/predict', model('diabetes'), {
    instances: parityFixture('diabetes').instances.slice(0, 8),
  }),
  'infer linear': restEvent('POST', '/v2/models/{model}/infer', model('linear'), {
    inputs: [{ name: 'input', shape: [2, 1], datatype: 'FP32', data: [1.0, 2.0] }],
  }),
  'infer iris, one output': restEvent(
    'POST',
    '/v2/models/{model}/versions/{version}/infer',
    { model: 'iris', version: '1' },
    {
      id: 'req-1',
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [[6.3, 2.9, 5.6, 1.8]] }],
      outputs: [{ name: 'probabilities' }],
    },
  ),
  'infer bad shape': restEvent('POST', '/v2/models/{model}/infer', model('iris'), {
    inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [5.1, 3.5, 1.4] }],
  }),
  'OpenAI model list': restEvent('GET', '/v1/models'),
  'batch submit': restEvent('POST', '/v1/batches', {}, { model: 'iris', input: 'rows.csv' }),
  // Job ids are random and owner-only: an id this key never got is a 404 on both sides.
  'batch status, unknown id': restEvent('GET', '/v1/batches/{id}', { id: `batch_${'x'.repeat(32)}` }),
  'batch list': restEvent('GET', '/v1/batches'),
};

const KEY_HEADERS = {
  'x-api-key': { 'x-api-key': 'mg-key-1' },
  bearer: { Authorization: 'Bearer mg-key-2' },
  'no key': {},
};
/** REQUEST authorizer events: the key in either header, or none. */
export const AUTHORIZER_EVENTS = Object.fromEntries(
  Object.entries(KEY_HEADERS).map(([label, headers]) => [label, authorizerEvent(headers)]),
);

const messages = [{ role: 'user', content: 'Tell me my fortune' }];
/** Requests to the chat function's routes: whole, streamed, text completion, unknown model. */
export const CHAT_EVENTS = {
  'chat whole': restEvent(
    'POST',
    '/v1/chat/completions',
    {},
    { model: DEMO_LM, messages, max_tokens: 12, seed: 7 },
  ),
  'chat streamed': restEvent(
    'POST',
    '/v1/chat/completions',
    {},
    {
      model: DEMO_LM,
      messages,
      max_tokens: 6,
      seed: 7,
      stream: true,
      stream_options: { include_usage: true },
    },
  ),
  'text completion': restEvent(
    'POST',
    '/v1/completions',
    {},
    { model: DEMO_LM, prompt: 'The wise programmer', max_tokens: 10, seed: 2, temperature: 0.7 },
  ),
  'unknown model': restEvent('POST', '/v1/chat/completions', {}, { model: 'gpt-4', messages }),
};

/**
 * Inputs of the Distributed Map events below (csvChunkEvents), dropped before the suite runs and never sent as
 * notifications: the merge reads a CSV input for records of another field count than the header's.
 */
export const DISTRIBUTED_FILES: Record<string, string> = {
  'batch/input/iris/huge.csv':
    'id,sepal_length,sepal_width,petal_length,petal_width\na,5.1,3.5,1.4,0.2\nb,6.7,3.1,n/a,2.4\nc,6.3,2.9\nd,6.3,2.9,5.6,1.8\ne,5.0,3.4,1.5,0.2,7.7\n',
};

/**
 * The CSV reader's item batches of DISTRIBUTED_FILES' CSV: each record an object keyed by the header,
 * every value a string, a short record padded with empty strings and a long one cut to the
 * header's fields (as Step Functions documents), out of order.
 */
export function csvChunkEvents(inputKey: string, id: string): { chunks: ChunkEvent[]; merge: MergeEvent } {
  const record = (id: string, values: string[]) => ({
    id,
    ...Object.fromEntries(
      ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, i) => [
        name,
        values[i] ?? '',
      ]),
    ),
  });
  const values = [
    record('a', ['5.1', '3.5', '1.4', '0.2']),
    record('b', ['6.7', '3.1', 'n/a', '2.4']),
    record('c', ['6.3', '2.9']),
    record('d', ['6.3', '2.9', '5.6', '1.8']),
    record('e', ['5.0', '3.4', '1.5', '0.2']),
  ];
  return outOfOrderRun(inputKey, id, 'csv', values, 2);
}

/** A map run that failed after one item batch: the merge step's input carries the caught error. */
export function failedRunEvents(inputKey: string, id: string): { chunks: ChunkEvent[]; merge: MergeEvent } {
  const BatchInput = { jobId: id, inputKey, format: 'jsonl' as const };
  return {
    chunks: [{ BatchInput, Items: [1, 2].map((x, index) => ({ index, value: [x] })) }],
    merge: {
      jobId: id,
      inputKey,
      startedAt: '2026-01-01T00:00:00.000Z',
      error: { Error: 'States.ItemReaderFailed', Cause: 'line 3 is not JSON' },
    },
  };
}

/**
 * The Distributed Map's item batches (ItemReader rows as `{index, value}`, ItemBatcher's
 * BatchInput), finished out of order as Step Functions may, then the merge step's input.
 */
export function chunkEvents(inputKey: string, id: string): { chunks: ChunkEvent[]; merge: MergeEvent } {
  return outOfOrderRun(inputKey, id, 'jsonl', parityFixture('diabetes').instances.slice(0, 6), 3);
}

/**
 * A map run of `values` (ItemReader rows as `{index, value}`) in two item batches, the one from
 * `split` on finished first, then the merge step's input.
 */
function outOfOrderRun(
  inputKey: string,
  id: string,
  format: ChunkEvent['BatchInput']['format'],
  values: readonly unknown[],
  split: number,
): { chunks: ChunkEvent[]; merge: MergeEvent } {
  const items = values.map((value, index) => ({ index, value }));
  const BatchInput = { jobId: id, inputKey, format };
  return {
    chunks: [
      { BatchInput, Items: items.slice(split) },
      { BatchInput, Items: items.slice(0, split) },
    ],
    merge: { jobId: id, inputKey, startedAt: '2026-01-01T00:00:00.000Z' },
  };
}

/**
 * The local SQS stand-in as SQS behaves: delivery, deletion on success, redelivery after the visibility timeout,
 * and the dead-letter queue after maxReceiveCount receives.
 */
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { LocalQueue } from '../../../local/queue.ts';

describe('LocalQueue (SQS semantics)', () => {
  it('delivers each message, deletes it on success, and redelivers a failure after the visibility timeout', async () => {
    const seen: Array<{ body: string; receives: string | undefined; at: number }> = [];
    const started = Date.now();
    let failOnce = true;
    const queue = new LocalQueue({
      visibilityTimeoutMs: 100,
      maxReceiveCount: 3,
      handler: async (event: SQSEvent) => {
        const record = event.Records[0];
        seen.push({
          body: record?.body ?? '',
          receives: record?.attributes.ApproximateReceiveCount,
          at: Date.now() - started,
        });
        if (record?.body === 'flaky' && failOnce) {
          failOnce = false;
          return { batchItemFailures: [{ itemIdentifier: record.messageId }] };
        }
        return { batchItemFailures: [] };
      },
    });
    queue.send('ok');
    queue.send('flaky');
    await queue.drained();
    expect(seen.map((s) => [s.body, s.receives])).toEqual([
      ['ok', '1'],
      ['flaky', '1'],
      ['flaky', '2'],
    ]);
    expect(seen[2]?.at).toBeGreaterThanOrEqual(100);
    expect(queue.depth).toBe(0);
    expect(queue.deadLetters).toEqual([]);
    queue.close();
  });

  it('moves a message that keeps failing to the dead-letter queue after maxReceiveCount receives', async () => {
    let calls = 0;
    const dead: string[] = [];
    const queue = new LocalQueue({
      visibilityTimeoutMs: 10,
      maxReceiveCount: 3,
      handler: async () => {
        calls++;
        throw new Error('poison');
      },
      onDeadLetter: (m) => dead.push(m.body),
    });
    queue.send('poison');
    await queue.drained();
    expect(calls).toBe(3);
    expect(dead).toEqual(['poison']);
    expect(queue.deadLetters[0]?.receiveCount).toBe(3);
    queue.close();
  });
});

/**
 * The local SQS queue: in process, with SQS's delivery semantics (visibility timeout, partial batch
 * failures, dead letters), calling its consumer as a Lambda event source mapping does.
 */
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

export interface LocalQueueOptions {
  /** How long a received message stays invisible before it may be received again. */
  readonly visibilityTimeoutMs: number;
  /** Receives after which a failing message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Messages per handler call (SQS event source batch size). */
  readonly batchSize?: number;
  /** The consumer, as a Lambda SQS event source mapping with ReportBatchItemFailures calls it. */
  readonly handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  readonly queueName?: string;
  readonly onDeadLetter?: (message: QueuedMessage) => void;
}

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  receiveCount: number;
  visibleAt: number;
  readonly sentAt: number;
}

/**
 * An in-process queue with SQS's delivery semantics: at-least-once delivery,
 * a visibility timeout after each receive, partial batch failures, and a
 * redrive to a dead-letter queue after `maxReceiveCount` receives.
 */
export class LocalQueue {
  private readonly messages: QueuedMessage[] = [];
  readonly deadLetters: QueuedMessage[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(private readonly options: LocalQueueOptions) {}

  send(body: string): string {
    const message: QueuedMessage = {
      messageId: randomUUID(),
      body,
      receiveCount: 0,
      visibleAt: 0,
      sentAt: Date.now(),
    };
    this.messages.push(message);
    this.schedule(0);
    return message.messageId;
  }

  /** Messages waiting or in flight. */
  get depth(): number {
    return this.messages.length;
  }

  /** Resolves once no message is waiting or in flight. */
  drained(): Promise<void> {
    if (this.messages.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), Math.max(0, delayMs));
  }

  private async poll(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    try {
      for (;;) {
        const now = Date.now();
        const batch = this.messages.filter((m) => m.visibleAt <= now).slice(0, this.options.batchSize ?? 1);
        if (batch.length === 0) break;
        for (const m of batch) {
          m.receiveCount++;
          m.visibleAt = now + this.options.visibilityTimeoutMs;
        }
        let failed: Set<string>;
        try {
          const result = await this.options.handler(this.event(batch));
          failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch {
          failed = new Set(batch.map((m) => m.messageId));
        }
        for (const m of batch) {
          if (!failed.has(m.messageId)) this.remove(m);
          else if (m.receiveCount >= this.options.maxReceiveCount) {
            this.remove(m);
            this.deadLetters.push(m);
            this.options.onDeadLetter?.(m);
          }
        }
      }
    } finally {
      this.running = false;
    }
    if (this.messages.length === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    const next = Math.min(...this.messages.map((m) => m.visibleAt));
    this.schedule(next - Date.now());
  }

  private remove(message: QueuedMessage): void {
    const i = this.messages.indexOf(message);
    if (i >= 0) this.messages.splice(i, 1);
  }

  private event(batch: QueuedMessage[]): SQSEvent {
    const name = this.options.queueName ?? 'modelgate-batch';
    return {
      Records: batch.map((m) => ({
        messageId: m.messageId,
        receiptHandle: `${m.messageId}#${m.receiveCount}`,
        body: m.body,
        attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: String(m.sentAt),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(m.sentAt),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:local:000000000000:${name}`,
        awsRegion: 'local',
      })),
    };
  }
}

/**
 * The local gateway's proxy integration (one timer for every call under one timeout) and the batched
 * access-log writer.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyHandler } from '../../../../local/gateway/gateway.ts';
import { lambdaContext } from '../../../../local/gateway/proxy-event.ts';
import { ProxyIntegration } from '../../../../local/gateway/proxy-integration.ts';
import { batchedLines } from '../../../../local/net.ts';

const event = {} as Parameters<ProxyHandler>[0];
const context = lambdaContext('r', 1000, 'api');

describe('ProxyIntegration (one queue and one timer for every call under one timeout)', () => {
  it('answers each call with its handler, undefined when it threw, and timeout only for the calls still running', async () => {
    const integration = new ProxyIntegration(60);
    let release: (value: unknown) => void = () => {};
    const hung: ProxyHandler = () => new Promise(() => {});
    const slow: ProxyHandler = () => new Promise((r) => (release = r));
    const results = await Promise.all([
      integration.invoke(async () => ({ statusCode: 200 }), event, context),
      integration.invoke(hung, event, context),
      integration.invoke(async () => Promise.reject(new Error('boom')), event, context),
      integration.invoke(slow, event, context).then((v) => v),
      (async () => {
        await new Promise((r) => setTimeout(r, 5));
        release({ statusCode: 201 });
        return integration.invoke(hung, event, context);
      })(),
    ]);
    expect(results).toEqual([{ statusCode: 200 }, 'timeout', undefined, { statusCode: 201 }, 'timeout']);
  });

  it("starts the handlers in the event loop's check phase, all the calls of one turn together", async () => {
    const integration = new ProxyIntegration(1000);
    const order: string[] = [];
    const handler =
      (name: string): ProxyHandler =>
      async () => {
        order.push(`start ${name}`);
        await null;
        order.push(`end ${name}`);
        return name;
      };
    setImmediate(() => order.push('check phase, queued before'));
    const calls = [
      integration.invoke(handler('a'), event, context),
      integration.invoke(handler('b'), event, context),
    ];
    setImmediate(() => order.push('check phase, queued after'));
    await null;
    order.push('turn over');
    expect(await Promise.all(calls)).toEqual(['a', 'b']);
    await new Promise((done) => setImmediate(done));
    expect(order).toEqual([
      'turn over',
      'check phase, queued before',
      'start a',
      'end a',
      'start b',
      'end b',
      'check phase, queued after',
    ]);
  });

  it('keeps timing out calls made after earlier ones finished', async () => {
    const integration = new ProxyIntegration(20);
    for (let i = 0; i < 200; i++) await integration.invoke(async () => i, event, context);
    const started = performance.now();
    expect(await integration.invoke(() => new Promise(() => {}), event, context)).toBe('timeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
  });
});

describe('batchedLines', () => {
  it('writes the lines of one turn of the event loop in one write, in order', async () => {
    const writes: string[] = [];
    const log = batchedLines({
      write: (text: string) => writes.push(text),
    } as unknown as NodeJS.WritableStream);
    log('a');
    log('b');
    await new Promise((r) => setImmediate(r));
    log('c');
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });
});

import { describe, expect, it } from 'vitest';
import { runLoad } from '../../bench/load.ts';

/** `MODELGATE_LOAD_SECONDS` shortens or lengthens the run (60 s by default). */
const seconds = Number(process.env.MODELGATE_LOAD_SECONDS ?? 60);

describe('load on loopback', () => {
  it(
    `holds ${seconds} s of mixed traffic at 256 connections without an error or a leak`,
    async () => {
      const result = await runLoad({ seconds, connections: 256 });
      // Every request answered 2xx: the topology's usage plan is unthrottled, so no 429 is deliberate here.
      expect(result.statusCodes).toEqual({});
      expect(result.errors).toBe(0);
      expect(result.timeouts).toBe(0);
      expect(result.requests).toBeGreaterThan(seconds * 100);
      expect(result.chatRequests).toBeGreaterThan(seconds);
      // No leak: after a full collection, RSS and the live heap each grow less than 10 % from a
      // third of the run (the 20th second of 60) to its end.
      expect(result.rssAtEndMb).toBeLessThan(result.rssAtThirdMb * 1.1);
      expect(result.heapAtEndMb).toBeLessThan(result.heapAtThirdMb * 1.1);
      process.stdout.write(
        `load: ${result.requests} requests (${result.chatRequests} streamed chats), ${result.rps.toFixed(0)}/s, predict/infer p50 ${result.p50} ms p99 ${result.p99} ms, chat p99 ${result.chatP99} ms, live heap ${result.heapAtThirdMb.toFixed(1)} -> ${result.heapAtEndMb.toFixed(1)} MB, RSS ${result.rssAtThirdMb.toFixed(0)} -> ${result.rssAtEndMb.toFixed(0)} MB\n`,
      );
    },
    (seconds + 60) * 1000,
  );
});

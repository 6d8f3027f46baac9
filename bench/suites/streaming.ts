/** Benchmark `streaming` (table row 8): what the API adds to a streamed chat answer. */
import { startTopology } from '../lib/bundle.ts';
import type { Lab } from '../lib/lab.ts';
import { stop } from '../lib/process.ts';
import { fmt, limitRow, type Row, ratioRow } from '../lib/report.ts';
import { streamingOverhead } from '../lib/topology-runs.ts';

/** 8: the chat path's streaming overhead, through the whole local topology. */
export async function streaming(lab: Lab): Promise<Row[]> {
  const { child, ready } = await startTopology<{ apiUrl: string; apiKey: string; demoUrl: string }>();
  try {
    const s = await streamingOverhead(ready, lab.options.quick ? 3 : 43);
    return [
      limitRow(
        {
          id: '8',
          measurement: 'streaming chat: time to first token added by the API (median of alternating runs)',
          ours: s.api.ttft - s.direct.ttft,
          unit: 'ms',
          digits: 2,
          peer: `${fmt(s.direct.ttft, 2)} ms direct`,
        },
        5,
      ),
      ratioRow(
        {
          id: '8',
          measurement: 'streaming chat: tokens/s through the API (peer: the container directly)',
          ours: s.api.tokensPerSecond,
          peer: s.direct.tokensPerSecond,
          unit: 'tok/s',
        },
        0.9,
      ),
    ];
  } finally {
    await stop(child);
  }
}

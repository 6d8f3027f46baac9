/** Where a command writes: answers on `out`, progress and errors on `err`. */
export interface Io {
  readonly out: { write(text: string): unknown };
  readonly err: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  /** Lines typed by the user (interactive chat); process.stdin by default. */
  readonly input?: AsyncIterable<string>;
}

/** A plain text table: columns padded to their widest cell, two spaces apart. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** A one-line progress bar, redrawn in place on a terminal. */
export function progressBar(done: number, total: number): string {
  const width = 30;
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
  const [unit, scale] = total >= 2 ** 20 ? ['MB', 2 ** 20] : ['KB', 1024];
  const size = (n: number) => (n / scale).toFixed(1);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${size(done)}/${size(total)} ${unit}`;
}

export function json(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A command line mistake: exit code 2, with the usage. */
export class UsageError extends Error {}

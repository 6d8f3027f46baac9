/**
 * A partial `npm run bench -- <suites>` writes into the last full report: its rows replace the rows of
 * the same measurement (or join the table), and the analysis is brought up to date.
 */

const HEADER = '| # | measurement | ModelGate | peer | ratio | target | result |';

/**
 * What a row measures: its number and the words of its measurement before the first colon, its run
 * figures (requests recorded, round lengths) left out. "HTTP predict, iris forest, 32 connections,
 * wrk: requests/s (peer: …)" and "…: p99" are one subject, measured by one suite.
 */
function subject(row: string): string {
  const [number, measurement = ''] = row.split(' | ');
  return `${number} | ${measurement.split(':')[0]?.replace(/\d[\d,.]*/g, '#')}`;
}

/** `report` (bench/RESULTS.md) with `resultTable`'s rows merged in, a note of the partial run, and `analysis` at its end. */
export function mergeReport(report: string, resultTable: string, command: string, analysis: string): string {
  const lines = report.split('\n');
  const start = lines.indexOf(HEADER);
  if (start < 0) throw new Error('bench/RESULTS.md has no result table to merge into');
  let end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
  if (end < 0) end = lines.length;
  const fresh = resultTable.split('\n').filter((line) => line.startsWith('| ') && line !== HEADER);
  const table = lines.slice(start, end);
  // The fresh rows of a subject take the place of all its old ones: a row whose wording changed
  // (another peer is now the fastest, say) is replaced, not kept beside the new one.
  const groups = new Map<string, string[]>();
  for (const row of fresh) groups.set(subject(row), [...(groups.get(subject(row)) ?? []), row]);
  for (const [key, rows] of groups) {
    // Every row before the subject's first one is kept, so that is where its fresh rows go.
    const at = table.findIndex((line, i) => i > 1 && subject(line) === key);
    const kept = table.filter((line, i) => i <= 1 || subject(line) !== key);
    kept.splice(at < 0 ? kept.length : at, 0, ...rows);
    table.splice(0, table.length, ...kept);
  }
  const note = `- Rows ${[...new Set(fresh.map((row) => row.split(' | ')[0]?.slice(2)))].join(', ')}: \`${command}\` on ${new Date().toISOString().slice(0, 10)}.`;
  const head = lines.slice(0, start).filter((line) => !line.startsWith(note.slice(0, note.indexOf(':'))));
  const at = head.findIndex((line) => line.startsWith('- Command:'));
  head.splice(at < 0 ? head.length : at + 1, 0, note);
  const tail = lines.slice(end).join('\n');
  const firstHeading = analysis.split('\n').find((line) => line.startsWith('## '));
  const cut = firstHeading ? tail.indexOf(firstHeading) : -1;
  const body = cut >= 0 ? `${tail.slice(0, cut)}${analysis}` : `${tail}\n${analysis}`;
  return [...head, ...table, body].join('\n');
}

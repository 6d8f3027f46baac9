/**
 * A partial `npm run bench -- <suites>` writes into the last full report: its rows replace the rows of
 * the same measurement (or join the table), and the analysis is brought up to date.
 */

const HEADER = '| # | measurement | ModelGate | peer | ratio | target | result |';

/** `report` (bench/RESULTS.md) with `resultTable`'s rows merged in, a note of the partial run, and `analysis` at its end. */
export function mergeReport(report: string, resultTable: string, command: string, analysis: string): string {
  const lines = report.split('\n');
  const start = lines.indexOf(HEADER);
  if (start < 0) throw new Error('bench/RESULTS.md has no result table to merge into');
  let end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
  if (end < 0) end = lines.length;
  // Run figures inside a measurement's text (requests recorded, round lengths) do not make it another measurement.
  const measurement = (line: string) => line.split(' | ')[1]?.replace(/\d[\d,.]*/g, '#');
  const fresh = resultTable.split('\n').filter((line) => line.startsWith('| ') && line !== HEADER);
  const table = lines.slice(start, end);
  for (const row of fresh) {
    const at = table.findIndex((line) => measurement(line) === measurement(row));
    if (at > 1) table[at] = row;
    else table.push(row);
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

/** One line of the results table. */
export interface Row {
  /** The measurement's number in the table of targets. */
  readonly id: string;
  readonly measurement: string;
  readonly ours: string;
  readonly peer: string;
  /** `57.3×`, `+0.12 ms`, or `-` when there is nothing to compare. */
  readonly ratio: string;
  readonly target: string;
  /** undefined: not measured (a peer or tool missing), with the reason in `note`. */
  readonly pass: boolean | undefined;
  readonly note?: string;
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** `ours / peer` as a ratio row against `≥ bound×` (or `≤ bound×` when `atMost`). */
export function ratioRow(
  base: {
    id: string;
    measurement: string;
    ours: number;
    peer: number | undefined;
    unit: string;
    digits?: number;
  },
  bound: number,
  options: { atMost?: boolean; missing?: string } = {},
): Row {
  const digits = base.digits ?? 0;
  const ours = `${fmt(base.ours, digits)} ${base.unit}`;
  const target = `${options.atMost ? '≤' : '≥'} ${bound}×`;
  if (base.peer === undefined || !Number.isFinite(base.peer) || base.peer === 0) {
    return {
      ...base,
      ours,
      peer: '-',
      ratio: '-',
      target,
      pass: undefined,
      note: options.missing ?? 'peer not run',
    };
  }
  const ratio = base.ours / base.peer;
  return {
    id: base.id,
    measurement: base.measurement,
    ours,
    peer: `${fmt(base.peer, digits)} ${base.unit}`,
    ratio: `${fmt(ratio, ratio < 10 ? 2 : 1)}×`,
    target,
    pass: options.atMost ? ratio <= bound : ratio >= bound,
  };
}

/** An absolute figure against `≤ bound unit`. */
export function limitRow(
  base: { id: string; measurement: string; ours: number; unit: string; digits?: number; peer?: string },
  bound: number,
): Row {
  const digits = base.digits ?? 0;
  return {
    id: base.id,
    measurement: base.measurement,
    ours: `${fmt(base.ours, digits)} ${base.unit}`,
    peer: base.peer ?? '-',
    ratio: '-',
    target: `≤ ${fmt(bound, digits)} ${base.unit}`,
    pass: base.ours <= bound,
  };
}

export function table(rows: readonly Row[]): string {
  const verdict = (r: Row) =>
    r.pass === undefined ? `not run${r.note ? ` (${r.note})` : ''}` : r.pass ? 'pass' : 'miss';
  return [
    '| # | measurement | ModelGate | peer | ratio | target | result |',
    '|---|---|---:|---:|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.id} | ${r.measurement} | ${r.ours} | ${r.peer} | ${r.ratio} | ${r.target} | ${verdict(r)} |`,
    ),
  ].join('\n');
}

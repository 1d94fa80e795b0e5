/** Summary statistics of repeated measurements: the median and the spread around it. */
export interface Summary {
  readonly n: number
  readonly median: number
  readonly p10: number
  readonly p90: number
  readonly min: number
  readonly max: number
}

/** Linear-interpolated quantile of sorted values (q in [0, 1]). */
export function quantile (sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * q
  const below = Math.floor(position)
  const above = Math.ceil(position)
  const low = sorted[below] ?? Number.NaN
  const high = sorted[above] ?? Number.NaN
  return low + (high - low) * (position - below)
}

export function summarize (values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN
  }
}

/** "1.23 s (1.10–1.50)": a median with its p10–p90 spread, in seconds from milliseconds. */
export function formatSeconds (summary: Summary): string {
  if (summary.n === 0) return 'n/a'
  const s = (ms: number): string => (ms / 1000).toFixed(2)
  return summary.n === 1 ? `${s(summary.median)} s` : `${s(summary.median)} s (${s(summary.p10)}–${s(summary.p90)})`
}

/**
 * Wait before the next dial of a peer that failed `failures` times in a row: doubling from
 * `initialMs`, capped at `maxMs`, plus up to a quarter of random jitter so nodes that lost the same
 * peer do not re-dial it in lockstep. `random` is injected so tests can pin it.
 */
export function redialDelayMs (
  failures: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random
): number {
  if (failures <= 0) return 0
  // Capping the exponent keeps 2 ** n finite however long a peer stays down.
  const exponent = Math.min(failures - 1, 30)
  const baseMs = Math.min(maxMs, initialMs * 2 ** exponent)
  return Math.round(baseMs + baseMs * 0.25 * random())
}

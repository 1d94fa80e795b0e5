import { assert } from '@p2p-bootstrap/core'

/**
 * What really happened to each simulated machine, as the simulator alone knows it: when it was
 * down and how the network was split. The S7 check asks it whether a replaced control plane was
 * in fact down or cut off from a majority of the voters for the whole fail-over delay, whatever
 * the nodes believed.
 */
export class GroundTruth {
  /** Per node: [downFromMs, upAtMs | null] intervals, in time order. */
  private readonly downIntervals: Array<Array<[number, number | null]>>
  /** Partition changes in time order: from `atMs`, only nodes in one group talk; null heals. */
  private readonly partitions: Array<{ readonly atMs: number, readonly groupOf: ReadonlyMap<number, number> | null, readonly cuts: ReadonlySet<string> }> = []

  constructor (nodeCount: number) {
    // Every node is down until its first start.
    this.downIntervals = Array.from({ length: nodeCount }, () => [[0, null]])
  }

  started (node: number, atMs: number): void {
    const open = this.downIntervals[node]?.at(-1)
    if (open !== undefined && open[1] === null) open[1] = atMs
  }

  crashed (node: number, atMs: number): void {
    const intervals = this.downIntervals[node]
    assert(intervals !== undefined, 'a crashed node is in range')
    const last = intervals.at(-1)
    if (last === undefined || last[1] !== null) intervals.push([atMs, null])
  }

  partitioned (groups: readonly (readonly number[])[] | null, atMs: number, cutPairs: ReadonlyArray<readonly [number, number]> = []): void {
    const cuts = new Set(cutPairs.flatMap(([a, b]) => [`${a}>${b}`, `${b}>${a}`]))
    if (groups === null) {
      this.partitions.push({ atMs, groupOf: null, cuts })
      return
    }
    const groupOf = new Map<number, number>()
    groups.forEach((group, index) => { for (const node of group) groupOf.set(node, index) })
    this.partitions.push({ atMs, groupOf, cuts })
  }

  /**
   * S7: null when `node` was down or cut off from a majority of `voters` for a continuous stretch
   * of at least `delayMs` that lasted until `atMs`, or ended at most `graceMs` before it (a node
   * that is reachable again is seen alive only after its peers probe it, and a ballot already
   * under way may still finish); otherwise a sentence saying what the truth was.
   */
  replacementProblem (node: number, voters: readonly number[], atMs: number, delayMs: number, graceMs: number): string | null {
    const times = new Set<number>([0, atMs])
    for (const intervals of this.downIntervals) {
      for (const [from, to] of intervals) {
        if (from <= atMs) times.add(from)
        if (to !== null && to <= atMs) times.add(to)
      }
    }
    for (const change of this.partitions) if (change.atMs <= atMs) times.add(change.atMs)
    const points = [...times].sort((a, b) => a - b)
    let stretchFromMs: number | null = null
    let longestRecentMs = 0
    for (let index = 0; index < points.length; index++) {
      const fromMs = points[index] ?? 0
      const toMs = points[index + 1] ?? atMs
      const cutOff = this.cutOff(node, voters, fromMs)
      if (cutOff) stretchFromMs ??= fromMs
      const endMs = cutOff ? toMs : fromMs
      if (stretchFromMs !== null && (!cutOff || index === points.length - 1)) {
        if (endMs >= atMs - graceMs) longestRecentMs = Math.max(longestRecentMs, endMs - stretchFromMs)
        if (!cutOff) stretchFromMs = null
      }
    }
    if (longestRecentMs >= delayMs) return null
    return `it was down or cut off from a majority of the voters for at most ${longestRecentMs} ms before ${atMs} ms (within a grace of ${graceMs} ms), less than the fail-over delay of ${delayMs} ms`
  }

  /** True when at `atMs` the node is down, or reaches (itself included) fewer than a majority of the voters. */
  private cutOff (node: number, voters: readonly number[], atMs: number): boolean {
    if (this.isDown(node, atMs)) return true
    let reached = voters.includes(node) ? 1 : 0
    for (const voter of voters) {
      if (voter !== node && !this.isDown(voter, atMs) && this.connected(node, voter, atMs)) reached += 1
    }
    return reached < Math.floor(voters.length / 2) + 1
  }

  private isDown (node: number, atMs: number): boolean {
    return (this.downIntervals[node] ?? []).some(([from, to]) => from <= atMs && (to === null || atMs < to))
  }

  private connected (a: number, b: number, atMs: number): boolean {
    let groupOf: ReadonlyMap<number, number> | null = null
    let cuts: ReadonlySet<string> = new Set()
    for (const change of this.partitions) {
      if (change.atMs > atMs) break
      groupOf = change.groupOf
      cuts = change.cuts
    }
    if (cuts.has(`${a}>${b}`)) return false
    if (groupOf === null) return true
    const groupA = groupOf.get(a)
    return groupA !== undefined && groupA === groupOf.get(b)
  }
}

import { assert } from '@p2p-bootstrap/core'
import type { Prng } from '@p2p-bootstrap/core'
import type { ClockSettings } from './clock.js'
import type { ClusterShape } from './core-types.js'
import type { LinkSettings } from './network.js'
import type { ProcessingFault } from './processing.js'

/**
 * The faults of one run as plain data, drawn by a scenario from the seed before the run starts.
 * Nodes are indexes into the run's node list, sorted by id: node 0 has the lowest id, the one a
 * "lowest live id" rule prefers as proposer.
 */

/**
 * Where in a step a crash strikes. `after-persist`: the batch is written, nothing was sent (S6
 * says this must be safe). `after-send`: messages left, `advance` never ran.
 */
export type CrashPoint = 'idle' | 'after-persist' | 'after-send'

export interface CrashFault {
  readonly node: number
  readonly atMs: number
  readonly point: CrashPoint
  /** Power loss rather than a process crash: records since the last fsync are gone. */
  readonly loseUnsynced: boolean
  /** Down time before the restart from disk; null stays down. */
  readonly restartAfterMs: number | null
  /**
   * The machine loses its whole state dir while down (a disk replaced, a re-install): it comes
   * back as a new node, with a new identity and nothing restored. Only after a plan is committed
   * (before, it would break the precondition that at most `expect` machines take part).
   */
  readonly wipeState?: boolean
  /**
   * The node's config is edited while it is down: it restarts with this shape (an operator raising
   * `expect` as the fleet grew, or a rolling change). S8: a committed plan outlives the edit.
   */
  readonly shapeAfterRestart?: ClusterShape
}

/** A crash armed to strike the first time the node sends a message of `kind` (proposer-crash). */
export interface CrashOnSendFault {
  readonly node: number
  readonly kind: string
  readonly point: 'after-persist' | 'after-send'
  readonly loseUnsynced: boolean
  readonly restartAfterMs: number | null
}

/** From `atMs`, nodes talk only within their group; null heals. Nodes in no group are cut off. */
export interface PartitionFault {
  readonly atMs: number
  readonly groups: readonly (readonly number[])[] | null
  /**
   * Links cut on top of the groups (both ways): with groups null and [[a, c]], a–b and b–c stay
   * up while a–c is down, a non-transitive partition as a broken switch port or firewall makes.
   */
  readonly cuts?: ReadonlyArray<readonly [number, number]>
}

/** A node finds a peer late (mDNS answers are lost or slow). Discovery is mutual. */
export interface DiscoveryFault {
  readonly atMs: number
  readonly node: number
  readonly peer: number
}

export type NodeStart =
  | { readonly node: number, readonly atMs: number }
  /** A late joiner: starts this long after the first node holds a committed plan. */
  | { readonly node: number, readonly afterFirstCommitMs: number }

/** From when L1 is checked: after the last node's first start, or from a fixed time (a heal). */
export type LivenessStart = { readonly kind: 'last-start' } | { readonly kind: 'at', readonly atMs: number }

export interface FaultPlan {
  readonly links: LinkSettings
  readonly clocks: readonly ClockSettings[]
  /** Simulated time between two ticks of each node. */
  readonly tickIntervalsMs: readonly number[]
  readonly starts: readonly NodeStart[]
  /** Peers each node can see (mutual); null: everyone sees everyone, as one mDNS segment. */
  readonly views: readonly (readonly number[])[] | null
  readonly discoveries: readonly DiscoveryFault[]
  readonly partitions: readonly PartitionFault[]
  readonly crashes: readonly CrashFault[]
  readonly crashesOnSend: readonly CrashOnSendFault[]
  /** Null: this scenario makes no liveness promise (L1 not checked). */
  readonly liveness: LivenessStart | null
  /** Nodes asked to leave the cluster (`leave`), at these times; a node that is down then is skipped. */
  readonly leaves?: readonly LeaveFault[]
  /**
   * Nodes that report their k3s server Ready (`node/<id>/k3s-server`, as the k3s applier does
   * once /readyz answers) at a time; the simulator runs no k3s, so only these ever do.
   */
  readonly serverReady?: readonly LeaveFault[]
  /** Keep the run going at least until then (a fail-over delay must pass before anything happens). */
  readonly holdUntilMs?: number
  /**
   * Per-node shapes at first start, by node index (a machine with a typo in its config); a node
   * not listed takes the scenario's shape.
   */
  readonly shapes?: ReadonlyMap<number, ClusterShape>
  /** Event-loop stalls (CPU starvation). */
  readonly stalls?: readonly StallFault[]
  /** Wall-clock steps; timers run on the monotonic clock and must not notice them. */
  readonly clockSteps?: readonly ClockStepFault[]
  /** Messages and timers cost CPU time on each node's (or one shared) event loop. */
  readonly processing?: ProcessingFault
  /**
   * Best effort only: the fleet starts split in parts that cannot see each other at all, so each
   * may bootstrap (no `expect`: a partition cannot be told from a small fleet). Two plans of one
   * epoch are then not a violation while they last; after the heal every node must hold the one
   * the ledger keeps (checked at the end), and S4–S8 hold as always.
   */
  readonly fullSplit?: boolean
}

/**
 * CPU starvation: the node's event loop is frozen from `atMs` for `durationMs` (a Node process
 * loading, generating keys, or sharing cores with k3s). Messages to it queue and are read after;
 * its timers fire late, first thing when it wakes, as Node runs timers before I/O.
 */
export interface StallFault {
  readonly node: number
  readonly atMs: number
  readonly durationMs: number
}

/** The node's wall clock is stepped by `stepMs` (NTP correcting late, either way); its monotonic clock goes on. */
export interface ClockStepFault {
  readonly node: number
  readonly atMs: number
  readonly stepMs: number
}

/** Stalls of 0.1–5 s, as a busy edge box shows. */
export const STALL_MS_MIN = 100
export const STALL_MS_MAX = 5_000

/**
 * Every node starting at once on shared cores: each is frozen for a while early on (0.1 to
 * `maxMs`), within its first `windowMs`, the stalls overlapping as they do when all load at once.
 */
export function correlatedStartStalls (prng: Prng, starts: readonly NodeStart[], windowMs: number, maxMs: number): StallFault[] {
  const stalls: StallFault[] = []
  for (const start of starts) {
    if (!('atMs' in start)) continue
    stalls.push({ node: start.node, atMs: start.atMs + prng.intInclusive(0, windowMs), durationMs: prng.intInclusive(STALL_MS_MIN, maxMs) })
  }
  return stalls
}

/** `count` stalls of random nodes at random times in [fromMs, toMs], 0.1 to `maxMs` long each. */
export function randomStalls (prng: Prng, nodeCount: number, count: number, fromMs: number, toMs: number, maxMs: number): StallFault[] {
  return Array.from({ length: count }, () => ({
    node: prng.intInclusive(0, nodeCount - 1),
    atMs: prng.intInclusive(fromMs, toMs),
    durationMs: prng.intInclusive(STALL_MS_MIN, maxMs)
  }))
}

/**
 * A slow node (a weak CPU, or one shared with k3s as it starts): from `fromMs` to `toMs` it is
 * busy `busyMs` out of every `busyMs + idleMs`, as a train of short stalls; in between it reads
 * what queued. Everything it does takes longer, and nothing it says arrives on time.
 */
export function slowNodeStalls (node: number, fromMs: number, toMs: number, busyMs: number, idleMs: number): StallFault[] {
  assert(busyMs >= 1 && idleMs >= 1, 'a slow node is busy and idle in turn')
  const stalls: StallFault[] = []
  for (let atMs = fromMs; atMs < toMs; atMs += busyMs + idleMs) stalls.push({ node, atMs, durationMs: busyMs })
  return stalls
}

/**
 * Drops each stall that begins while an earlier one of the same node still runs: two drawn
 * stalls would otherwise chain into one longer than STALL_MS_MAX, which is no longer a slow
 * node but a dead one for a while (a failure detector is right to say so).
 */
export function separateStalls (stalls: readonly StallFault[]): StallFault[] {
  const endOf = new Map<number, number>()
  const kept: StallFault[] = []
  for (const stall of [...stalls].sort((a, b) => a.atMs - b.atMs || a.node - b.node)) {
    if (stall.atMs <= (endOf.get(stall.node) ?? -1)) continue
    endOf.set(stall.node, stall.atMs + stall.durationMs)
    kept.push(stall)
  }
  return kept
}

/** `count` wall-clock steps of up to ±`maxStepMs` on random nodes in [fromMs, toMs]. */
export function randomClockSteps (prng: Prng, nodeCount: number, count: number, fromMs: number, toMs: number, maxStepMs: number): ClockStepFault[] {
  return Array.from({ length: count }, () => ({
    node: prng.intInclusive(0, nodeCount - 1),
    atMs: prng.intInclusive(fromMs, toMs),
    stepMs: prng.chance(1, 2) ? prng.intInclusive(1, maxStepMs) : -prng.intInclusive(1, maxStepMs)
  }))
}

/** An operator runs `leave` on a node. */
export interface LeaveFault {
  readonly atMs: number
  readonly node: number
}

/** Ticks every 10–50 ms of simulated time, a different rate per node. */
export const TICK_INTERVAL_MS_MIN = 10
export const TICK_INTERVAL_MS_MAX = 50

export function randomTickIntervals (prng: Prng, nodeCount: number): number[] {
  return Array.from({ length: nodeCount }, () => prng.intInclusive(TICK_INTERVAL_MS_MIN, TICK_INTERVAL_MS_MAX))
}

/** All nodes start within `spreadMs` of time 0. */
export function spreadStarts (prng: Prng, nodeCount: number, spreadMs: number): NodeStart[] {
  return Array.from({ length: nodeCount }, (_, node) => ({ node, atMs: prng.intInclusive(0, spreadMs) }))
}

/** Splits node indexes at random into groups of the given sizes. */
export function randomGroups (prng: Prng, nodeCount: number, sizes: readonly number[]): number[][] {
  assert(sizes.reduce((sum, size) => sum + size, 0) === nodeCount, 'group sizes add up to the node count')
  const order = prng.shuffle(Array.from({ length: nodeCount }, (_, node) => node))
  const groups: number[][] = []
  let offset = 0
  for (const size of sizes) {
    groups.push(order.slice(offset, offset + size).sort((a, b) => a - b))
    offset += size
  }
  return groups
}

/**
 * Random mutual views that still connect everyone (a random tree plus extra edges), as mDNS
 * answers reach only some peers and the ledger's addresses do the rest.
 */
export function connectedViews (prng: Prng, nodeCount: number, extraPerMille: number): number[][] {
  const views: Array<Set<number>> = Array.from({ length: nodeCount }, () => new Set())
  const link = (a: number, b: number): void => {
    views[a]?.add(b)
    views[b]?.add(a)
  }
  for (let node = 1; node < nodeCount; node++) link(node, prng.intInclusive(0, node - 1))
  for (let a = 0; a < nodeCount; a++) {
    for (let b = a + 1; b < nodeCount; b++) if (prng.chance(extraPerMille, 1_000)) link(a, b)
  }
  return views.map((view) => [...view].sort((a, b) => a - b))
}

/**
 * Random mutual views of bounded degree that still connect everyone: a random tree, then each
 * node links to `dialsPerNode - 1` more random peers, as an overlay that dials a few random peers
 * (the overlay's `targetConnections`) and accepts theirs. The average degree is about twice
 * `dialsPerNode`, whatever the node count, and the cost is linear in it (`connectedViews` is
 * quadratic), so it suits thousands of nodes.
 */
export function boundedViews (prng: Prng, nodeCount: number, dialsPerNode: number): number[][] {
  assert(Number.isSafeInteger(dialsPerNode) && dialsPerNode >= 1, 'each node dials at least one peer')
  const views: Array<Set<number>> = Array.from({ length: nodeCount }, () => new Set())
  const link = (a: number, b: number): void => {
    if (a === b) return
    views[a]?.add(b)
    views[b]?.add(a)
  }
  for (let node = 1; node < nodeCount; node++) link(node, prng.intInclusive(0, node - 1))
  if (nodeCount > 1) {
    for (let node = 0; node < nodeCount; node++) {
      for (let dial = 1; dial < dialsPerNode; dial++) link(node, prng.intInclusive(0, nodeCount - 1))
    }
  }
  return views.map((view) => [...view].sort((a, b) => a - b))
}

/** Views limited to each node's own group: the nodes of a group see only each other. */
export function groupViews (groups: readonly (readonly number[])[], nodeCount: number): number[][] {
  const views: number[][] = Array.from({ length: nodeCount }, () => [])
  for (const group of groups) {
    for (const node of group) views[node] = group.filter((peer) => peer !== node)
  }
  return views
}

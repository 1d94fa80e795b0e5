import { nodeKeyFromSeed } from '@p2p-bootstrap/core'
import type { NodeId, NodeKey, Prng } from '@p2p-bootstrap/core'
import { NodeClock } from './clock.js'
import type { ClusterShape, CoreNode, NodeFacts } from './core-types.js'
import type { CrashOnSendFault, CrashPoint } from './faults.js'
import { MemoryStore } from './store.js'
import type { RecordCodec } from './store.js'

/** A crash waiting for the node's next step with output (or for a message kind, `kind`). */
export interface ArmedCrash {
  readonly kind: string | null
  readonly point: Exclude<CrashPoint, 'idle'>
  readonly loseUnsynced: boolean
  readonly restartAfterMs: number | null
}

/** Everything the simulator keeps about one machine, across the node's crashes and restarts. */
export interface NodeSlot {
  readonly index: number
  /** The machine's current identity: a new one after its state dir is lost (`wipeState`). */
  nodeId: NodeId
  key: NodeKey
  readonly facts: NodeFacts
  store: MemoryStore
  clock: NodeClock
  /** Forks a fresh protocol generator per incarnation, so a restart does not replay old choices. */
  readonly prngSource: Prng
  readonly entropy: (length: number) => Uint8Array
  tickIntervalMs: number
  /** The shape in this machine's config; null takes the scenario's. Edited across restarts (S8). */
  shape: ClusterShape | null
  /** Peers this node can see (mutual); null sees everyone. */
  view: Set<number> | null
  node: CoreNode | null
  /** Bumped on every crash so stale tick events of the old process are ignored. */
  incarnation: number
  started: boolean
  holdsPlan: boolean
  firstPlanMs: number | null
  armedCrashes: ArmedCrash[]
  /** The process's event loop is frozen until then (0: not stalled); a crash ends the stall. */
  stalledUntilMs: number
  /** When the running stall began; null when not stalled. */
  frozenSinceMs: number | null
  /** A discovery reached this node while it was frozen: it is handed over when the node wakes. */
  missedDiscovery: boolean
  /** Sum of the wall-clock steps so far (NTP corrections); the monotonic clock never steps. */
  wallStepMs: number
}

/**
 * Makes the machines of a run: real Ed25519 keys from the seed, sorted by node id so that n0 is the
 * lowest id (the proposer a "lowest live id" rule prefers), then everything else per machine.
 */
export function makeSlots (
  prng: Prng,
  nodeCount: number,
  epochBaseMs: number,
  recordCodec: RecordCodec
): NodeSlot[] {
  const keys = Array.from({ length: nodeCount }, () => nodeKeyFromSeed(prng.bytes(32)))
  keys.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
  return keys.map((key, index) => {
    const entropyPrng = prng.fork()
    return {
      index,
      nodeId: key.nodeId,
      key,
      facts: { labels: {}, nodeIp: `10.0.${Math.floor((index + 1) / 256)}.${(index + 1) % 256}`, hostname: `sim-${index}` },
      store: new MemoryStore(recordCodec),
      clock: new NodeClock(epochBaseMs, { skewMs: 0, driftPpm: 0 }),
      prngSource: prng.fork(),
      entropy: (length: number) => entropyPrng.bytes(length),
      tickIntervalMs: 0,
      shape: null,
      view: null,
      node: null,
      incarnation: 0,
      started: false,
      holdsPlan: false,
      firstPlanMs: null,
      armedCrashes: [],
      stalledUntilMs: 0,
      frozenSinceMs: null,
      missedDiscovery: false,
      wallStepMs: 0
    }
  })
}

/**
 * The machine lost its whole state dir: a new identity from the machine's own generator and an
 * empty disk. The old identity is gone for good (it never comes back).
 */
export function wipeSlot (slot: NodeSlot, recordCodec: RecordCodec): void {
  slot.key = nodeKeyFromSeed(slot.prngSource.fork().bytes(32))
  slot.nodeId = slot.key.nodeId
  slot.store = new MemoryStore(recordCodec)
}

export function armedFromFault (fault: CrashOnSendFault): ArmedCrash {
  return { kind: fault.kind, point: fault.point, loseUnsynced: fault.loseUnsynced, restartAfterMs: fault.restartAfterMs }
}

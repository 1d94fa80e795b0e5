// The strawman: a naive "lowest live id decides" node, written to prove the simulator catches the
// bug class it exists for. Each node, once it has heard from peers for a while, takes the lowest id
// it can hear as the initialiser and commits that plan alone, with no consensus. On a quiet LAN
// everyone hears everyone and agrees; under a partition each side picks its own initialiser (S1).
import type { NodeId } from '@p2p-bootstrap/core'
import type {
  CoreEvent, CoreNode, CoreNodeInit, Envelope, NodeInspection, NodeStatus, PersistRecord, Plan, Ready
} from '../src/index.js'

/** How long a node listens after first hearing a peer before it decides. */
export const STRAWMAN_SETTLE_MS = 1_000
/** How often a node says hello to the peers it discovered. */
export const STRAWMAN_HELLO_INTERVAL_MS = 200
/** A peer not heard from for this long is not "live". */
export const STRAWMAN_LIVE_MS = 1_000

interface PlanRecord extends PersistRecord {
  readonly kind: 'strawman/plan'
  readonly plan: Plan
}

function isPlanRecord (record: PersistRecord): record is PlanRecord {
  return record.kind === 'strawman/plan'
}

function planFor (clusterId: string, init: NodeId): Plan {
  // Only the initialiser shapes the plan, so nodes that agree on it hold byte-identical plans.
  return {
    clusterId,
    epoch: 1,
    init,
    controlPlanes: [init],
    workers: [],
    decidedUnder: { controlPlanes: 1 },
    secrets: {
      serverTokenHash: `server-token-of-${init}`,
      agentTokenHash: `agent-token-of-${init}`,
      serverTokenSealed: {},
      agentTokenSealed: new Uint8Array(0)
    },
    notes: ['strawman: lowest id heard decides']
  }
}

export function strawmanNode (init: CoreNodeInit): CoreNode {
  const self = init.key.nodeId
  const heardMs = new Map<NodeId, number>()
  const discovered = new Set<NodeId>()
  let firstHeardMs: number | null = null
  let lastHelloMs = -Infinity
  let plan: Plan | null = null
  let plans = new Map<number, Plan>()
  let persist: PersistRecord[] = []
  let send: Envelope[] = []
  let events: CoreEvent[] = []

  for (const record of init.restored) {
    if (isPlanRecord(record)) {
      plan = record.plan
      plans = new Map([[1, record.plan]])
    }
  }

  const hear = (peer: NodeId, nowMs: number): void => {
    heardMs.set(peer, nowMs)
    discovered.add(peer)
    firstHeardMs ??= nowMs
  }

  const decide = (nowMs: number): void => {
    if (plan !== null || firstHeardMs === null || nowMs - firstHeardMs < STRAWMAN_SETTLE_MS) return
    let lowest = self
    for (const [peer, atMs] of heardMs) if (nowMs - atMs <= STRAWMAN_LIVE_MS && peer < lowest) lowest = peer
    plan = planFor(init.clusterId, lowest)
    plans = new Map([[1, plan]])
    const record: PlanRecord = { kind: 'strawman/plan', plan }
    persist.push(record)
    events.push({ type: 'plan:committed', plan, record: { epoch: 1, proposer: lowest, voters: [], decidedAtMs: nowMs, controlPlanes: plan.controlPlanes, replaced: [], retired: [], notes: [] } }, { type: 'role', role: lowest === self ? 'control-plane' : 'worker', epoch: 1 })
  }

  const role = (): 'control-plane' | 'worker' | null => (plan === null ? null : plan.init === self ? 'control-plane' : 'worker')

  return {
    nodeId: self,
    tick: (nowMs) => {
      if (nowMs - lastHelloMs >= STRAWMAN_HELLO_INTERVAL_MS) {
        lastHelloMs = nowMs
        for (const peer of discovered) send.push({ from: self, to: peer, message: { kind: 'strawman/hello' } })
      }
      decide(nowMs)
    },
    step: (envelope, nowMs) => hear(envelope.from, nowMs),
    discover: (peer, nowMs) => hear(peer, nowMs),
    leave: () => {},
    ready: (): Ready => ({ persist: { records: persist, sync: persist.length > 0 }, send, events }),
    advance: () => {
      persist = []
      send = []
      events = []
    },
    status: (): NodeStatus => ({
      nodeId: self,
      clusterId: init.clusterId,
      phase: plan === null ? 'discovering' : 'committed',
      waitingFor: plan === null ? 'listening for peers' : '',
      members: [],
      proposer: null,
      ballot: null,
      epoch: plan === null ? 0 : 1,
      plan,
      role: role(),
      history: [],
      leaving: false,
      localHealth: 0
    }),
    inspect: (): NodeInspection => ({ nodeId: self, plans, promised: new Map(), role: role() })
  }
}

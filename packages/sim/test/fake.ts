// A tiny fake node for the harness's own tests: it pings every peer it discovered on each tick,
// persists a record per ping (synced or not, as told), never commits, and logs what it saw (the
// nowMs it was given, what it restored, what it received) so a test can check the harness.
import type { NodeId } from '@p2p-bootstrap/core'
import type { CoreNode, CoreNodeInit, Envelope, NodeFactory, PersistRecord } from '../src/index.js'

export interface FakeLog {
  /** nowMs given at construction, per node, in construction order. */
  readonly initNowMs: Map<NodeId, number[]>
  /** Records handed back at each construction. */
  readonly restored: Map<NodeId, PersistRecord[][]>
  /** Every message received: who from, its ping number, the receiver's nowMs. */
  readonly received: Array<{ readonly from: NodeId, readonly to: NodeId, readonly count: number, readonly nowMs: number }>
  advances: number
}

export function newFakeLog (): FakeLog {
  return { initNowMs: new Map(), restored: new Map(), received: [], advances: 0 }
}

function append<T> (map: Map<NodeId, T[]>, key: NodeId, value: T): void {
  const list = map.get(key) ?? []
  list.push(value)
  map.set(key, list)
}

export function fakeFactory (log: FakeLog, options: { sync: boolean }): NodeFactory {
  return (init: CoreNodeInit): CoreNode => {
    const self = init.key.nodeId
    append(log.initNowMs, self, init.nowMs)
    append(log.restored, self, [...init.restored])
    const peers = new Set<NodeId>()
    // Ping numbers continue from disk, so a ping lost to a crash is never reused.
    let count = init.restored.length
    let persist: PersistRecord[] = []
    let send: Envelope[] = []
    return {
      nodeId: self,
      tick: () => {
        count += 1
        const record = { kind: 'fake/ping-sent', count }
        persist.push(record)
        for (const peer of peers) {
          const message = { kind: 'fake/ping', count }
          send.push({ from: self, to: peer, message })
        }
      },
      step: (envelope, nowMs) => {
        const { count: received } = envelope.message as { count?: unknown }
        log.received.push({ from: envelope.from, to: self, count: typeof received === 'number' ? received : -1, nowMs })
      },
      discover: (peer) => { peers.add(peer) },
      ready: () => ({ persist: { records: persist, sync: options.sync }, send, events: [] }),
      advance: () => {
        log.advances += 1
        persist = []
        send = []
      },
      status: () => ({ nodeId: self, clusterId: init.clusterId, phase: 'discovering', waitingFor: 'nothing', members: [], proposer: null, ballot: null, epoch: 0, plan: null, role: null, history: [], leaving: false, localHealth: 0 }),
      leave: () => {},
      inspect: () => ({ nodeId: self, plans: new Map(), promised: new Map(), role: null })
    }
  }
}

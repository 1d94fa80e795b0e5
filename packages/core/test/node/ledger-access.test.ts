// Goal: what an agent reads and writes through a node besides the driving verbs. `publish` writes
// a signed `node/<self>/<name>` entry that reaches a peer, where a `node:entry` event names it and
// `lookup` returns it; `factsOf` returns a member's published facts (with its listen addresses);
// `facts` cannot be overwritten by `publish`; `ledgerRecords` restores an equal ledger. Method: two
// real nodes exchanging messages through a loop that delivers every envelope at once.
import { describe, expect, it } from 'vitest'
import { createCoreNode, deriveKeys, generateToken, nodeKeyFromSeed, Prng, testProfile } from '../../src/index.js'
import type { CoreEvent, CoreNodeMachine, NodeFacts, PersistRecord } from '../../src/index.js'

const keys = deriveKeys(generateToken({ expect: 2, controlPlanes: 1 }))

function makeNode (seed: number, facts: NodeFacts, restored: readonly PersistRecord[] = []): CoreNodeMachine {
  const prng = new Prng(seed)
  return createCoreNode({
    key: nodeKeyFromSeed(new Prng(seed * 7919).bytes(32)),
    clusterId: keys.clusterId,
    sealingKey: keys.sealingKey,
    shape: { expect: 2, controlPlanes: 1 },
    facts,
    profile: testProfile(),
    prng,
    entropy: (length) => prng.bytes(length),
    restored,
    nowMs: 1_000
  })
}

/** Delivers every message at once until the nodes fall quiet; returns each node's events and records. */
function settle (nodes: readonly CoreNodeMachine[], nowMs: number): { events: Map<string, CoreEvent[]>, records: Map<string, PersistRecord[]> } {
  const events = new Map<string, CoreEvent[]>(nodes.map(node => [node.nodeId, []]))
  const records = new Map<string, PersistRecord[]>(nodes.map(node => [node.nodeId, []]))
  const byId = new Map(nodes.map(node => [node.nodeId, node]))
  for (let round = 0; round < 100; round++) {
    let sent = 0
    for (const node of nodes) {
      const ready = node.ready()
      records.get(node.nodeId)?.push(...ready.persist.records)
      events.get(node.nodeId)?.push(...ready.events)
      node.advance(ready)
      for (const envelope of ready.send) {
        sent += 1
        byId.get(envelope.to)?.step(envelope, nowMs)
      }
    }
    if (sent === 0) break
  }
  return { events, records }
}

describe('node ledger access', () => {
  it('publishes an entry that a peer sees, with an event naming it', () => {
    const a = makeNode(1, { labels: {}, addresses: ['/ip4/10.0.0.1/tcp/4001'] })
    const b = makeNode(2, { labels: { zone: 'b' } })
    a.discover(b.nodeId, 1_000)
    b.discover(a.nodeId, 1_000)
    settle([a, b], 1_000)
    a.publish('status', Uint8Array.of(7, 7), 1_100)
    const { events } = settle([a, b], 1_100)
    expect(b.lookup(`node/${a.nodeId}/status`)).toEqual(Uint8Array.of(7, 7))
    expect(events.get(b.nodeId)).toContainEqual({ type: 'node:entry', nodeId: a.nodeId, name: 'status' })
    expect(b.factsOf(a.nodeId)?.addresses).toEqual(['/ip4/10.0.0.1/tcp/4001'])
    expect(a.factsOf(b.nodeId)?.labels).toEqual({ zone: 'b' })
    expect(a.factsOf('12D3KooWNotAMemberAtAll')).toBeNull()
  })

  it('refuses to publish over the facts', () => {
    const a = makeNode(3, { labels: {} })
    expect(() => { a.publish('facts', Uint8Array.of(1), 2_000) }).toThrow(/facts/)
  })

  it('ledger records restore an equal ledger', () => {
    const a = makeNode(4, { labels: {}, hostname: 'a' })
    a.publish('status', Uint8Array.of(1), 1_200)
    a.publish('status', Uint8Array.of(2), 1_300) // supersedes: one record per held entry
    const records = a.ledgerRecords()
    expect(records.every(record => record.kind === 'ledger/entry')).toBe(true)
    const restarted = makeNode(4, { labels: {}, hostname: 'a' }, records)
    expect(restarted.lookup(`node/${a.nodeId}/status`)).toEqual(Uint8Array.of(2))
    expect(restarted.ledgerRecords()).toEqual(records)
    expect(restarted.ledgerSize()).toBe(records.length)
  })
})

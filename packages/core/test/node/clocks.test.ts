// Goal: the node runs on two clocks (issue 15): timers on the monotonic `nowMs`, ledger stamps on
// the wall clock. A wall clock stepped back or ahead moves only the HLC, which never goes back; a
// caller that hands in a monotonic time below one already given (a bug) gets no throw.
// Method: one real node; its own entries are read back from `ledgerRecords()`.
import { describe, expect, it } from 'vitest'
import { lanProfile, nodeKeyFromSeed, Prng } from '../../src/index.js'
import type { CoreNodeMachine } from '../../src/index.js'
import { decodeEntry } from '../../src/ledger/codec.js'
import type { Stamp } from '../../src/ledger/hlc.js'
import { compareStamps } from '../../src/ledger/hlc.js'
import type { MembershipMessage } from '../../src/membership/messages.js'
import { testNode } from './fixture.js'

const WALL_MS = 1_800_000_000_000

function makeNode (): CoreNodeMachine {
  return testNode({ key: nodeKeyFromSeed(new Prng(11).bytes(32)), prng: new Prng(5), profile: lanProfile(), nowMs: 1_000, wallMs: WALL_MS })
}

function stampOf (node: CoreNodeMachine, name: string): Stamp | undefined {
  for (const record of node.ledgerRecords()) {
    const entry = decodeEntry((record as unknown as { entry: Uint8Array }).entry)
    if (entry.key === `node/${node.nodeId}/${name}`) return entry.stamp
  }
  return undefined
}

describe('the node on two clocks', () => {
  it('stamps entries with the wall clock, not the monotonic one', () => {
    const node = makeNode()
    node.publish('a', Uint8Array.of(1), 2_000, WALL_MS + 1_000)
    expect(stampOf(node, 'a')?.wallMs).toBe(WALL_MS + 1_000)
    expect(stampOf(node, 'facts')?.wallMs).toBe(WALL_MS)
  })

  it('keeps its HLC growing when the wall clock steps back 10 minutes, and takes a step ahead of an hour', () => {
    const node = makeNode()
    node.publish('before', Uint8Array.of(1), 2_000, WALL_MS + 1_000)
    expect(() => { node.tick(3_000, WALL_MS + 1_000 - 600_000) }).not.toThrow()
    node.publish('after-back', Uint8Array.of(2), 3_000, WALL_MS + 1_000 - 600_000)
    const before = stampOf(node, 'before')
    const afterBack = stampOf(node, 'after-back')
    expect(before).toBeDefined()
    expect(afterBack).toBeDefined()
    if (before === undefined || afterBack === undefined) return
    expect(compareStamps(afterBack, before)).toBe(1)
    node.publish('after-ahead', Uint8Array.of(3), 4_000, WALL_MS + 3_600_000)
    expect(stampOf(node, 'after-ahead')?.wallMs).toBe(WALL_MS + 3_600_000)
  })

  it('reads a monotonic time below one already given as no time passing, without throwing', () => {
    const node = makeNode()
    node.tick(10_000, WALL_MS)
    expect(() => {
      node.tick(5_000, WALL_MS)
      const ping: MembershipMessage = { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [] }
      node.step({ from: 'someone', to: node.nodeId, message: ping }, 4_000, WALL_MS)
      node.discover('another', 3_000, WALL_MS)
      node.resumed(1_000, 2_000)
      node.tick(10_001, WALL_MS)
    }).not.toThrow()
  })
})

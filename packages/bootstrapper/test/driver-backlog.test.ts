// Goal: peer messages waiting for a node are bounded, all peers together and per peer, so a flood
// arriving while a persist is in flight cannot grow memory at network speed, and one peer's flood
// leaves room for the others. Method: a real core node behind a NodeDriver whose persist is held
// open by the test; thousands of messages from one peer and a few from others arrive meanwhile;
// then the persist completes, everything accepted is applied, and new messages are taken again.
import { Prng, createCoreNode, deriveKeys, generateToken, nodeKeyFromSeed, testProfile } from '@p2p-bootstrap/core'
import type { CoreMessage, Envelope, PersistBatch } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { NodeDriver } from '../src/driver.js'

const keys = deriveKeys(generateToken({ expect: 3, controlPlanes: 1 }))
const self = nodeKeyFromSeed(new Prng(41).bytes(32))
const flooder = nodeKeyFromSeed(new Prng(42).bytes(32)).nodeId
const others = [43, 44, 45].map(seed => nodeKeyFromSeed(new Prng(seed).bytes(32)).nodeId)
const LIMITS = { stepsWaitingMax: 64, stepsWaitingPerPeerMax: 16 }

function ping (from: string, seq: number): Envelope {
  const message: CoreMessage = { kind: 'swim/ping', seq, incarnation: 0, gossip: [] }
  return { from, to: self.nodeId, message }
}

describe('the driver under a flood', () => {
  it('keeps at most its bounds of peer messages waiting, per peer and in all, while a persist is in flight', async () => {
    const prng = new Prng(4)
    const node = createCoreNode({
      key: self, clusterId: keys.clusterId, sealingKey: keys.sealingKey, shape: { expect: 3, controlPlanes: 1 },
      facts: { labels: {} }, profile: testProfile(), prng, entropy: (length) => prng.bytes(length), restored: [], nowMs: 1_000
    })
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const persisted: PersistBatch[] = []
    const driver = new NodeDriver(node, {
      persist: async (batch) => { persisted.push(batch); await held },
      send: () => {},
      events: () => {},
      fatal: (err) => { throw err },
      clock: { monotonicMs: () => 1_000, wallMs: () => 1_000 }
    }, 60_000, LIMITS)
    driver.start()
    // The first round (construction's boot record) is now waiting on the held persist.
    await new Promise<void>((resolve) => { queueMicrotask(resolve) })
    expect(persisted.length).toBe(1)

    const fromFlooder = Array.from({ length: 5_000 }, (_, seq) => driver.step(ping(flooder, seq + 1))).filter(Boolean).length
    expect(fromFlooder).toBe(LIMITS.stepsWaitingPerPeerMax)
    const fromOthers = others.map(peer => Array.from({ length: 10 }, (_, seq) => driver.step(ping(peer, seq + 1))).filter(Boolean).length)
    expect(fromOthers).toEqual([10, 10, 10])
    // The global bound: more peers, more messages, never more than stepsWaitingMax in all.
    const extra = Array.from({ length: 100 }, (_, index) => driver.step(ping(nodeKeyFromSeed(new Prng(100 + index).bytes(32)).nodeId, 1))).filter(Boolean).length
    expect(fromFlooder + 30 + extra).toBe(LIMITS.stepsWaitingMax)
    expect(driver.stepsDropped).toBe(5_000 - fromFlooder + 100 - extra)

    release()
    await driver.settled()
    // Everything taken was applied: the flooder has room again.
    expect(driver.step(ping(flooder, 9_999))).toBe(true)
    driver.stop()
  })
})

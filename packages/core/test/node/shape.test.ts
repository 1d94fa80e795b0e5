// Goal: a node built with a shape no token could carry is refused at construction with a typed
// error naming the field and the allowed range, instead of failing an assertion on its first tick
// (expect beyond EXPECT_MAX makes a bootstrap quorum larger than any certificate may carry).
import { describe, expect, it } from 'vitest'
import { createCoreNode, deriveKeys, EXPECT_MAX, generateToken, nodeKeyFromSeed, P2pBootstrapError, Prng, testProfile } from '../../src/index.js'
import type { ClusterShape } from '../../src/index.js'

const keys = deriveKeys(generateToken({ expect: 3, controlPlanes: 3 }))

function build (shape: ClusterShape): void {
  const prng = new Prng(1)
  createCoreNode({
    key: nodeKeyFromSeed(new Prng(7).bytes(32)),
    clusterId: keys.clusterId,
    sealingKey: keys.sealingKey,
    shape,
    facts: { labels: {} },
    profile: testProfile(),
    prng,
    entropy: (length) => prng.bytes(length),
    restored: [],
    nowMs: 0
  })
}

function refusal (shape: ClusterShape): P2pBootstrapError | null {
  try {
    build(shape)
    return null
  } catch (err) {
    if (err instanceof P2pBootstrapError) return err
    throw err
  }
}

describe('node shape', () => {
  it('accepts the largest expect a token carries, and a shape without expect', () => {
    expect(refusal({ expect: EXPECT_MAX, controlPlanes: 5 })).toBeNull()
    expect(refusal({ controlPlanes: 1 })).toBeNull()
  })

  it.each([
    [{ expect: EXPECT_MAX + 1, controlPlanes: 3 }, /shape\.expect 1001 .*1 to 1000/],
    [{ expect: 0, controlPlanes: 3 }, /shape\.expect 0 /],
    [{ expect: 2.5, controlPlanes: 3 }, /shape\.expect 2\.5 /],
    [{ expect: 5, controlPlanes: 2 }, /shape\.controlPlanes 2 .*1, 3, 5, 7/]
  ])('refuses %j with NODE_BAD_SHAPE', (shape, message) => {
    const err = refusal(shape)
    expect(err?.code).toBe('NODE_BAD_SHAPE')
    expect(err?.message).toMatch(message)
  })
})

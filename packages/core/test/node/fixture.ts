// One real core node for the node tests, built the way the driver builds it, so that each test
// states only what it is about (whose key, which clock, what it restores) and not the wiring.
import { createCoreNode, deriveKeys, generateToken, testProfile } from '../../src/index.js'
import type { CoreNodeInit, CoreNodeMachine, Prng } from '../../src/index.js'

/** The cluster the test nodes belong to: three nodes expected, one control plane. */
export const keys = deriveKeys(generateToken({ expect: 3, controlPlanes: 1 }))

export interface TestNodeInit {
  readonly key: CoreNodeInit['key']
  /** Seeded; it also stands in for the entropy source, so that a run repeats. */
  readonly prng: Prng
  readonly nowMs: number
  /** Records from a previous run (none by default). */
  readonly restored?: CoreNodeInit['restored']
  /** The test profile by default. */
  readonly profile?: CoreNodeInit['profile']
  readonly wallMs?: number
  readonly verify?: CoreNodeInit['verify']
}

/** A node of `keys`' cluster, with no labels. */
export function testNode (init: TestNodeInit): CoreNodeMachine {
  const { prng } = init
  return createCoreNode({
    key: init.key,
    clusterId: keys.clusterId,
    sealingKey: keys.sealingKey,
    shape: { expect: 3, controlPlanes: 1 },
    facts: { labels: {} },
    profile: init.profile ?? testProfile(),
    prng,
    entropy: (length) => prng.bytes(length),
    restored: init.restored ?? [],
    nowMs: init.nowMs,
    ...(init.wallMs === undefined ? {} : { wallMs: init.wallMs }),
    ...(init.verify === undefined ? {} : { verify: init.verify })
  })
}

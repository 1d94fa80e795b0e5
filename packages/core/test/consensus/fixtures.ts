// Shared test fixtures for the consensus tests: a few node keys (signing memoised, since Ed25519
// signatures are deterministic), one verification cache, and a toy plan codec standing in for
// the planner's, so thousands of seeded runs stay within seconds.
import { bytesToHex } from '@noble/hashes/utils.js'
import { z } from 'zod'
import { decodeStrict, encodeCanonical } from '../../src/codec.js'
import { nodeKeyFromSeed } from '../../src/identity.js'
import type { NodeId, NodeKey } from '../../src/identity.js'
import { Prng } from '../../src/prng.js'
import { simProfile } from '../../src/profiles.js'
import type { TimingProfile } from '../../src/profiles.js'
import { cachedSignatureVerifier } from '../../src/consensus/statement.js'
import type { PlanSummary } from '../../src/consensus/decision.js'

export const CLUSTER_ID = 'cluster-test-1'

function memoisedKey (key: NodeKey): NodeKey {
  const signatures = new Map<string, Uint8Array>()
  return {
    ...key,
    sign: (message) => {
      const cacheKey = bytesToHex(message)
      const known = signatures.get(cacheKey)
      if (known !== undefined) return known
      const signature = key.sign(message)
      signatures.set(cacheKey, signature)
      return signature
    }
  }
}

/** Nine keys sorted by node id, so KEYS[0] is the lowest id (the preferred proposer). */
export const KEYS: readonly NodeKey[] = Array.from({ length: 9 }, (_, i) => memoisedKey(nodeKeyFromSeed(new Prng(1000 + i).bytes(32))))
  .sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))

export const IDS: readonly NodeId[] = KEYS.map((key) => key.nodeId)

export function keyAt (index: number): NodeKey {
  const key = KEYS[index]
  if (key === undefined) throw new Error(`no test key ${index}`)
  return key
}

export function idAt (index: number): NodeId {
  return keyAt(index).nodeId
}

export const verify = cachedSignatureVerifier(200_000)

/** Fast timings: the harness runs in simulated milliseconds. */
export const PROFILE: TimingProfile = { ...simProfile(), ballotTimeoutMs: 60, proposerBackoffMsMax: 40 }

const planSchema = z.strictObject({
  epoch: z.int(),
  clusterId: z.string(),
  init: z.string(),
  controlPlanes: z.array(z.string()).max(16),
  decidedUnder: z.strictObject({ expect: z.int().optional(), controlPlanes: z.int() }),
  members: z.array(z.string()).max(16).optional()
})

/** A toy plan: just what the decision validator reads. */
export function encodeToyPlan (plan: PlanSummary): Uint8Array {
  const { expect, controlPlanes } = plan.decidedUnder
  const decidedUnder = expect === undefined ? { controlPlanes } : { expect, controlPlanes }
  return encodeCanonical({
    epoch: plan.epoch,
    clusterId: plan.clusterId,
    init: plan.init,
    controlPlanes: [...plan.controlPlanes],
    decidedUnder,
    ...(plan.members !== undefined && { members: [...plan.members] })
  })
}

export function decodeToyPlan (bytes: Uint8Array): PlanSummary {
  return decodeStrict(bytes, planSchema, { maxBytes: 4096, what: 'toy plan' })
}

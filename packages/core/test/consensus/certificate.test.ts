// Goal: a certificate is believed only when it proves a quorum under the epoch's rule, and the
// ledger's validator keeps the initialiser fixed (S1, S2, S5). Method: build one valid certificate
// from real signed votes, then tamper with it one way per row and check the rejection reason; the
// validator is driven through a toy plan codec and an in-memory ledger lookup.
import { describe, expect, it } from 'vitest'
import { certificateFromVotes, verifyCertificate } from '../../src/consensus/certificate.js'
import type { Certificate } from '../../src/consensus/certificate.js'
import { decisionKey, decisionValidator, encodeDecision } from '../../src/consensus/decision.js'
import type { Decision } from '../../src/consensus/decision.js'
import { quorumRuleFor } from '../../src/consensus/quorum.js'
import type { QuorumRule } from '../../src/consensus/quorum.js'
import { cachedSignatureVerifier, valueHashOf } from '../../src/consensus/statement.js'
import { makeVote } from '../../src/consensus/vote.js'
import type { Ballot } from '../../src/consensus/ballot.js'
import type { NodeId } from '../../src/identity.js'
import { CLUSTER_ID, decodeToyPlan, encodeToyPlan, idAt, keyAt, verify } from './fixtures.js'

const shape = { expect: 5, controlPlanes: 3 }
const ballot: Ballot = { round: 2, proposer: idAt(0) }

function certify (epoch: number, value: Uint8Array, voters: number[], rule: QuorumRule, clusterId = CLUSTER_ID, at = ballot): Certificate {
  const votes = voters.map((i) => makeVote(keyAt(i), clusterId, epoch, at, valueHashOf(value)).vote)
  const certificate = certificateFromVotes(votes, rule, clusterId, { verify })
  if (certificate === null) throw new Error('test setup: no quorum')
  return certificate
}

const plan1 = encodeToyPlan({ epoch: 1, clusterId: CLUSTER_ID, init: idAt(0), controlPlanes: [idAt(0), idAt(1), idAt(2)], decidedUnder: shape })
const rule1 = quorumRuleFor(1, shape)
const valid = certify(1, plan1, [0, 1, 2, 3], rule1)

describe('verifyCertificate', () => {
  it('accepts a certificate built from a quorum of votes, carrying exactly the quorum', () => {
    expect(valid.votes.map((v) => v.voter)).toEqual([idAt(0), idAt(1), idAt(2)])
    expect(verifyCertificate(valid, plan1, rule1, CLUSTER_ID, verify)).toEqual({ ok: true })
  })

  const forged = new Uint8Array(valid.votes[1]?.signature ?? new Uint8Array(64))
  forged[0] = (forged[0] ?? 0) ^ 1
  const vote = (i: number): { voter: NodeId, signature: Uint8Array } => valid.votes[i] ?? { voter: '', signature: new Uint8Array(64) }
  const rule2: QuorumRule = quorumRuleFor(2, shape, { controlPlanes: [idAt(0), idAt(1), idAt(2)] })
  const epoch2 = certify(2, plan1, [0, 1], rule2)
  const outsider = makeVote(keyAt(4), CLUSTER_ID, 2, ballot, valueHashOf(plan1)).vote

  it.each<[string, Certificate, Uint8Array, QuorumRule, string, string]>([
    ['a missing vote', { ...valid, votes: valid.votes.slice(0, 2) }, plan1, rule1, CLUSTER_ID, 'carries 2 votes, below its quorum of 3'],
    ['a forged signature', { ...valid, votes: [vote(0), { voter: vote(1).voter, signature: forged }, vote(2)] }, plan1, rule1, CLUSTER_ID, 'bad signature'],
    ['a wrong value hash', { ...valid, valueHash: valueHashOf(Uint8Array.of(9)) }, plan1, rule1, CLUSTER_ID, 'another value hash'],
    ['another value', valid, Uint8Array.of(9), rule1, CLUSTER_ID, 'another value hash'],
    ['a duplicate voter', { ...valid, votes: [vote(0), vote(0), vote(1)] }, plan1, rule1, CLUSTER_ID, 'duplicate voter'],
    ['unsorted votes', { ...valid, votes: [vote(1), vote(0), vote(2)] }, plan1, rule1, CLUSTER_ID, 'not sorted'],
    ['an ineligible voter in epoch 2', { ...epoch2, votes: [vote(0), outsider].sort((a, b) => (a.voter < b.voter ? -1 : 1)) }, plan1, rule2, CLUSTER_ID, 'may not vote in epoch 2'],
    ['a quorum too small for expect', { ...valid, quorum: 2, votes: valid.votes.slice(0, 2) }, plan1, rule1, CLUSTER_ID, 'states a quorum of 2 but epoch 1 needs 3'],
    ['another cluster id', valid, plan1, rule1, 'cluster-other', 'bad signature'],
    ['another ballot', { ...valid, ballot: { round: 3, proposer: idAt(0) } }, plan1, rule1, CLUSTER_ID, 'bad signature'],
    ['a best-effort certificate where expect applies', { ...valid, mode: 'best-effort' }, plan1, rule1, CLUSTER_ID, 'best-effort mode']
  ])('rejects %s', (_name, certificate, value, rule, clusterId, reason) => {
    const check = verifyCertificate(certificate, value, rule, clusterId, verify)
    expect(check.ok).toBe(false)
    expect(check.ok ? '' : check.reason).toContain(reason)
  })

  it('checks a best-effort certificate against a majority of the members its plan names, whatever quorum it states', () => {
    const members = [idAt(0), idAt(1), idAt(2), idAt(3), idAt(4)]
    const rule = quorumRuleFor(1, { controlPlanes: 1 }, undefined, members)
    const certificate = certify(1, plan1, [1, 2, 4], rule)
    expect(verifyCertificate(certificate, plan1, rule, CLUSTER_ID, verify)).toEqual({ ok: true })
    // Issue 15 finding 5: a certificate built by a node that saw 3 of the 5 (a quorum of 2) is not a proof here.
    const smallView = certify(1, plan1, [1, 2], quorumRuleFor(1, { controlPlanes: 1 }, undefined, [idAt(0), idAt(1), idAt(2)]))
    const check = verifyCertificate(smallView, plan1, rule, CLUSTER_ID, verify)
    expect(check.ok ? '' : check.reason).toContain('states a quorum of 2 but epoch 1 needs 3 (a majority of the 5 members its plan names)')
  })

  it('builds no certificate from votes split across ballots or values', () => {
    const a = makeVote(keyAt(0), CLUSTER_ID, 1, ballot, valueHashOf(plan1)).vote
    const b = makeVote(keyAt(1), CLUSTER_ID, 1, { round: 3, proposer: idAt(0) }, valueHashOf(plan1)).vote
    const c = makeVote(keyAt(2), CLUSTER_ID, 1, ballot, valueHashOf(Uint8Array.of(7))).vote
    const forgedVote = { ...makeVote(keyAt(3), CLUSTER_ID, 1, ballot, valueHashOf(plan1)).vote, voter: idAt(4) }
    expect(certificateFromVotes([a, b, c, forgedVote, a], rule1, CLUSTER_ID, { verify })).toBeNull()
  })
})

describe('decisionValidator', () => {
  const validator = decisionValidator({ clusterId: CLUSTER_ID, decodePlanSummary: decodeToyPlan, verify })
  const decision1: Decision = { epoch: 1, value: plan1, certificate: valid }
  const rule2 = quorumRuleFor(2, shape, { controlPlanes: [idAt(0), idAt(1), idAt(2)] })
  const plan2 = encodeToyPlan({ epoch: 2, clusterId: CLUSTER_ID, init: idAt(0), controlPlanes: [idAt(0), idAt(1), idAt(3)], decidedUnder: shape })
  const decision2: Decision = { epoch: 2, value: plan2, certificate: certify(2, plan2, [1, 2], rule2) }
  const ledger = new Map([[decisionKey(1), encodeDecision(decision1)]])
  const lookup = (key: string): Uint8Array | undefined => ledger.get(key)
  const empty = (): undefined => undefined

  it('accepts a certified epoch 1 and, once plan/1 is known, a certified epoch 2', () => {
    expect(validator('plan/1', encodeDecision(decision1), empty)).toBe('valid')
    expect(validator('plan/2', encodeDecision(decision2), empty)).toBe('defer')
    expect(validator('plan/2', encodeDecision(decision2), lookup)).toBe('valid')
  })

  const newInit = encodeToyPlan({ epoch: 2, clusterId: CLUSTER_ID, init: idAt(1), controlPlanes: [idAt(1), idAt(2)], decidedUnder: shape })
  const otherCluster = encodeToyPlan({ epoch: 1, clusterId: 'cluster-other', init: idAt(0), controlPlanes: [idAt(0)], decidedUnder: shape })
  const badVoters = certify(2, plan2, [3, 4], quorumRuleFor(2, shape, { controlPlanes: [idAt(3), idAt(4)] }))
  it.each<[string, string, Uint8Array, string]>([
    ['a key that is no plan key', 'plan/x', encodeDecision(decision1), 'not a plan key'],
    ['a decision under another epoch key', 'plan/2', encodeDecision(decision1), 'epoch 1, the key for epoch 2'],
    ['bytes that are no decision', 'plan/1', Uint8Array.of(1, 2, 3), 'plan decision'],
    ['a value that is no plan', 'plan/1', encodeDecision({ ...decision1, value: Uint8Array.of(1), certificate: certify(1, Uint8Array.of(1), [0, 1, 2], rule1) }), 'not a plan'],
    ['a plan of another cluster', 'plan/1', encodeDecision({ epoch: 1, value: otherCluster, certificate: certify(1, otherCluster, [0, 1, 2], rule1) }), 'belongs to cluster cluster-other'],
    ['a new initialiser (S1)', 'plan/2', encodeDecision({ epoch: 2, value: newInit, certificate: certify(2, newInit, [1, 2], rule2) }), '(S1)'],
    ['votes from nodes that are not control planes of plan/1', 'plan/2', encodeDecision({ ...decision2, certificate: badVoters }), 'may not vote'],
    ['a certificate missing a vote', 'plan/1', encodeDecision({ ...decision1, certificate: { ...valid, votes: valid.votes.slice(0, 2) } }), 'below its quorum']
  ])('rejects %s', (_name, key, bytes, reason) => {
    const verdict = validator(key, bytes, lookup)
    expect(typeof verdict === 'object' ? verdict.invalid : verdict).toContain(reason)
  })
})

describe('cachedSignatureVerifier', () => {
  it('never lets a remembered signature vouch for another message, and remembers each answer', () => {
    const key = keyAt(0)
    const message = Uint8Array.of(1, 2, 3)
    const other = Uint8Array.of(1, 2, 4)
    const signature = key.sign(message)
    let checks = 0
    const counting = (nodeId: NodeId, bytes: Uint8Array, sig: Uint8Array): boolean => {
      checks++
      return verify(nodeId, bytes, sig)
    }
    const cached = cachedSignatureVerifier(4, counting)
    expect(cached(key.nodeId, message, signature)).toBe(true)
    expect(cached(key.nodeId, message, signature)).toBe(true)
    expect(checks).toBe(1)
    // Same signer and signature, other content: checked afresh, and refused.
    expect(cached(key.nodeId, other, signature)).toBe(false)
    expect(checks).toBe(2)
    expect(cached(idAt(1), message, signature)).toBe(false)
    // The caller's buffer is copied: changing it afterwards does not change what was remembered.
    const mutable = Uint8Array.of(1, 2, 3)
    const fresh = cachedSignatureVerifier(4, counting)
    expect(fresh(key.nodeId, mutable, signature)).toBe(true)
    mutable[2] = 4
    expect(fresh(key.nodeId, mutable, signature)).toBe(false)
  })

  it('forgets the oldest answer beyond its capacity', () => {
    let checks = 0
    const counting = (nodeId: NodeId, bytes: Uint8Array, sig: Uint8Array): boolean => {
      checks++
      return verify(nodeId, bytes, sig)
    }
    const cached = cachedSignatureVerifier(2, counting)
    const messages = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)]
    const signatures = messages.map((message) => keyAt(0).sign(message))
    messages.forEach((message, index) => { expect(cached(idAt(0), message, signatures[index] ?? new Uint8Array())).toBe(true) })
    expect(checks).toBe(3)
    expect(cached(idAt(0), messages[2] ?? new Uint8Array(), signatures[2] ?? new Uint8Array())).toBe(true)
    expect(checks).toBe(3)
    expect(cached(idAt(0), messages[0] ?? new Uint8Array(), signatures[0] ?? new Uint8Array())).toBe(true)
    expect(checks).toBe(4)
  })
})

// Goal: single-decree Paxos keeps agreement (S2) and every decision carries a valid certificate
// (S5) under loss, duplication, reordering, duelling proposers and crashes, and acceptors finish a
// commit from their votes when the proposer dies between accept and commit. Method: an in-test
// harness runs one epoch's ConsensusInstance per node (3–7 nodes) over a seeded network in
// simulated milliseconds; each seed draws loss, duplication, proposers, start times and crashes.
// Persist records are kept per node and a restart rebuilds the instance from them (S6); votes and
// decisions go to a shared ledger stand-in that the nodes read back at random moments. After every
// output the harness checks certificates and that no second value is ever decided or chosen.
import { describe, expect, it } from 'vitest'
import { bytesToHex } from '@noble/hashes/utils.js'
import { Prng } from '../../src/prng.js'
import type { NodeId, NodeKey } from '../../src/identity.js'
import type { Envelope } from '../../src/node/contract.js'
import { restoreAcceptors } from '../../src/consensus/acceptor.js'
import type { AcceptorRecord } from '../../src/consensus/acceptor.js'
import { verifyCertificate } from '../../src/consensus/certificate.js'
import { decisionKey, decisionValidator, decodeDecision, encodeDecision } from '../../src/consensus/decision.js'
import type { Decision } from '../../src/consensus/decision.js'
import { ConsensusInstance } from '../../src/consensus/instance.js'
import type { ConsensusOutput } from '../../src/consensus/instance.js'
import type { ConsensusMessage } from '../../src/consensus/messages.js'
import { quorumRuleFor } from '../../src/consensus/quorum.js'
import type { QuorumRule } from '../../src/consensus/quorum.js'
import type { VoteRecord } from '../../src/consensus/vote.js'
import { CLUSTER_ID, KEYS, PROFILE, decodeToyPlan, encodeToyPlan, verify } from './fixtures.js'

/** The cluster shape every proposer and acceptor of these tests holds. */
const SHAPE = { expect: 3, controlPlanes: 1 }

const STEP_MS = 5
const RUN_MS_MAX = 3_000
const LATENCY_MS_MAX = 15
const SEEDS = 1_000

interface Scenario {
  readonly nodeCount: number
  readonly lossPercent: number
  readonly duplicatePercent: number
  readonly proposers: ReadonlyArray<{ readonly index: number, readonly startMs: number }>
  /** A proposer that crashes at `atMs` (or right after sending its accepts) and maybe restarts. */
  readonly crash: { readonly index: number, readonly atMs: number | 'after-accept', readonly restartMs: number | null } | null
}

interface SimNode {
  readonly key: NodeKey
  instance: ConsensusInstance | null
  records: AcceptorRecord[]
  proposing: boolean
}

interface RunResult {
  readonly decided: boolean
  /** Live nodes that hold the decision at the end. */
  readonly holders: number
  readonly decisionsBuilt: number
  readonly completions: number
}

function drawScenario (prng: Prng): Scenario {
  const nodeCount = prng.intInclusive(3, 7)
  const indices = prng.shuffle(Array.from({ length: nodeCount }, (_, i) => i))
  const proposerCount = prng.intInclusive(1, Math.min(3, nodeCount))
  const proposers = indices.slice(0, proposerCount).map((index) => ({ index, startMs: prng.intInclusive(0, 100) }))
  const crashed = proposers[0]
  const crash = crashed !== undefined && prng.chance(1, 2)
    ? { index: crashed.index, atMs: prng.chance(1, 2) ? 'after-accept' as const : prng.intInclusive(0, 300), restartMs: prng.chance(1, 2) ? prng.intInclusive(300, 1_000) : null }
    : null
  return { nodeCount, lossPercent: prng.intInclusive(0, 30), duplicatePercent: prng.intInclusive(0, 20), proposers, crash }
}

function runSeed (seed: number, scenario: Scenario): RunResult {
  const prng = new Prng(seed)
  const nodes: SimNode[] = KEYS.slice(0, scenario.nodeCount).map((key) => ({ key, instance: null, records: [], proposing: false }))
  const ids = nodes.map((node) => node.key.nodeId)
  const shape = { expect: scenario.nodeCount, controlPlanes: 1 }
  const rule: QuorumRule = quorumRuleFor(1, shape)
  const validator = decisionValidator({ clusterId: CLUSTER_ID, decodePlanSummary: decodeToyPlan, verify })
  const ledgerVotes = new Map<string, VoteRecord>()
  let ledgerPlan: Uint8Array | null = null
  let decidedHash: string | null = null
  let decisionsBuilt = 0
  let completions = 0
  let inFlight: Array<{ deliverAtMs: number, envelope: Envelope<ConsensusMessage> }> = []

  const boot = (node: SimNode): void => {
    const restored = restoreAcceptors(node.records).get(1)
    node.instance = new ConsensusInstance({ key: node.key, clusterId: CLUSTER_ID, epoch: 1, profile: PROFILE, prng: prng.fork(), verify, shape: SHAPE, ...(restored === undefined ? {} : { restored }) })
    node.proposing = false
    if (ledgerPlan !== null) node.instance.learn(decodeDecision(ledgerPlan))
  }
  nodes.forEach(boot)

  // S2: every decision anyone holds is for one value.
  const checkAgreement = (decision: Decision): void => {
    const hash = bytesToHex(decision.certificate.valueHash)
    decidedHash ??= hash
    expect(hash, `seed ${seed}: a second value was decided`).toBe(decidedHash)
  }

  const handle = (node: SimNode, out: ConsensusOutput, nowMs: number): void => {
    // S6: records are "on disk" (in node.records) before any message of the same output leaves.
    node.records.push(...out.persist)
    for (const write of out.votes) {
      const earlier = ledgerVotes.get(write.key)
      expect(earlier === undefined || bytesToHex(earlier.signature) === bytesToHex(write.vote.signature), `seed ${seed}: a voter equivocated`).toBe(true)
      ledgerVotes.set(write.key, write.vote)
    }
    if (out.decision !== null) {
      decisionsBuilt++
      expect(verifyCertificate(out.decision.certificate, out.decision.value, rule, CLUSTER_ID, verify), `seed ${seed}`).toEqual({ ok: true })
      checkAgreement(out.decision)
      const bytes = encodeDecision(out.decision)
      expect(validator(decisionKey(1), bytes, () => undefined)).toBe('valid')
      ledgerPlan ??= bytes
    }
    if (out.claimedDecision !== null && node.instance !== null) {
      expect(validator(decisionKey(1), out.claimedDecision, () => undefined)).toBe('valid')
      const claimed = decodeDecision(out.claimedDecision)
      checkAgreement(claimed)
      node.instance.learn(claimed)
    }
    for (const envelope of out.send) {
      if (prng.chance(scenario.lossPercent, 100)) continue
      const copies = prng.chance(scenario.duplicatePercent, 100) ? 2 : 1
      for (let copy = 0; copy < copies; copy++) inFlight.push({ deliverAtMs: nowMs + prng.intInclusive(1, LATENCY_MS_MAX), envelope })
    }
    const crash = scenario.crash
    if (crash?.atMs === 'after-accept' && nodes[crash.index] === node && out.send.some((e) => e.message.kind === 'paxos/accept')) {
      node.instance = null
    }
  }

  for (let nowMs = 0; nowMs <= RUN_MS_MAX; nowMs += STEP_MS) {
    const crash = scenario.crash
    const crashedNode = crash === null ? undefined : nodes[crash.index]
    if (crash !== null && crashedNode !== undefined) {
      if (crash.atMs !== 'after-accept' && nowMs === crash.atMs - (crash.atMs % STEP_MS)) crashedNode.instance = null
      if (crash.restartMs !== null && nowMs === crash.restartMs - (crash.restartMs % STEP_MS) && crashedNode.instance === null) boot(crashedNode)
    }
    for (const { index, startMs } of scenario.proposers) {
      const node = nodes[index]
      if (node?.instance == null || node.proposing || nowMs < startMs) continue
      node.proposing = true
      const self = node.key.nodeId
      handle(node, node.instance.propose(nowMs, { acceptors: ids, rule, value: () => encodeToyPlan({ epoch: 1, clusterId: CLUSTER_ID, init: self, controlPlanes: [self], decidedUnder: shape }) }), nowMs)
    }
    const due = prng.shuffle(inFlight.filter((m) => m.deliverAtMs <= nowMs))
    inFlight = inFlight.filter((m) => m.deliverAtMs > nowMs)
    for (const { envelope } of due) {
      const target = nodes[ids.indexOf(envelope.to)]
      if (target?.instance == null) continue
      handle(target, target.instance.step(envelope.from, envelope.message, nowMs), nowMs)
    }
    for (const node of nodes) {
      if (node.instance === null) continue
      handle(node, node.instance.tick(nowMs), nowMs)
      // The ledger spreads votes and plans eventually: each node reads it back now and then.
      if (node.instance.decision === null && prng.chance(1, 4)) {
        const before = node.instance.decision
        const out = node.instance.completeFromVotes([...ledgerVotes.values()], rule)
        if (before === null && out.decision !== null) completions++
        handle(node, out, nowMs)
      }
      if (node.instance.decision === null && ledgerPlan !== null && prng.chance(1, 4)) {
        const learned = decodeDecision(ledgerPlan)
        checkAgreement(learned)
        node.instance.learn(learned)
      }
    }
    if (nodes.every((node) => node.instance === null || node.instance.decision !== null) && inFlight.length === 0) break
  }

  // S2 for chosen values, not only learned ones: every ballot with a quorum of votes chose the decided value.
  const tallies = new Map<string, Set<NodeId>>()
  for (const vote of ledgerVotes.values()) {
    const group = `${vote.ballot.round}.${vote.ballot.proposer}/${bytesToHex(vote.valueHash)}`
    const voters = tallies.get(group) ?? new Set<NodeId>()
    voters.add(vote.voter)
    tallies.set(group, voters)
  }
  for (const [group, voters] of tallies) {
    if (voters.size >= rule.quorum) expect(group.endsWith(`/${decidedHash ?? 'nothing decided'}`), `seed ${seed}: ${group} was chosen`).toBe(true)
  }
  const holders = nodes.filter((node) => node.instance?.decision != null).length
  return { decided: decidedHash !== null, holders, decisionsBuilt, completions }
}

describe('consensus harness', () => {
  it(`agrees on at most one certified value across ${SEEDS} seeds of loss, duplication, duels and crashes`, () => {
    let decided = 0
    let duels = 0
    for (let seed = 1; seed <= SEEDS; seed++) {
      const scenario = drawScenario(new Prng(seed * 7919))
      if (scenario.proposers.length > 1) duels++
      const result = runSeed(seed, scenario)
      if (result.decided) decided++
    }
    // Liveness is not the point here, but a harness where nothing decides would prove nothing.
    expect(duels).toBeGreaterThan(SEEDS / 3)
    expect(decided).toBeGreaterThan(SEEDS * 0.9)
  })

  it('completes a commit from the acceptors\' votes when the proposer crashes between accept and commit', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const nodeCount = 3 + (seed % 5)
      const result = runSeed(seed, {
        nodeCount, lossPercent: 0, duplicatePercent: seed % 20, proposers: [{ index: seed % nodeCount, startMs: 0 }],
        crash: { index: seed % nodeCount, atMs: 'after-accept', restartMs: null }
      })
      expect(result.decided, `seed ${seed}`).toBe(true)
      expect(result.completions, `seed ${seed}`).toBeGreaterThan(0)
      expect(result.holders, `seed ${seed}`).toBe(nodeCount - 1)
    }
  })

  it('a decided node answers a later prepare or accept with the decision, never a second vote', () => {
    const [keyA, keyB] = [KEYS[0], KEYS[1]]
    if (keyA === undefined || keyB === undefined) throw new Error('test setup: keys')
    const rule = quorumRuleFor(1, { expect: 1, controlPlanes: 1 })
    const make = (key: NodeKey): ConsensusInstance => new ConsensusInstance({ key, clusterId: CLUSTER_ID, epoch: 1, profile: PROFILE, prng: new Prng(1), verify, shape: SHAPE })
    const decider = make(keyA)
    const own = decider.propose(0, { acceptors: [keyA.nodeId], rule, value: () => Uint8Array.of(1) })
    expect(own.decision).not.toBeNull()
    expect(decider.propose(1, { acceptors: [keyA.nodeId], rule, value: () => Uint8Array.of(2) }).send).toEqual([])
    const late = make(keyB)
    const prepare = late.propose(2, { acceptors: [keyA.nodeId], rule, value: () => Uint8Array.of(2) }).send[0]
    expect(prepare?.message.kind).toBe('paxos/prepare')
    if (prepare === undefined) return
    const answer = decider.step(keyB.nodeId, prepare.message, 3)
    expect(answer.persist).toEqual([])
    expect(answer.send.map((e) => e.message.kind)).toEqual(['paxos/decided'])
    const decided = answer.send[0]
    if (decided === undefined) return
    const heard = late.step(keyA.nodeId, decided.message, 4)
    expect(heard.claimedDecision).not.toBeNull()
    expect(decodeDecision(heard.claimedDecision ?? new Uint8Array()).value).toEqual(Uint8Array.of(1))
    const accept = { kind: 'paxos/accept' as const, epoch: 1, ballot: { round: 9, proposer: keyB.nodeId }, value: Uint8Array.of(2), shape: SHAPE }
    const refused = decider.step(keyB.nodeId, accept, 5)
    expect({ votes: refused.votes, kinds: refused.send.map((e) => e.message.kind) }).toEqual({ votes: [], kinds: ['paxos/decided'] })
  })
})

// Goal: the planner's laws hold for any member set, not only the hand-picked tables: the plan is
// the same whatever order members arrive in (every node proposes the same bytes), S1 (one init,
// a control plane), an odd control-plane count within the shape, one role per member, requests
// honoured as promised, and S4 for later epochs. Method: fast-check over random member sets,
// facts with deliberate ties and random requests; the choice is checked pairwise against a
// deliberately naive ranking written here, not the planner's comparator.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nodeIdFromPublicKey } from '../src/identity.js'
import type { NodeId } from '../src/identity.js'
import { Prng } from '../src/prng.js'
import {
  CONTROL_PLANE_LABEL, decodePlan, encodePlan, planCluster, planNextEpoch, roleOf
} from '../src/planner/index.js'
import type { PlannerMember } from '../src/planner/index.js'
import { SEALED_AGENT_TOKEN_BYTES, SEALED_SERVER_TOKEN_BYTES } from '../src/secrets/index.js'
import type { NodeFacts, PlanSecrets, Role } from '../src/types.js'

const pool: NodeId[] = (() => {
  const prng = new Prng(31)
  return Array.from({ length: 40 }, () => nodeIdFromPublicKey(prng.bytes(32)))
})()

const standInSecrets = (controlPlanes: readonly NodeId[]): PlanSecrets => ({
  serverTokenHash: 'a'.repeat(64),
  agentTokenHash: 'b'.repeat(64),
  serverTokenSealed: Object.fromEntries(controlPlanes.map((nodeId) => [nodeId, new Uint8Array(SEALED_SERVER_TOKEN_BYTES)])),
  agentTokenSealed: new Uint8Array(SEALED_AGENT_TOKEN_BYTES)
})

// Few distinct values, so ties on every key are common and the id tie-break is exercised.
const factsArbitrary: fc.Arbitrary<NodeFacts> = fc.record({
  labelled: fc.boolean(),
  memoryMb: fc.option(fc.constantFrom(1024, 2048, 4096), { nil: undefined }),
  cpus: fc.option(fc.constantFrom(1, 2, 4), { nil: undefined }),
  requestedRole: fc.option(fc.constantFrom<Role>('control-plane', 'worker'), { nil: undefined })
}).map(({ labelled, memoryMb, cpus, requestedRole }): NodeFacts => ({
  labels: labelled ? { [CONTROL_PLANE_LABEL]: 'true' } : { zone: 'a' },
  ...(memoryMb !== undefined && { memoryMb }),
  ...(cpus !== undefined && { cpus }),
  ...(requestedRole !== undefined && { requestedRole })
}))

const inputArbitrary = fc.record({
  controlPlanes: fc.constantFrom(1, 3, 5, 7),
  members: fc.uniqueArray(fc.integer({ min: 0, max: pool.length - 1 }), { minLength: 1, maxLength: pool.length })
    .chain((indexes) => fc.tuple(...indexes.map((index) => factsArbitrary.map((facts): PlannerMember => ({ nodeId: pool[index] ?? 'missing', facts }))))),
  shuffleSeed: fc.integer()
})

/** The naive rank key: a tuple compared left to right, larger is better. */
function naiveKey (member: PlannerMember): Array<number | string> {
  const size = (value: number | undefined): number => value ?? 0
  return [
    member.facts.requestedRole === 'control-plane' ? 1 : 0,
    member.facts.labels[CONTROL_PLANE_LABEL] === 'true' ? 1 : 0,
    size(member.facts.memoryMb),
    size(member.facts.cpus)
  ]
}

function naiveBetter (left: PlannerMember, right: PlannerMember): boolean {
  const [a, b] = [naiveKey(left), naiveKey(right)]
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return (a[i] ?? 0) > (b[i] ?? 0)
  }
  return left.nodeId < right.nodeId
}

describe('planner laws', () => {
  it('gives a sound plan, independent of member order', () => {
    fc.assert(fc.property(inputArbitrary, ({ controlPlanes, members, shuffleSeed }) => {
      const plan = (list: readonly PlannerMember[]) => planCluster({ clusterId: 'c', epoch: 1, shape: { controlPlanes }, members: list, secrets: standInSecrets }).plan
      const result = plan(members)
      const shuffled = plan(new Prng(shuffleSeed).shuffle(members))
      expect(encodePlan(shuffled)).toEqual(encodePlan(result))

      const cps = result.controlPlanes
      expect(cps.length % 2).toBe(1)
      expect(cps.length).toBeLessThanOrEqual(controlPlanes)
      expect(result.init).toBe(cps[0])
      expect(cps.filter((nodeId) => nodeId === result.init)).toHaveLength(1)
      const listed = [...cps, ...result.workers]
      expect(new Set(listed).size).toBe(listed.length)
      expect([...listed].sort()).toEqual(members.map((member) => member.nodeId).sort())
      expect(decodePlan(encodePlan(result))).toEqual(result)

      const eligible = members.filter((member) => member.facts.requestedRole !== 'worker')
      const expectedCount = eligible.length === 0 ? 1 : Math.min(controlPlanes, eligible.length) - (Math.min(controlPlanes, eligible.length) % 2 === 0 ? 1 : 0)
      expect(cps).toHaveLength(expectedCount)
      const byId = new Map(members.map((member) => [member.nodeId, member]))
      const chosen = cps.map((nodeId) => byId.get(nodeId)).filter((member) => member !== undefined)
      // A worker request is honoured unless every node made one.
      if (eligible.length > 0) expect(chosen.every((member) => member.facts.requestedRole !== 'worker')).toBe(true)
      // No eligible worker outranks a chosen control plane, and join order is rank order.
      const candidates = eligible.length > 0 ? eligible : members
      for (const worker of candidates.filter((member) => !cps.includes(member.nodeId))) {
        for (const cp of chosen) expect(naiveBetter(worker, cp)).toBe(false)
      }
      for (let i = 1; i < chosen.length; i++) expect(naiveBetter(chosen[i] as PlannerMember, chosen[i - 1] as PlannerMember)).toBe(false)
    }), { numRuns: 200 })
  })

  it('keeps every role of the previous epoch when nodes arrive (S4)', () => {
    fc.assert(fc.property(
      inputArbitrary,
      fc.uniqueArray(fc.integer({ min: 0, max: pool.length - 1 }), { minLength: 1, maxLength: 10 }),
      ({ controlPlanes, members }, arrivalIndexes) => {
        const previous = planCluster({ clusterId: 'c', epoch: 1, shape: { controlPlanes }, members, secrets: standInSecrets }).plan
        const arrivals = arrivalIndexes.map((index) => pool[index] ?? 'missing')
        const fresh = arrivals.filter((nodeId) => roleOf(previous, nodeId) !== 'control-plane' && !previous.workers.includes(nodeId))
        fc.pre(fresh.length > 0)
        const next = planNextEpoch(previous, { newWorkers: arrivals }).plan
        expect(next.epoch).toBe(previous.epoch + 1)
        expect(next.init).toBe(previous.init)
        expect(next.controlPlanes).toEqual(previous.controlPlanes)
        expect(next.secrets).toEqual(previous.secrets)
        expect(next.workers.slice(0, previous.workers.length)).toEqual(previous.workers)
        expect([...next.workers.slice(previous.workers.length)].sort()).toEqual([...fresh].sort())
        for (const nodeId of [...previous.controlPlanes, ...previous.workers]) expect(roleOf(next, nodeId)).toBe(roleOf(previous, nodeId))
        expect(decodePlan(encodePlan(next))).toEqual(next)
      }
    ), { numRuns: 100 })
  })
})

// Goal: the bootstrap planner picks a sensible, safe role for every node (DESIGN S1, S4) and says
// why when it cannot do what was asked. Method: it.each tables for 1, 2, 3, 5 and 50 nodes with
// facts and role requests whose expected control planes are written out by hand; the notes are
// matched by pattern; bad input must give the PlannerError code that names it; planNextEpoch must
// keep every earlier role and only add workers.
import { describe, expect, it } from 'vitest'
import { nodeKeyFromSeed } from '../src/identity.js'
import type { NodeId } from '../src/identity.js'
import { Prng } from '../src/prng.js'
import { PlannerError } from '../src/planner/errors.js'
import type { PlannerErrorCode } from '../src/planner/errors.js'
import {
  CONTROL_PLANE_LABEL, PLAN_NODES_MAX, assignRoles, largestOddAtMost, planCluster, planNextEpoch, roleOf
} from '../src/planner/index.js'
import type { PlannerMember } from '../src/planner/index.js'
import {
  generateClusterSecrets, openAgentToken, openServerToken, sealPlanSecrets,
  SEALED_AGENT_TOKEN_BYTES, SEALED_SERVER_TOKEN_BYTES
} from '../src/secrets/index.js'
import type { NodeFacts, PlanSecrets } from '../src/types.js'

const keys = Array.from({ length: 50 }, (_, i) => nodeKeyFromSeed(new Prng(1000 + i).bytes(32)))
const ids: NodeId[] = keys.map((key) => key.nodeId)
const id = (index: number): NodeId => ids[index] ?? 'missing'

/** Well-formed stand-in secrets: the planner checks their shape and recipients, not their content. */
const standInSecrets = (controlPlanes: readonly NodeId[]): PlanSecrets => ({
  serverTokenHash: 'a'.repeat(64),
  agentTokenHash: 'b'.repeat(64),
  serverTokenSealed: Object.fromEntries(controlPlanes.map((nodeId) => [nodeId, new Uint8Array(SEALED_SERVER_TOKEN_BYTES)])),
  agentTokenSealed: new Uint8Array(SEALED_AGENT_TOKEN_BYTES)
})

const membersOf = (facts: readonly NodeFacts[]): PlannerMember[] => facts.map((nodeFacts, index) => ({ nodeId: id(index), facts: nodeFacts }))
const plain = (memoryMb: number, extra: Partial<NodeFacts> = {}): NodeFacts => ({ labels: {}, memoryMb, ...extra })
const labelled: Readonly<Record<string, string>> = { [CONTROL_PLANE_LABEL]: 'true' }

function plan (controlPlanes: number, facts: readonly NodeFacts[]): ReturnType<typeof planCluster> {
  return planCluster({ clusterId: 'cluster-1', epoch: 1, shape: { controlPlanes }, members: membersOf(facts), secrets: standInSecrets })
}

function expectPlannerError (run: () => unknown, code: PlannerErrorCode): void {
  let caught: unknown
  try {
    run()
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(PlannerError)
  expect((caught as PlannerError).code).toBe(code)
}

interface Row {
  readonly title: string
  readonly controlPlanes: number
  readonly facts: readonly NodeFacts[]
  /** Member indexes of the expected control planes, in join order. */
  readonly expected: readonly number[]
  readonly notes: readonly RegExp[]
}

const rows: Row[] = [
  { title: '1 node: a single server', controlPlanes: 1, facts: [plain(1024)], expected: [0], notes: [] },
  { title: '1 node, 3 wanted: a single server, said why', controlPlanes: 3, facts: [plain(1024)], expected: [0], notes: [/^3 control planes wanted but only 1 node: 1$/] },
  { title: '2 nodes: server + worker, the larger serves', controlPlanes: 3, facts: [plain(1024), plain(4096)], expected: [1], notes: [/only 2 nodes: 1, to keep the count odd/] },
  { title: '3 nodes, 3 wanted: all serve, ranked by memory', controlPlanes: 3, facts: [plain(2048), plain(8192), plain(4096)], expected: [1, 2, 0], notes: [] },
  { title: '3 nodes: the label outranks memory', controlPlanes: 3, facts: [plain(2048), plain(8192), plain(1024, { labels: labelled })], expected: [2, 1, 0], notes: [] },
  { title: '5 nodes, 3 wanted: the 3 largest serve', controlPlanes: 3, facts: [plain(1), plain(5), plain(2), plain(4), plain(3)], expected: [1, 3, 4], notes: [] },
  { title: '5 nodes: CPUs break a memory tie', controlPlanes: 3, facts: [plain(4, { cpus: 2 }), plain(4, { cpus: 8 }), plain(4, { cpus: 4 }), plain(1), plain(1)], expected: [1, 2, 0], notes: [] },
  { title: '5 nodes: a worker request is honoured', controlPlanes: 3, facts: [plain(9, { requestedRole: 'worker' }), plain(5), plain(4), plain(3), plain(2)], expected: [1, 2, 3], notes: [] },
  { title: '5 nodes: a control-plane request outranks label and size', controlPlanes: 3, facts: [plain(1, { requestedRole: 'control-plane' }), plain(9, { labels: labelled }), plain(8), plain(7), plain(6)], expected: [0, 1, 2], notes: [] },
  {
    title: '5 nodes, 4 control-plane requests for 3 slots: the best-ranked requests win',
    controlPlanes: 3,
    facts: [plain(4, { requestedRole: 'control-plane' }), plain(3, { requestedRole: 'control-plane' }), plain(2, { requestedRole: 'control-plane' }), plain(1, { requestedRole: 'control-plane' }), plain(9)],
    expected: [0, 1, 2],
    notes: [new RegExp(`^node ${id(3)} asked for control-plane but the 3 slots went to higher-ranked requests`)]
  },
  {
    title: '3 nodes, 1 asks for worker: 2 may serve, so 1 server',
    controlPlanes: 3,
    facts: [plain(4), plain(9, { requestedRole: 'worker' }), plain(2)],
    expected: [0],
    notes: [/^3 control planes wanted but only 2 of 3 nodes may be control plane \(1 asked for worker\): 1, to keep the count odd$/]
  },
  {
    title: '2 nodes, both ask for worker: the best-ranked serves anyway',
    controlPlanes: 1,
    facts: [plain(2, { requestedRole: 'worker' }), plain(4, { requestedRole: 'worker' })],
    expected: [1],
    notes: [new RegExp(`^node ${id(1)} asked for worker, as did every node, but a cluster needs a control plane`)]
  },
  { title: '4 nodes, 5 wanted: 3', controlPlanes: 5, facts: [plain(1), plain(2), plain(3), plain(4)], expected: [3, 2, 1], notes: [/^5 control planes wanted but only 4 nodes: 3, to keep the count odd$/] },
  { title: '4 nodes, 4 wanted (even): 3', controlPlanes: 4, facts: [plain(1), plain(2), plain(3), plain(4)], expected: [3, 2, 1], notes: [/^4 control planes wanted: 3, to keep the count odd/] },
  { title: '50 nodes, 5 wanted: the 5 largest serve, 45 workers', controlPlanes: 5, facts: Array.from({ length: 50 }, (_, i) => plain(100 * (i + 1))), expected: [49, 48, 47, 46, 45], notes: [] },
  { title: '50 nodes, 1 wanted: one server', controlPlanes: 1, facts: Array.from({ length: 50 }, (_, i) => plain(100 * (i + 1))), expected: [49], notes: [] },
  { title: '50 nodes, labelled ones serve first', controlPlanes: 3, facts: Array.from({ length: 50 }, (_, i) => plain(100 * (i + 1), i % 20 === 0 ? { labels: labelled } : {})), expected: [40, 20, 0], notes: [] }
]

describe('planCluster', () => {
  it.each(rows)('$title', ({ controlPlanes, facts, expected, notes }) => {
    const { plan: result, notes: returned } = plan(controlPlanes, facts)
    expect(result.controlPlanes).toEqual(expected.map(id))
    expect(result.init).toBe(id(expected[0] ?? -1))
    expect(result.epoch).toBe(1)
    expect([...result.controlPlanes, ...result.workers].sort()).toEqual(ids.slice(0, facts.length).sort())
    expect(returned).toEqual(result.notes)
    expect(returned).toHaveLength(notes.length)
    notes.forEach((pattern, index) => expect(returned[index]).toMatch(pattern))
  })

  it('breaks full ties by node id, ascending, and orders workers by rank', () => {
    const { plan: result } = plan(3, Array.from({ length: 6 }, () => plain(1)))
    const sorted = ids.slice(0, 6).sort()
    expect(result.controlPlanes).toEqual(sorted.slice(0, 3))
    expect(result.workers).toEqual(sorted.slice(3))
  })

  it('names at most 8 refused requests and counts the rest in one note', () => {
    const facts = Array.from({ length: 20 }, (_, i) => plain(i + 1, { requestedRole: 'control-plane' }))
    const { plan: result } = plan(3, facts)
    expect(result.notes).toHaveLength(9)
    expect(result.notes[8]).toMatch(/^9 more nodes asked for control-plane but the 3 slots went to higher-ranked requests/)
  })

  it('ranks unknown or nonsense sizes as zero', () => {
    const { plan: result } = plan(1, [plain(Number.NaN), plain(-5), { labels: {} }, plain(1)])
    expect(result.controlPlanes).toEqual([id(3)])
  })

  it('carries name and vip from the shape', () => {
    const result = planCluster({ clusterId: 'c', epoch: 1, shape: { controlPlanes: 1, name: 'edge', vip: '10.0.0.100' }, members: membersOf([plain(1)]), secrets: standInSecrets }).plan
    expect(result.name).toBe('edge')
    expect(result.vip).toBe('10.0.0.100')
  })

  it('seals real secrets to exactly the chosen control planes through the callback', () => {
    const prng = new Prng(77)
    const entropy = (length: number): Uint8Array => prng.bytes(length)
    const sealingKey = new Prng(78).bytes(32)
    const tokens = generateClusterSecrets(entropy)
    const { plan: result } = planCluster({
      clusterId: 'c',
      epoch: 1,
      shape: { controlPlanes: 3 },
      members: membersOf([plain(1), plain(2), plain(3), plain(4), plain(5)]),
      secrets: (controlPlanes) => sealPlanSecrets({ ...tokens, controlPlanes, sealingKey, entropy })
    })
    for (const [index, key] of keys.slice(0, 5).entries()) {
      if (roleOf(result, key.nodeId) === 'control-plane') {
        expect(openServerToken(result.secrets, key)).toBe(tokens.serverToken)
      } else {
        expect(index).toBeLessThan(2)
        expect(() => openServerToken(result.secrets, key)).toThrow(/not a control plane/)
      }
    }
    expect(openAgentToken(result.secrets, sealingKey)).toBe(tokens.agentToken)
  })

  it.each<[string, () => unknown, PlannerErrorCode]>([
    ['no members', () => plan(1, []), 'PLANNER_NO_MEMBERS'],
    ['a member twice', () => planCluster({ clusterId: 'c', epoch: 1, shape: { controlPlanes: 1 }, members: [{ nodeId: id(0), facts: plain(1) }, { nodeId: id(0), facts: plain(2) }], secrets: standInSecrets }), 'PLANNER_BAD_MEMBER'],
    ['a member that is no node id', () => planCluster({ clusterId: 'c', epoch: 1, shape: { controlPlanes: 1 }, members: [{ nodeId: 'node-a', facts: plain(1) }], secrets: standInSecrets }), 'PLANNER_BAD_MEMBER'],
    ['controlPlanes 0', () => plan(0, [plain(1)]), 'PLANNER_BAD_SHAPE'],
    ['controlPlanes 9', () => plan(9, [plain(1)]), 'PLANNER_BAD_SHAPE'],
    ['controlPlanes 1.5', () => plan(1.5, [plain(1)]), 'PLANNER_BAD_SHAPE'],
    ['a vip that is no address', () => planCluster({ clusterId: 'c', epoch: 1, shape: { controlPlanes: 1, vip: '10.0.0' }, members: membersOf([plain(1)]), secrets: standInSecrets }), 'PLANNER_BAD_SHAPE'],
    ['a name that is no DNS label', () => planCluster({ clusterId: 'c', epoch: 1, shape: { controlPlanes: 1, name: 'Edge Cluster' }, members: membersOf([plain(1)]), secrets: standInSecrets }), 'PLANNER_BAD_SHAPE'],
    ['an empty cluster id', () => planCluster({ clusterId: '', epoch: 1, shape: { controlPlanes: 1 }, members: membersOf([plain(1)]), secrets: standInSecrets }), 'PLANNER_BAD_CLUSTER_ID'],
    ['secrets sealed to the wrong nodes', () => planCluster({ clusterId: 'c', epoch: 1, shape: { controlPlanes: 1 }, members: membersOf([plain(1), plain(2)]), secrets: standInSecrets([id(0)]) }), 'PLANNER_BAD_SECRETS'],
    ['secrets with a malformed hash', () => planCluster({ clusterId: 'c', epoch: 1, shape: { controlPlanes: 1 }, members: membersOf([plain(1)]), secrets: (cps) => ({ ...standInSecrets(cps), agentTokenHash: 'nope' }) }), 'PLANNER_BAD_SECRETS']
  ])('refuses %s', (_title, run, code) => {
    expectPlannerError(run, code)
  })

  it('refuses more members than a plan may list', () => {
    const members = Array.from({ length: PLAN_NODES_MAX + 1 }, () => ({ nodeId: id(0), facts: plain(1) }))
    expectPlannerError(() => assignRoles({ controlPlanes: 1 }, members), 'PLANNER_TOO_MANY_MEMBERS')
  })
})

describe('largestOddAtMost', () => {
  it.each([[0, 0], [1, 1], [2, 1], [3, 3], [4, 3], [5, 5], [6, 5], [7, 7], [-1, 0]])('largestOddAtMost(%d) = %d', (limit, expected) => {
    expect(largestOddAtMost(limit)).toBe(expected)
  })
})

describe('planNextEpoch', () => {
  const first = plan(3, [plain(5), plain(4), plain(3), plain(2)]).plan

  it('keeps every role, init and secrets, and adds arrivals as workers in id order (S4)', () => {
    const arrivals = [id(9), id(7), id(8), id(7), id(0)]
    const { plan: next, notes } = planNextEpoch(first, { newWorkers: arrivals })
    expect(next.epoch).toBe(2)
    expect(next.init).toBe(first.init)
    expect(next.controlPlanes).toEqual(first.controlPlanes)
    expect(next.secrets).toBe(first.secrets)
    expect(next.workers).toEqual([...first.workers, ...[id(7), id(8), id(9)].sort()])
    expect(notes).toEqual(['epoch 2: 3 nodes joined as workers; every earlier role is kept'])
    for (const nodeId of [...first.controlPlanes, ...first.workers]) expect(roleOf(next, nodeId)).toBe(roleOf(first, nodeId))
    expect(planNextEpoch(next, { newWorkers: [id(20)] }).plan.epoch).toBe(3)
  })

  it('refuses an epoch that changes nothing, and ids that are not node ids', () => {
    expectPlannerError(() => planNextEpoch(first, { newWorkers: [first.init, id(3)] }), 'PLANNER_NO_CHANGE')
    expectPlannerError(() => planNextEpoch(first, { newWorkers: [] }), 'PLANNER_NO_CHANGE')
    expectPlannerError(() => planNextEpoch(first, { newWorkers: ['node-x'] }), 'PLANNER_BAD_MEMBER')
  })
})

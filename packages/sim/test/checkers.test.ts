// Goal: every checker fires on the violation it guards against, names the property and the
// nodes, and stays quiet on a consistent history. Method: feed the SafetyChecker fabricated
// inspections, messages and crash/restart pairs, one broken property at a time.
import { describe, expect, it } from 'vitest'
import { SafetyChecker, compareBallots } from '../src/index.js'
import type { NodeInspection, Plan, Role, WireMessage } from '../src/index.js'

function plan (init: string, epoch = 1, overrides: Partial<Plan> = {}): Plan {
  return {
    clusterId: 'c',
    epoch,
    init,
    controlPlanes: [init],
    workers: [],
    decidedUnder: { expect: 3, controlPlanes: 1 },
    secrets: { serverTokenHash: 'server', agentTokenHash: 'agent', serverTokenSealed: {}, agentTokenSealed: new Uint8Array(0) },
    notes: [],
    ...overrides
  }
}

function inspection (nodeId: string, plans: Plan[], options: { role?: Role | null, promised?: Array<[number, readonly [number, string]]>, audit?: () => readonly string[] } = {}): NodeInspection {
  return {
    nodeId,
    plans: new Map(plans.map((held) => [held.epoch, held])),
    promised: new Map(options.promised ?? []),
    role: options.role ?? null,
    ...(options.audit === undefined ? {} : { audit: options.audit })
  }
}

function vote (kind: string, epoch: number, round: number, proposer: string): WireMessage {
  const message = { kind, epoch, ballot: { round, proposer } }
  return message
}

function properties (checker: SafetyChecker): string[] {
  return checker.violations.map((violation) => violation.property)
}

describe('SafetyChecker', () => {
  it('accepts a consistent history: same plan everywhere, epochs growing, roles kept', () => {
    const checker = new SafetyChecker()
    checker.observe(inspection('a', [plan('a')], { role: 'control-plane' }), 1)
    checker.observe(inspection('b', [plan('a')], { role: 'worker' }), 2)
    checker.observe(inspection('b', [plan('a'), plan('a', 2, { controlPlanes: ['a', 'b', 'c'] })], { role: 'control-plane' }), 3)
    checker.crashed(inspection('a', [plan('a')], { role: 'control-plane' }))
    checker.restarted(inspection('a', [plan('a')], { role: 'control-plane' }), 4)
    expect(checker.violations).toEqual([])
  })

  it('S1: fires when two nodes hold different initialisers, naming both', () => {
    const checker = new SafetyChecker()
    checker.observe(inspection('a', [plan('a')]), 1)
    checker.observe(inspection('b', [plan('b')]), 2)
    expect(properties(checker)).toContain('S1')
    const violation = checker.violations.find((candidate) => candidate.property === 'S1')
    expect(violation?.nodes).toEqual(['a', 'b'])
    expect(violation?.message).toMatch(/two initialisers.*init a.*init b/)
  })

  it('R1: fires on a committed plan with an even number of voting servers', () => {
    const checker = new SafetyChecker()
    checker.observe(inspection('a', [plan('a'), plan('a', 2, { controlPlanes: ['a', 'b'] })]), 1)
    expect(properties(checker)).toEqual(['R1'])
    expect(checker.violations[0]?.message).toMatch(/epoch 2 with 2 voting servers/)
  })

  it('R2: fires when an epoch removes a server without adding its replacement, whichever epoch is seen first', () => {
    const shrink = new SafetyChecker()
    shrink.observe(inspection('a', [plan('a', 1, { controlPlanes: ['a', 'b', 'c'] }), plan('a', 2, { controlPlanes: ['a'] })]), 1)
    expect(properties(shrink)).toEqual(['R2'])
    const later = new SafetyChecker()
    later.observe(inspection('b', [plan('a', 2, { controlPlanes: ['a'] })]), 1)
    later.observe(inspection('c', [plan('a', 1, { controlPlanes: ['a', 'b', 'c'] })]), 2)
    expect(properties(later)).toEqual(['R2'])
    const swap = new SafetyChecker()
    swap.observe(inspection('a', [plan('a', 1, { controlPlanes: ['a', 'b', 'c'] }), plan('a', 2, { controlPlanes: ['a', 'c', 'd'] })]), 1)
    expect(swap.violations).toEqual([])
  })

  it('S2: fires when two plans of one epoch differ, even with the same init', () => {
    const checker = new SafetyChecker()
    checker.observe(inspection('a', [plan('a', 1, { workers: ['b'] })]), 1)
    checker.observe(inspection('b', [plan('a', 1, { workers: ['c'] })]), 2)
    expect(properties(checker)).toEqual(['S2'])
  })

  it('S2: fires when a node\'s highest epoch goes down', () => {
    const checker = new SafetyChecker()
    checker.observe(inspection('a', [plan('a'), plan('a', 2)]), 1)
    checker.observe(inspection('a', [plan('a')]), 2)
    expect(checker.violations[0]?.message).toMatch(/^S2: epochs only grow/)
  })

  it('S3: fires when a later epoch carries another server or agent token', () => {
    const server = new SafetyChecker()
    server.observe(inspection('a', [plan('a')]), 1)
    server.observe(inspection('a', [plan('a'), plan('a', 2, { secrets: { ...plan('a').secrets, serverTokenHash: 'other' } })]), 2)
    expect(properties(server)).toEqual(['S3'])
    const agent = new SafetyChecker()
    agent.observe(inspection('a', [plan('a')]), 1)
    agent.observe(inspection('b', [plan('a', 2, { secrets: { ...plan('a').secrets, agentTokenHash: 'other' } })]), 2)
    expect(agent.violations[0]?.message).toMatch(/agent token changed/)
  })

  it('S4: fires when a role differs after a restart with no newer epoch, not when one was committed', () => {
    const checker = new SafetyChecker()
    checker.observe(inspection('a', [plan('a')], { role: 'control-plane' }), 1)
    checker.crashed(inspection('a', [plan('a')], { role: 'control-plane' }))
    checker.restarted(inspection('a', [plan('a')], { role: 'worker' }), 2)
    expect(properties(checker)).toEqual(['S4'])

    const newer = new SafetyChecker()
    newer.crashed(inspection('a', [plan('a')], { role: 'control-plane' }))
    // Epoch 2 replaced a (the init node) before the cluster formed, and names b to initialise (J1).
    const replacing = plan('a', 2, { controlPlanes: ['b'], replaced: ['a'], reinit: 'b' })
    newer.observe(inspection('b', [plan('a'), replacing]), 2)
    newer.restarted(inspection('a', [plan('a'), replacing], { role: 'worker' }), 3)
    expect(newer.violations).toEqual([])
  })

  it('S4: fires when a running node changes role without a newer epoch', () => {
    const checker = new SafetyChecker()
    checker.observe(inspection('a', [plan('a')], { role: 'worker' }), 1)
    checker.observe(inspection('a', [plan('a')], { role: 'control-plane' }), 2)
    expect(properties(checker)).toEqual(['S4'])
  })

  it('S5: fires on audit problems and on a plan below epoch 1', () => {
    const audited = new SafetyChecker()
    audited.audit(inspection('a', [], { audit: () => ['entry node/b/facts signed by a'] }), 1)
    expect(audited.violations[0]?.message).toMatch(/S5: .*fails its ledger audit: entry node\/b\/facts signed by a/)
    const zero = new SafetyChecker()
    zero.observe(inspection('a', [plan('a', 0)]), 1)
    expect(properties(zero)).toEqual(['S5'])
    const noAudit = new SafetyChecker()
    noAudit.audit(inspection('a', []), 1)
    expect(noAudit.violations).toEqual([])
  })

  it('S6: fires when a restarted node promised less than it voted, or nothing', () => {
    const checker = new SafetyChecker()
    checker.sent('a', vote('paxos/promise', 1, 3, 'p'))
    checker.sent('a', vote('paxos/accepted', 2, 1, 'p'))
    checker.crashed(inspection('a', []))
    checker.restarted(inspection('a', [], { promised: [[1, [2, 'z']]] }), 5)
    expect(properties(checker)).toEqual(['S6', 'S6'])
    expect(checker.violations[0]?.message).toMatch(/voted ballot 3\.p in epoch 1 but after restart has promised 2\.z/)
    expect(checker.violations[1]?.message).toMatch(/epoch 2 but after restart has promised nothing/)
  })

  it('S6: accepts a restarted node whose promise is at least what it voted', () => {
    const checker = new SafetyChecker()
    checker.sent('a', vote('paxos/promise', 1, 3, 'p'))
    checker.restarted(inspection('a', [], { promised: [[1, [3, 'p']]] }), 5)
    expect(checker.violations).toEqual([])
  })

  it('S6: fires when a restarted node kept its promise but lost an accept it reported', () => {
    const checker = new SafetyChecker()
    checker.sent('a', vote('paxos/accepted', 1, 3, 'p'))
    const promisedOnly: NodeInspection = { ...inspection('a', [], { promised: [[1, [3, 'p']]] }), accepted: new Map() }
    checker.restarted(promisedOnly, 5)
    expect(checker.violations.map((violation) => violation.message)).toEqual(['S6: a accepted a value at ballot 3.p in epoch 1 but after restart holds no accepted value'])
    const kept = new SafetyChecker()
    kept.sent('a', vote('paxos/accepted', 1, 3, 'p'))
    kept.restarted({ ...inspection('a', [], { promised: [[1, [3, 'p']]] }), accepted: new Map([[1, [3, 'p'] as const]]) }, 5)
    expect(kept.violations).toEqual([])
  })

  it('S6: fires when a node that announced plan:committed lost the plan after restart', () => {
    const checker = new SafetyChecker()
    checker.committed('a', 1)
    checker.observe(inspection('a', [plan('a')]), 1)
    checker.crashed(inspection('a', [plan('a')]))
    checker.restarted(inspection('a', []), 2)
    expect(checker.violations.map((violation) => violation.message)).toContain('S6: a announced plan:committed for epoch 1 but does not hold that plan after restart')
  })

  it.each([
    [[1, 'a'], [1, 'a'], 0],
    [[1, 'b'], [2, 'a'], -1],
    [[2, 'a'], [1, 'z'], 1],
    [[1, 'b'], [1, 'a'], 1]
  ] as const)('compareBallots(%j, %j) = %i', (a, b, expected) => {
    expect(compareBallots(a, b)).toBe(expected)
  })
})

describe('SafetyChecker with fullSplit (best effort: two parts may each bootstrap)', () => {
  it('allows two plans while they last, and a node moving to the other with its later epochs gone', () => {
    const checker = new SafetyChecker(undefined, { fullSplit: true })
    checker.observe(inspection('a', [plan('a')], { role: 'control-plane' }), 1)
    checker.observe(inspection('b', [plan('b'), plan('b', 2)], { role: 'control-plane' }), 2)
    checker.committed('b', 2)
    // b follows the plan its ledger keeps: a's; its epoch 2 built on b's plan is gone.
    checker.observe(inspection('b', [plan('a')], { role: 'worker' }), 3)
    checker.crashed(inspection('b', [plan('a')], { role: 'worker' }))
    checker.restarted(inspection('b', [plan('a')], { role: 'worker' }), 4)
    checker.converged([inspection('a', [plan('a')]), inspection('b', [plan('a')])], 5)
    expect(checker.violations).toEqual([])
  })

  it('fires S2 when the nodes still hold different plans at the end', () => {
    const checker = new SafetyChecker(undefined, { fullSplit: true })
    checker.converged([inspection('a', [plan('a')]), inspection('b', [plan('b')])], 5)
    expect(properties(checker)).toEqual(['S2'])
    expect(checker.violations[0]?.message).toContain('after the merge a and b still hold different plans for epoch 1')
  })

  it('still fires S4 on a role switched by a restart, and S2 on an epoch dropped with no plan switched', () => {
    const checker = new SafetyChecker(undefined, { fullSplit: true })
    checker.observe(inspection('a', [plan('a')], { role: 'control-plane' }), 1)
    checker.crashed(inspection('a', [plan('a')], { role: 'control-plane' }))
    checker.restarted(inspection('a', [plan('a')], { role: 'worker' }), 2)
    checker.observe(inspection('c', [plan('c'), plan('c', 2)]), 3)
    checker.observe(inspection('c', [plan('c')]), 4)
    expect(properties(checker)).toEqual(['S4', 'S2', 'S8'])
  })
})

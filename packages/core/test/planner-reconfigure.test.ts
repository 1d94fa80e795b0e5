// Goal: after the bootstrap, the planner changes roles only as DESIGN S4/L3 and the issue say:
// grow two at a time to the target (odd at every epoch), replace a control plane dead for longer
// than the fail-over delay (never before, never without a live candidate), hand a leaving
// server's role to a worker, retire leaving workers; init and secrets never change (S1, S3).
// Method: hand-built plans and inputs with the expected roles written out; a property run over
// random fleets checks the invariants of every change the planner makes.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nodeKeyFromSeed } from '../src/identity.js'
import type { NodeId } from '../src/identity.js'
import { Prng } from '../src/prng.js'
import {
  CONTROL_PLANE_LABEL, decodePlan, encodePlan, initialiserOf, joinGraphProblems, nextRoleChange, planCluster, planFromChange,
  planProblems, roleOf
} from '../src/planner/index.js'
import type { PlannerMember, ReconfigureInput } from '../src/planner/index.js'
import { SEALED_AGENT_TOKEN_BYTES, SEALED_SERVER_TOKEN_BYTES } from '../src/secrets/index.js'
import type { NodeFacts, Plan, PlanSecrets } from '../src/types.js'

const ids: NodeId[] = Array.from({ length: 12 }, (_, i) => nodeKeyFromSeed(new Prng(2000 + i).bytes(32)).nodeId)
const id = (index: number): NodeId => ids[index] ?? 'missing'

const secretsFor = (controlPlanes: readonly NodeId[]): PlanSecrets => ({
  serverTokenHash: 'a'.repeat(64),
  agentTokenHash: 'b'.repeat(64),
  serverTokenSealed: Object.fromEntries(controlPlanes.map((nodeId) => [nodeId, new Uint8Array(SEALED_SERVER_TOKEN_BYTES)])),
  agentTokenSealed: new Uint8Array(SEALED_AGENT_TOKEN_BYTES)
})

const facts = (memoryMb = 1024, labels: Record<string, string> = {}): NodeFacts => ({ labels, memoryMb })

function bootstrap (controlPlanes: number, members: readonly NodeId[]): Plan {
  return planCluster({
    clusterId: 'cluster-1',
    epoch: 1,
    shape: { controlPlanes },
    members: members.map((nodeId) => ({ nodeId, facts: facts() })),
    secrets: secretsFor
  }).plan
}

function input (previous: Plan, live: readonly NodeId[], extra: Partial<ReconfigureInput> = {}): ReconfigureInput {
  return {
    previous,
    shape: { controlPlanes: 3 },
    live: live.map((nodeId): PlannerMember => ({ nodeId, facts: facts() })),
    deadForMs: new Map(),
    leaving: new Set(),
    failoverDelayMs: 300_000,
    ...extra
  }
}

function commit (previous: Plan, request: ReconfigureInput): Plan {
  const change = nextRoleChange(request)
  if (change === null) throw new Error('expected a change')
  return planFromChange(previous, change, secretsFor(change.controlPlanes))
}

describe('grow', () => {
  const one = bootstrap(1, [id(0)])

  it('does nothing while only one candidate is live: two voting servers would wait for a third', () => {
    expect(nextRoleChange(input(one, [id(0), id(1)]))).toBeNull()
  })

  it('promotes two candidates at once, best ranked first, appended in join order', () => {
    const request = input(one, [id(0), id(1), id(2), id(3)], {
      live: [{ nodeId: id(0), facts: facts() }, { nodeId: id(1), facts: facts(512) }, { nodeId: id(2), facts: facts(512, { [CONTROL_PLANE_LABEL]: 'true' }) }, { nodeId: id(3), facts: facts(4096) }]
    })
    const change = nextRoleChange(request)
    expect(change?.kind).toBe('grow')
    expect(change?.controlPlanes).toEqual([id(0), id(2), id(3)])
    const next = commit(one, request)
    expect(next.epoch).toBe(2)
    expect(next.init).toBe(one.init)
    expect(roleOf(next, id(1))).toBe('worker')
    expect(nextRoleChange(input(next, [id(0), id(1), id(2), id(3)]))).toBeNull()
  })

  it('stops at the target and never asks a node that requested the worker role', () => {
    const request = input(one, [id(0), id(1), id(2), id(3), id(4)], {
      shape: { controlPlanes: 5 },
      live: [id(0), id(1), id(2), id(3), id(4)].map((nodeId, index) => ({ nodeId, facts: index === 1 ? { labels: {}, requestedRole: 'worker' } : facts() }))
    })
    const change = nextRoleChange(request)
    expect(change?.controlPlanes).toHaveLength(3)
    expect(change?.controlPlanes).not.toContain(id(1))
  })
})

describe('replace', () => {
  const three = bootstrap(3, [id(0), id(1), id(2), id(3)])
  const dead = three.controlPlanes[1] ?? 'missing'
  const live = [id(0), id(1), id(2), id(3)].filter((nodeId) => nodeId !== dead)

  it('waits out the fail-over delay', () => {
    expect(nextRoleChange(input(three, live, { deadForMs: new Map([[dead, 299_999]]) }))).toBeNull()
  })

  it('replaces a server dead for the delay with the live worker, in one epoch, keeping three', () => {
    const request = input(three, live, { deadForMs: new Map([[dead, 300_000]]) })
    const next = commit(three, request)
    expect(next.controlPlanes).toHaveLength(3)
    expect(next.controlPlanes).not.toContain(dead)
    expect(next.controlPlanes.at(-1)).toBe(three.workers[0])
    expect(next.replaced).toEqual([dead])
    expect(roleOf(next, dead)).toBe('worker')
    expect(next.notes[0]).toMatch(/dead for 300 s .*replaces it/)
    expect(planProblems(next)).toEqual([])
  })

  it('keeps a dead server when no worker can take over (never shrinks)', () => {
    const noWorker = bootstrap(3, [id(0), id(1), id(2)])
    const gone = noWorker.controlPlanes[2] ?? 'missing'
    expect(nextRoleChange(input(noWorker, noWorker.controlPlanes.filter((nodeId) => nodeId !== gone), { deadForMs: new Map([[gone, 10 ** 9]]) }))).toBeNull()
  })

  it('never promotes a replaced server that came back (its etcd data is stale)', () => {
    const next = commit(three, input(three, live, { deadForMs: new Map([[dead, 300_000]]) }))
    const newlyDead = next.controlPlanes[2] ?? 'missing'
    const back = [...live.filter((nodeId) => nodeId !== newlyDead), dead]
    expect(nextRoleChange(input(next, back, { deadForMs: new Map([[newlyDead, 10 ** 9]]) }))).toBeNull()
  })
})

describe('replace the initialiser before the cluster formed (issue finding 5)', () => {
  const three = bootstrap(3, [id(0), id(1), id(2), id(3), id(4)])
  const init = three.init
  const live = [id(0), id(1), id(2), id(3), id(4)].filter((nodeId) => nodeId !== init)
  const dead = { deadForMs: new Map([[init, 300_000]]) }

  it('no server was Ready: the epoch names the first live control plane to initialise in its place', () => {
    const next = commit(three, input(three, live, { ...dead, readyServers: new Set<string>() }))
    expect(next.replaced).toEqual([init])
    expect(next.init).toBe(init) // S1: the init field never changes
    expect(next.reinit).toBe(next.controlPlanes[0])
    expect(initialiserOf(next)).toBe(next.controlPlanes[0])
    expect(next.notes.join(' ')).toMatch(/no server was Ready yet, so .* initialises the cluster in place of the replaced init node/)
    expect(planProblems(next)).toEqual([])
    expect(joinGraphProblems(next, new Set())).toEqual([])
    // The plan round-trips with it, and later epochs carry it.
    expect(decodePlan(encodePlan(next))).toEqual(next)
    const later = commit(next, input(next, live, { leaving: new Set([next.workers[0] ?? 'missing']) }))
    expect(later.reinit).toBe(next.reinit)
  })

  it('a control plane left was Ready (it holds the cluster), or nobody says: nothing is initialised again', () => {
    for (const extra of [{ readyServers: new Set([init, three.controlPlanes[1] ?? 'missing']) }, {}]) {
      const next = commit(three, input(three, live, { ...dead, ...extra }))
      expect(next.reinit).toBeUndefined()
      expect(initialiserOf(next)).toBeNull()
      // Only a server that was Ready can then be the root of the join graph.
      expect(joinGraphProblems(next, new Set([next.controlPlanes[0] ?? 'missing']))).toEqual([])
      expect(joinGraphProblems(next, new Set()).join(' ')).toMatch(/nobody runs cluster-init/)
    }
  })

  it('the init node was Ready alone, then died: its single etcd member held the cluster, so one is named to initialise anew', () => {
    const next = commit(three, input(three, live, { ...dead, readyServers: new Set([init]) }))
    expect(next.replaced).toEqual([init])
    expect(next.reinit).toBe(next.controlPlanes[0])
    expect(initialiserOf(next)).toBe(next.controlPlanes[0])
    // Without it, no control plane left was ever Ready and nobody initialises: servers would wait for ever.
    expect(joinGraphProblems(next, new Set([init]))).toEqual([])
    const { reinit: _named, ...unnamed } = next
    expect(joinGraphProblems(unnamed, new Set([init])).join(' ')).toMatch(/nobody runs cluster-init/)
  })

  it('another server dead before the cluster formed: the init node still initialises', () => {
    const other = three.controlPlanes[1] ?? 'missing'
    const next = commit(three, input(three, [id(0), id(1), id(2), id(3), id(4)].filter((nodeId) => nodeId !== other), { deadForMs: new Map([[other, 300_000]]), readyServers: new Set<string>() }))
    expect(next.reinit).toBeUndefined()
    expect(initialiserOf(next)).toBe(init)
  })

  it('the plan rules refuse a node named to initialise in the init node\'s place while it was not replaced', () => {
    expect(planProblems({ ...three, reinit: three.controlPlanes[1] ?? 'missing' }).join(' ')).toMatch(/only in a later epoch that replaced the init node/)
    const next = commit(three, input(three, live, { ...dead, readyServers: new Set<string>() }))
    expect(planProblems({ ...next, reinit: init }).join(' ')).toMatch(/only in a later epoch that replaced the init node/)
    expect(planProblems({ ...next, reinit: id(11) }).join(' ')).toMatch(/is a control plane, or was replaced or retired since/)
  })
})

describe('leave', () => {
  const three = bootstrap(3, [id(0), id(1), id(2), id(3), id(4)])
  const everyone = [id(0), id(1), id(2), id(3), id(4)]

  it('retires leaving workers: no role, never counted again', () => {
    const worker = three.workers[0] ?? 'missing'
    const next = commit(three, input(three, everyone, { leaving: new Set([worker]) }))
    expect(next.retired).toEqual([worker])
    expect(next.workers).not.toContain(worker)
    expect(roleOf(next, worker)).toBeNull()
    expect(nextRoleChange(input(next, everyone, { leaving: new Set([worker]) }))).toBeNull()
  })

  it('hands a leaving server\'s role to a worker in the same epoch that retires it', () => {
    const server = three.controlPlanes[0] ?? 'missing'
    const next = commit(three, input(three, everyone, { leaving: new Set([server]) }))
    expect(next.controlPlanes).toHaveLength(3)
    expect(next.controlPlanes).not.toContain(server)
    expect(next.retired).toEqual([server])
    expect(next.init).toBe(three.init)
  })
})

describe('every change keeps the invariants', () => {
  it('odd voting servers, init and token hashes kept, a server removed only with its replacement', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.constantFrom(1, 3, 5),
      fc.array(fc.record({ live: fc.boolean(), leaving: fc.boolean(), deadMs: fc.integer({ min: 0, max: 600_000 }) }), { minLength: 12, maxLength: 12 }),
      (formed, target, fates) => {
        let plan = bootstrap(Math.min(target, formed % 2 === 1 ? formed : formed - 1 || 1), ids.slice(0, formed))
        for (let step = 0; step < 6; step++) {
          const live = ids.filter((_, index) => fates[index]?.live === true || plan.controlPlanes[0] === ids[index])
          const request = input(plan, live, {
            shape: { controlPlanes: target },
            deadForMs: new Map(ids.filter((nodeId) => !live.includes(nodeId)).map((nodeId) => [nodeId, fates[ids.indexOf(nodeId)]?.deadMs ?? 0])),
            leaving: new Set(ids.filter((_, index) => fates[index]?.leaving === true))
          })
          const change = nextRoleChange(request)
          if (change === null) break
          const next = planFromChange(plan, change, secretsFor(change.controlPlanes))
          expect(next.controlPlanes.length % 2).toBe(1)
          expect(next.init).toBe(plan.init)
          expect(next.secrets.serverTokenHash).toBe(plan.secrets.serverTokenHash)
          const removed = plan.controlPlanes.filter((nodeId) => !next.controlPlanes.includes(nodeId))
          const added = next.controlPlanes.filter((nodeId) => !plan.controlPlanes.includes(nodeId))
          expect(added.length).toBeGreaterThanOrEqual(removed.length)
          for (const nodeId of added) expect(live).toContain(nodeId)
          plan = next
        }
      }
    ), { numRuns: 200 })
  })
})

// Goal: plans of later epochs render (S1 keeps `init` fixed even when that node is gone): a plan
// whose init node was replaced or retired is still a valid plan, the servers left render joiner
// configs, and the init node itself, back as a worker, gets a worker config (no cluster-init, a
// server to join, no init label), never a second cluster-init. Method: the 3-server fleet of the
// renderer tests, moved on by hand to the epoch that replaced or retired its init node.
import { describe, expect, it } from 'vitest'
import type { Plan } from '@p2p-bootstrap/core'
import { INIT_LABEL, RenderError, renderNode } from '../src/index.js'
import type { RenderInput } from '../src/index.js'
import { AGENT_TOKEN, CA_HASH, SERVER_TOKEN, buildFleet, configOf } from './fixtures.js'

const fleet = buildFleet({ controlPlanes: 3, workers: 2, vipFamily: 4 })
const init = nodeAt(fleet.plan.controlPlanes, 0)
const second = nodeAt(fleet.plan.controlPlanes, 1)
const third = nodeAt(fleet.plan.controlPlanes, 2)
const promoted = nodeAt(fleet.plan.workers, 0)
const worker = nodeAt(fleet.plan.workers, 1)

function nodeAt (ids: readonly string[], index: number): string {
  const id = ids[index]
  if (id === undefined) throw new Error('fleet too small')
  return id
}

function ipOf (nodeId: string): string {
  return fleet.facts.get(nodeId)?.nodeIp ?? ''
}

/** Epoch 2: the init node is removed from the control plane (`how`), and a worker takes its place. */
function laterPlan (how: 'replaced' | 'retired'): Plan {
  return { ...fleet.plan, epoch: 2, controlPlanes: [second, third, promoted], workers: [worker], [how]: [init], notes: [] }
}

function input (plan: Plan, nodeId: string, server: boolean, joinAddress: string): RenderInput {
  return {
    plan,
    nodeId,
    facts: fleet.facts,
    secrets: server ? { serverToken: SERVER_TOKEN, agentToken: AGENT_TOKEN } : { agentToken: AGENT_TOKEN },
    caHash: CA_HASH,
    joinAddress,
    network: { interface: 'eth0', subnet: fleet.subnet }
  }
}

describe.each(['replaced', 'retired'] as const)('a plan whose init node was %s', (how) => {
  const plan = laterPlan(how)

  it('renders the promoted server as a joiner through a Ready server, with no cluster-init', () => {
    const output = renderNode(input(plan, promoted, true, ipOf(second)))
    expect(output.role).toBe('control-plane')
    expect(output.init).toBe(false)
    const config = configOf(output)
    expect(config['cluster-init']).toBeUndefined()
    expect(config.server).toBe(`https://${ipOf(second)}:6443`)
    expect(config.token).toBe(`K10${CA_HASH}::server:${SERVER_TOKEN}`)
  })

  it('renders the other servers unchanged in kind: joiners, the VIP in tls-san', () => {
    const config = configOf(renderNode(input(plan, third, true, ipOf(second))))
    expect(config['cluster-init']).toBeUndefined()
    expect(config['tls-san']).toEqual([fleet.vip])
  })
})

describe('the init node back after it was replaced', () => {
  const plan = laterPlan('replaced')

  it('is a worker: agent token, a server to join, no cluster-init and no init label (S1)', () => {
    const output = renderNode(input(plan, init, false, ipOf(second)))
    expect(output.role).toBe('worker')
    expect(output.init).toBe(false)
    expect(output.service).toBe('k3s-agent')
    const config = configOf(output)
    expect(config['cluster-init']).toBeUndefined()
    expect(config.server).toBe(`https://${ipOf(second)}:6443`)
    expect(String(config.token)).toMatch(/^K10[0-9a-f]{64}::node:/)
    expect(config['node-label']).not.toContain(`${INIT_LABEL}=true`)
    expect(JSON.stringify(config)).not.toContain(SERVER_TOKEN)
  })

  it('may not join through itself or through a server that is gone', () => {
    expect(() => renderNode(input(plan, init, false, ipOf(init)))).toThrow(RenderError)
  })
})

describe('a single server that hands its role over (it left)', () => {
  // Epoch 2: the only server, the init node, retired; a worker took its role and joins through it.
  const plan: Plan = { ...fleet.plan, epoch: 2, controlPlanes: [promoted], workers: [worker, second, third], retired: [init], notes: [] }

  it('its successor joins through it while it still runs', () => {
    const output = renderNode(input(plan, promoted, true, ipOf(init)))
    expect(output.init).toBe(false)
    expect(configOf(output).server).toBe(`https://${ipOf(init)}:6443`)
  })

  it('but never through a worker', () => {
    expect(() => renderNode(input(plan, promoted, true, ipOf(worker)))).toThrow(/nor of a server handing its role over/)
  })
})

describe('plans whose init node is missing for no reason', () => {
  it.each([
    { title: 'epoch 1', plan: { ...fleet.plan, init: worker } },
    { title: 'a later epoch that neither replaced nor retired it', plan: { ...laterPlan('replaced'), replaced: [] } },
    { title: 'epoch 1 claiming a replacement', plan: { ...laterPlan('replaced'), epoch: 1 } }
  ])('are refused: $title', ({ plan }) => {
    let caught: unknown
    try {
      renderNode(input(plan, promoted, true, ipOf(second)))
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(RenderError)
    expect((caught as RenderError).code).toBe('K3S_BAD_PLAN')
  })
})

describe('a plan that replaced the init node before the cluster formed, naming who initialises', () => {
  const plan: Plan = { ...laterPlan('replaced'), reinit: second }

  it('renders that server with cluster-init, no server to join and the init label (one cluster: the old init never starts again)', () => {
    // The CA does not exist before its first start: the short token form, as for the first init node.
    const { caHash: _caHash, joinAddress: _joinAddress, ...initialiser } = input(plan, second, true, '')
    const output = renderNode(initialiser)
    expect(output.init).toBe(true)
    const config = configOf(output)
    expect(config['cluster-init']).toBe(true)
    expect(config.server).toBeUndefined()
    expect(String(config.token)).not.toMatch(/^K10/)
    expect(config['node-label']).toContain(`${INIT_LABEL}=true`)
  })

  it('renders the replaced init node as a worker joining through it, with no cluster-init and no init label', () => {
    const output = renderNode(input(plan, init, false, ipOf(second)))
    expect(output.init).toBe(false)
    const config = configOf(output)
    expect(config['cluster-init']).toBeUndefined()
    expect(config.server).toBe(`https://${ipOf(second)}:6443`)
    expect(config['node-label']).not.toContain(`${INIT_LABEL}=true`)
  })
})

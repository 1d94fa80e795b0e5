// Goal: the join order of DESIGN §7, as a pure function: one initialiser that joins nobody;
// servers one at a time, each after the previous is Ready; workers after the first server; the CA
// hash before any join; servers through a Ready server's node-ip, workers through the VIP once it answers.
import { describe, expect, it } from 'vitest'
import type { Plan } from '@p2p-bootstrap/core'
import { nextJoinStep } from '../src/apply/join-sequence.js'
import type { JoinInput } from '../src/apply/join-sequence.js'

const plan: Plan = {
  clusterId: 'c',
  epoch: 1,
  init: 'cp1',
  controlPlanes: ['cp1', 'cp2', 'cp3'],
  workers: ['w1', 'w2'],
  vip: '10.0.0.100',
  decidedUnder: { expect: 5, controlPlanes: 3 },
  secrets: { serverTokenHash: '', agentTokenHash: '', serverTokenSealed: {}, agentTokenSealed: new Uint8Array() },
  notes: []
}
const ips: Record<string, string> = { cp1: '10.0.0.1', cp2: '10.0.0.2', cp3: '10.0.0.3', w1: '10.0.0.4', w2: '10.0.0.5' }

function step (nodeId: string, ready: string[], extra: Partial<JoinInput> = {}): ReturnType<typeof nextJoinStep> {
  return nextJoinStep({ plan, nodeId, readyServers: new Set(ready), nodeIpOf: id => ips[id], caHashKnown: true, vipAnswers: false, ...extra })
}

describe('join sequencing', () => {
  it('the init node starts at once and joins nobody', () => {
    expect(step('cp1', [])).toEqual({ kind: 'init' })
  })

  it('servers join one at a time, each after the previous one is Ready', () => {
    expect(step('cp2', []).kind).toBe('wait')
    expect(step('cp2', ['cp1'])).toEqual({ kind: 'join', server: '10.0.0.1', viaVip: false })
    expect(step('cp3', ['cp1']).kind).toBe('wait') // cp2 is not Ready yet
    expect(step('cp3', ['cp1', 'cp2'])).toEqual({ kind: 'join', server: '10.0.0.1', viaVip: false })
  })

  it('workers join once the first server is Ready, not before', () => {
    const waiting = step('w1', [])
    expect(waiting.kind).toBe('wait')
    expect(waiting.kind === 'wait' ? waiting.waitingFor : '').toMatch(/first server/)
    expect(step('w2', ['cp1'])).toEqual({ kind: 'join', server: '10.0.0.1', viaVip: false })
  })

  it('nobody joins before the CA hash is published', () => {
    const waiting = step('cp2', ['cp1'], { caHashKnown: false })
    expect(waiting.kind === 'wait' ? waiting.waitingFor : '').toMatch(/CA hash/)
  })

  it('workers join through the VIP once it answers; servers always through a Ready server', () => {
    expect(step('w1', ['cp1'], { vipAnswers: true })).toEqual({ kind: 'join', server: '10.0.0.100', viaVip: true })
    expect(step('cp2', ['cp1'], { vipAnswers: true })).toEqual({ kind: 'join', server: '10.0.0.1', viaVip: false })
  })

  it('a node the plan does not list joins as a worker', () => {
    expect(step('late', ['cp1'])).toEqual({ kind: 'join', server: '10.0.0.1', viaVip: false })
  })

  it('falls back to another Ready server when the init server published no node-ip', () => {
    const result = nextJoinStep({ plan, nodeId: 'w1', readyServers: new Set(['cp1', 'cp2']), nodeIpOf: id => id === 'cp1' ? undefined : ips[id], caHashKnown: true, vipAnswers: false })
    expect(result).toEqual({ kind: 'join', server: '10.0.0.2', viaVip: false })
  })
})

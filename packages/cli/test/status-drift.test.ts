// Goal: `status` says in words where this node's config differs from the shape the committed plan
// was decided under (S8), and that two best-effort plans met (issue 15 finding 5), and says
// nothing when neither happened. Method: formatStatus on a report with and without `configDrift`
// and `planConflict`.
import { describe, expect, it } from 'vitest'
import type { StatusReport } from '@p2p-bootstrap/bootstrapper'
import { formatStatus } from '../src/run/status-view.js'

const report: StatusReport = {
  nodeId: 'node-a',
  clusterId: 'c1',
  clusterName: null,
  hostname: 'edge-1',
  nodeName: 'edge-1-0a1b2c3d',
  phase: 'applied',
  waitingFor: 'nothing',
  expect: 7,
  controlPlanes: 1,
  proposer: null,
  ballot: null,
  epoch: 1,
  role: 'control-plane',
  plan: { clusterId: 'c1', epoch: 1, init: 'node-a', controlPlanes: ['node-a'], workers: [], serverTokenHash: 's', agentTokenHash: 'a', notes: [] },
  part: null,
  members: [],
  addresses: [],
  connections: 0,
  files: [],
  ledgerEntries: 0,
  ledgerBytes: 0,
  startedAtMs: 0,
  reportedAtMs: 0
}

describe('status view: config drift', () => {
  it('shows each setting that differs from the committed plan', () => {
    const text = formatStatus({ ...report, configDrift: ['expect is 7 in this node\'s config but plan epoch 1 was decided under expect 3: no effect'] })
    expect(text).toContain('config differs from the plan: expect is 7 in this node\'s config but plan epoch 1 was decided under expect 3')
  })

  it('says nothing about drift when there is none', () => {
    expect(formatStatus({ ...report, configDrift: [] })).not.toContain('config differs')
    expect(formatStatus(report)).not.toContain('config differs')
  })
})

describe('status view: a plan conflict after two best-effort clusters met', () => {
  it('shows the conflict the core reports', () => {
    const planConflict = 'two parts of the fleet each committed a plan (best effort, …); plan epoch 1 with initialiser node-b lost to the one with initialiser node-a, which every node keeps'
    expect(formatStatus({ ...report, planConflict })).toContain(`CONFLICT: ${planConflict}`)
  })

  it('says nothing when there was none', () => {
    expect(formatStatus(report)).not.toContain('CONFLICT')
  })
})

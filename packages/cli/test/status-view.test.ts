// Goal: `status` shows the names operators know: each member's k3s node name (what `kubectl get
// nodes` lists) and host name beside its short id, the cluster name, and a host name a peer
// published with control characters cannot drive the terminal. Method: formatStatus on a
// hand-built report.
import type { StatusReport } from '@p2p-bootstrap/bootstrapper'
import { describe, expect, it } from 'vitest'
import { formatStatus } from '../src/run/status-view.js'

const SELF = '12D3KooWSelfSelfSelfSelfSelfSelfSelfSelfSelfSelfa3F9'
const OTHER = '12D3KooWOtherOtherOtherOtherOtherOtherOtherOther7Q2b'

const report: StatusReport = {
  nodeId: SELF,
  clusterId: 'cabcdefghijklmnop',
  clusterName: 'shop-floor',
  hostname: 'edge-1',
  nodeName: 'edge-1-951eca0d',
  phase: 'voting',
  waitingFor: 'a quorum of promises',
  expect: 3,
  controlPlanes: 1,
  proposer: null,
  ballot: null,
  epoch: 0,
  role: null,
  plan: null,
  part: null,
  members: [
    { nodeId: SELF, hostname: 'edge-1', nodeName: 'edge-1-951eca0d', address: '192.168.1.21', state: 'self', role: null, phase: 'voting', lastSeenAgoMs: 0, connected: true },
    { nodeId: OTHER, hostname: 'evil\u001b[2Jhost', nodeName: 'evil-2jhost-0c1d2e3f', address: '192.168.1.22', state: 'alive', role: null, phase: 'voting', lastSeenAgoMs: 400, connected: true },
    { nodeId: '12D3KooWNoFactsYetNoFactsYetNoFactsYetNoFacts1234', hostname: null, nodeName: null, address: null, state: 'alive', role: null, phase: null, lastSeenAgoMs: null, connected: false }
  ],
  addresses: ['/ip4/192.168.1.21/tcp/4001'],
  connections: 1,
  files: [],
  ledgerEntries: 4,
  ledgerBytes: 400,
  startedAtMs: 0,
  reportedAtMs: 1000
}

describe('status view: names', () => {
  it('shows the k3s node name and host name of each member, and the cluster name', () => {
    const text = formatStatus(report)
    expect(text).toContain(`node ${SELF} (k3s node edge-1-951eca0d, host edge-1)\n`)
    expect(text).toContain('cluster cabcdefghijklmnop (shop-floor): voting\n')
    expect(text).toMatch(/^node\s+k3s node\s+host\s+address\s+state\s+role\s+phase\s+last seen$/m)
    expect(text).toMatch(/^…Selfa3F9 \(this\)\s+edge-1-951eca0d\s+edge-1\s+192\.168\.1\.21\s+self/m)
    expect(text).toMatch(/^…\S+\s+-\s+-\s+-\s+alive/m)
  })

  it('replaces control characters in a published host name', () => {
    const text = formatStatus(report)
    expect(text).not.toContain('\u001b')
    expect(text).toContain('evil?[2Jhost')
  })
})

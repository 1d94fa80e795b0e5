// Goal: the fleet checks every scenario relies on catch each way a fleet can be wrong, so a
// scenario that passes means something. Method: a consistent five-host fleet written to temporary
// roots (plan.json, config.yaml, kube-vip manifest, shaped as the agent writes them), then one
// defect at a time, each of which must be named.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { K3S_CONFIG_PATH, KUBE_VIP_PATH, PLAN_PATH, fleetProblems, readFleetFiles, tokenSecret } from './fleet-files.js'
import type { FleetExpectation } from './fleet-files.js'

const SERVER = 'a'.repeat(64)
const AGENT = 'b'.repeat(64)
const VIP = '10.9.9.250'
const IDS = ['n1', 'n2', 'n3', 'n4', 'n5']
const EXPECTED: FleetExpectation = { controlPlanes: 3, workers: 2, vip: VIP, nodeIps: IDS.map((_, index) => `10.9.9.${index + 1}`), requireK3sOutput: true }
const PLAN = { clusterId: 'c1', epoch: 1, vip: VIP, init: 'n1', controlPlanes: ['n1', 'n2', 'n3'], workers: ['n4', 'n5'], serverTokenHash: 'hs', agentTokenHash: 'ha', notes: [] }
const MANIFEST = `kind: DaemonSet\nenv:\n  - name: address\n    value: ${VIP}\n`

let dir = ''
afterEach(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
  dir = ''
})

type Defect = (files: Map<string, string>, id: string) => void

function serverConfig (id: string, index: number): string {
  return [
    `agent-token: ${AGENT}`, 'cluster-cidr: 10.42.0.0/16', 'service-cidr: 10.43.0.0/16', 'flannel-backend: vxlan',
    ...(id === 'n1' ? ['cluster-init: true'] : ['server: https://10.9.9.1:6443']),
    `node-ip: 10.9.9.${index + 1}`, `node-name: vm-${id}`, 'tls-san:', `  - ${VIP}`,
    `token: ${id === 'n1' ? SERVER : `K10cafe::server:${SERVER}`}`
  ].join('\n') + '\n'
}

function workerConfig (id: string, index: number): string {
  return [`node-ip: 10.9.9.${index + 1}`, `node-name: vm-${id}`, 'server: https://10.9.9.1:6443', `token: K10cafe::node:${AGENT}`].join('\n') + '\n'
}

/** Writes the consistent fleet, with `defect` applied to host `target`'s files, and reads it back. */
async function fleet (defect?: Defect, target = 'n4'): ReturnType<typeof readFleetFiles> {
  dir = await mkdtemp(join(tmpdir(), 'p2pb-fleet-files-'))
  const roots: string[] = []
  for (const [index, id] of IDS.entries()) {
    const server = PLAN.controlPlanes.includes(id)
    const part = { nodeId: id, role: server ? 'control-plane' : 'worker', init: id === 'n1', controlPlaneIndex: server ? index + 1 : null, joinsAfter: null }
    const files = new Map<string, string>([
      [PLAN_PATH, JSON.stringify({ ...PLAN, thisNode: part }, null, 2)],
      [K3S_CONFIG_PATH, server ? serverConfig(id, index) : workerConfig(id, index)]
    ])
    if (server) files.set(KUBE_VIP_PATH, MANIFEST)
    if (id === target) defect?.(files, id)
    const root = join(dir, id)
    for (const [path, text] of files) {
      await mkdir(dirname(join(root, path)), { recursive: true })
      await writeFile(join(root, path), text)
    }
    if (files.has(K3S_CONFIG_PATH)) await chmod(join(root, K3S_CONFIG_PATH), 0o600)
    roots.push(root)
  }
  return await readFleetFiles(roots)
}

function edit (path: string, change: (text: string) => string): Defect {
  return (files) => { files.set(path, change(files.get(path) ?? '')) }
}

describe('fleet checks', () => {
  it('find nothing wrong with a consistent fleet', async () => {
    expect(fleetProblems(await fleet(), EXPECTED)).toEqual([])
  })

  it('read the secret out of every k3s token form', () => {
    expect(tokenSecret(`K10abc::server:${SERVER}`)).toBe(SERVER)
    expect(tokenSecret(`K10::node:${AGENT}`)).toBe(AGENT)
    expect(tokenSecret(SERVER)).toBe(SERVER)
    expect(tokenSecret(undefined)).toBeNull()
  })

  it.each<[string, Defect, string | undefined, RegExp]>([
    ['a missing plan', (files) => { files.delete(PLAN_PATH) }, 'n4', /no readable/],
    ['a second initialiser', edit(PLAN_PATH, text => text.replace('"init": false', '"init": true')), 'n4', /says init=true|2 hosts are told to run cluster-init/],
    ['another plan', edit(PLAN_PATH, text => text.replace('"hs"', '"other"')), 'n4', /2 different plans/],
    ['a part that contradicts the plan', edit(PLAN_PATH, text => text.replace('"role": "worker"', '"role": "control-plane"')), 'n4', /says it is control-plane/],
    ['cluster-init on a joining server', edit(K3S_CONFIG_PATH, text => text.replace('server: https://10.9.9.1:6443', 'cluster-init: true')), 'n2', /cluster-init is true/],
    ['a server with another agent token', edit(K3S_CONFIG_PATH, text => text.replace(`agent-token: ${AGENT}`, `agent-token: ${'c'.repeat(64)}`)), 'n3', /critical k3s keys/],
    ['a server without the VIP in tls-san', edit(K3S_CONFIG_PATH, text => text.replace(`  - ${VIP}`, '  - 10.9.9.99')), 'n3', /tls-san/],
    ['the server token on a worker', edit(K3S_CONFIG_PATH, text => `${text}# ${SERVER}\n`), 'n4', /hold the server token/],
    ['a worker with the agent-token key', edit(K3S_CONFIG_PATH, text => `${text}agent-token: ${AGENT}\n`), 'n5', /worker holds agent-token/],
    ['a worker with the wrong token', edit(K3S_CONFIG_PATH, text => text.replace(`::node:${AGENT}`, `::node:${'d'.repeat(64)}`)), 'n5', /not the servers' agent token/],
    ['a duplicate node-name', edit(K3S_CONFIG_PATH, text => text.replace('vm-n5', 'vm-n4')), 'n5', /node-names/],
    ['a wrong node-ip', edit(K3S_CONFIG_PATH, text => text.replace('node-ip: 10.9.9.5', 'node-ip: 10.9.9.77')), 'n5', /node-ip is 10\.9\.9\.77/],
    ['a server without the kube-vip manifest', (files) => { files.delete(KUBE_VIP_PATH) }, 'n2', /lacks .*kube-vip/],
    ['a kube-vip manifest that differs', edit(KUBE_VIP_PATH, text => `${text}# changed\n`), 'n2', /differs between servers/],
    ['a kube-vip manifest on a worker', (files) => { files.set(KUBE_VIP_PATH, MANIFEST) }, 'n4', /none belongs/],
    ['a missing config.yaml', (files) => { files.delete(K3S_CONFIG_PATH) }, 'n4', /no etc\/rancher\/k3s\/config.yaml/]
  ])('name %s', async (_name, defect, target, pattern) => {
    const problems = fleetProblems(await fleet(defect, target), EXPECTED)
    expect(problems.join('\n')).toMatch(pattern)
  })

  it('name a config.yaml readable by others', async () => {
    const files = await fleet()
    const [first, ...rest] = files
    if (first?.k3sConfig === null || first === undefined) throw new Error('fixture has a config')
    const loose = { ...first, k3sConfig: { ...first.k3sConfig, mode: 0o644 } }
    expect(fleetProblems([loose, ...rest], EXPECTED).join('\n')).toMatch(/mode 644/)
  })

  it('check k3s output only where it exists unless required', async () => {
    const files = (await fleet()).map(file => ({ ...file, k3sConfig: null, kubeVip: null }))
    expect(fleetProblems(files, { ...EXPECTED, requireK3sOutput: false })).toEqual([])
    expect(fleetProblems(files, EXPECTED).join('\n')).toMatch(/no etc\/rancher\/k3s\/config.yaml/)
  })
})

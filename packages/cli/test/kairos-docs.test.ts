// Goal: a Kairos user pastes a p2p cloud-config from Kairos' own documentation and it runs:
// `role: ""` and `network_token: ""` mean not set, `p2p.ha` (which Kairos' parser ignores) is
// ignored with a warning, every accepted key that asks for something not provided (EdgeVPN's
// data plane first) gets a warning naming the key and what to provide instead, and `external_db`
// is refused with the reason. Method: the documentation's examples as fixture files
// (fixtures/kairos-docs), their token placeholder replaced by a generated token as a user would,
// checked through the real bin (`config check --json`, and `run` for the warnings in its log).
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runBin } from './helpers.js'

const FIXTURES = fileURLToPath(new URL('./fixtures/kairos-docs/', import.meta.url))
const TOKEN = formatToken(generateToken())

let dir = ''
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'p2pb-kairos-docs-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

function cleanEnv (): Record<string, string | undefined> {
  const { P2PB_TOKEN: _token, P2PB_CONFIG_FILE: _file, ...rest } = process.env
  return rest
}

/** The fixture as a user would save it: the token placeholder filled in, optionally edited. */
async function pasted (name: string, edit: (text: string) => string = (text) => text): Promise<string> {
  const text = (await readFile(join(FIXTURES, name), 'utf8')).replaceAll('YOUR_TOKEN_GOES_HERE', TOKEN)
  const path = join(dir, name)
  await writeFile(path, edit(text))
  return path
}

interface CheckReport {
  valid: boolean
  controlPlanes: number
  expect: number | null
  vip: string | null
  role: string | null
  dht: boolean
  tokenInFile: boolean
  warnings: string[]
  error?: { code: string, message: string }
}

async function check (path: string): Promise<{ status: number | null, report: CheckReport }> {
  const result = await runBin(['config', 'check', path, '--json'], '', cleanEnv())
  return { status: result.status, report: JSON.parse(result.stdout) as CheckReport }
}

const NO_TOKEN = (path: string): string => `no network token in ${path}: run takes it from --token or P2PB_TOKEN, or add token: to the file`

describe('the p2p examples of Kairos\' documentation', () => {
  it('installation, the minimum configuration: one control plane, no warning', async () => {
    const { status, report } = await check(await pasted('installation-minimal.yaml'))
    expect(status).toBe(0)
    expect(report).toMatchObject({ valid: true, controlPlanes: 1, expect: null, vip: null, dht: true, tokenInFile: true, warnings: [] })
  })

  it('installation, the p2p block with HA: three control planes, DHT off', async () => {
    const { status, report } = await check(await pasted('installation-intro.yaml'))
    expect(status).toBe(0)
    expect(report).toMatchObject({ valid: true, controlPlanes: 3, dht: false, warnings: [] })
  })

  it('installation, the full example: role "" is unset, and external_db is refused with the reason', async () => {
    const path = await pasted('installation-full.yaml')
    const { status, report } = await check(path)
    expect(status).toBe(2)
    expect(report.error?.message).toBe(`config ${path} line 54: p2p.auto.ha.external_db is not supported: p2p-bootstrap runs k3s with embedded etcd; remove external_db or turn p2p.auto.ha off`)
    // Without the external database, the same file runs: the empty role is no role.
    const edited = await pasted('installation-full.yaml', (text) => text.replace(/^ {5}external_db: .*$/m, ''))
    const { status: editedStatus, report: editedReport } = await check(edited)
    expect(editedStatus).toBe(0)
    expect(editedReport).toMatchObject({ valid: true, role: null, controlPlanes: 3, vip: '192.168.1.110', dht: false })
    expect(editedReport.warnings).toEqual([`config ${edited} line 34: p2p.vpn.env is set, but there is no EdgeVPN here to read it: remove it`])
  })

  it('installation, DNS: warns that EdgeVPN\'s DNS and its settings are not provided', async () => {
    const path = await pasted('installation-dns.yaml')
    const { status, report } = await check(path)
    expect(status).toBe(0)
    expect(report.warnings).toEqual([
      `config ${path} line 7: p2p.dns is true, but EdgeVPN's embedded DNS is not provided: names resolve through the host's own DNS`,
      `config ${path} line 9: p2p.vpn.env is set, but there is no EdgeVPN here to read it: remove it`
    ])
  })

  it('installation, Elastic IP with p2p.ha: ignored as Kairos ignores it, with a warning saying where HA goes', async () => {
    const path = await pasted('installation-kubevip-ha.yaml')
    const { status, report } = await check(path)
    expect(status).toBe(0)
    expect(report).toMatchObject({ valid: true, controlPlanes: 1, vip: '192.168.1.110' })
    expect(report.warnings).toEqual([
      `config ${path} line 19: p2p.ha is ignored, as Kairos' own parser ignores it (Kairos reads HA from p2p.auto.ha): for HA, move master_nodes under p2p.auto.ha (master_nodes: 2 gives 3 control planes)`
    ])
  })

  it('the HA example with KubeVIP: network_token "" is unset, so the token comes at run time', async () => {
    const path = await pasted('multi-node-p2p-ha-kubevip.yaml')
    const { status, report } = await check(path)
    expect(status).toBe(0)
    expect(report).toMatchObject({ valid: true, tokenInFile: false, controlPlanes: 3, vip: '192.168.1.110', dht: false })
    expect(report.warnings).toEqual([NO_TOKEN(path)])
  })

  it('the netboot example', async () => {
    const path = await pasted('p2p-e2e.yaml')
    const { status, report } = await check(path)
    expect(status).toBe(0)
    expect(report).toMatchObject({ valid: true, tokenInFile: false, controlPlanes: 1, dht: false })
    expect(report.warnings).toEqual([NO_TOKEN(path)])
  })

  it('warns that p2p.vpn.create and p2p.vpn.use ask for a VPN that is not provided, and what to provide', async () => {
    const path = await pasted('multi-node-p2p-ha-kubevip.yaml', (text) => text.replace('create: false', 'create: true').replace('use: false', 'use: true'))
    const { status, report } = await check(path)
    expect(status).toBe(0)
    expect(report.warnings.slice(0, 2)).toEqual([
      `config ${path} line 20: p2p.vpn.create is true, but EdgeVPN's data plane is not provided: k3s traffic goes over the nodes' own addresses, so every node must reach the others directly (TCP 6443, 2379-2380 and 10250, UDP 8472); set p2p.vpn.create: false once they can`,
      `config ${path} line 21: p2p.vpn.use is true, but k3s is not routed over a VPN here: it uses each node's own address (node.ip, or the address on kubevip.interface), so those addresses must reach each other (TCP 6443, 2379-2380 and 10250, UDP 8472); set p2p.vpn.use: false`
    ])
  })

  it('run logs each warning at start', async () => {
    const path = await pasted('installation-dns.yaml')
    const result = await runBin(['run', '--config', path, '--once', '--json', '--dry-run', '--expect', '1', '--state-dir', join(dir, 'state'),
      '--root', join(dir, 'root'), '--listen', '/ip4/127.0.0.2/tcp/0', '--node-ip', '127.0.0.2', '--no-mdns', '--no-dht', '--profile', 'test'], '', cleanEnv())
    expect(result.status, result.stderr).toBe(0)
    const warnings = result.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>).filter(line => line.event === 'config:warning')
    expect(warnings.map(line => line.message)).toEqual([
      `config ${path} line 7: p2p.dns is true, but EdgeVPN's embedded DNS is not provided: names resolve through the host's own DNS`,
      `config ${path} line 9: p2p.vpn.env is set, but there is no EdgeVPN here to read it: remove it`
    ])
    expect(warnings[0]).toMatchObject({ level: 40, source: path })
  }, 60_000)
})

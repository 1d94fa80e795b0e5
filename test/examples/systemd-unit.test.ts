// Goal: examples/systemd/p2p-bootstrap.service starts the agent at first boot the way the README
// says, and its sandbox lets the agent write everything it writes. Method: a small parser for
// systemd's unit syntax reads the file; the directives are checked one by one; then one agent
// runs a dry run on loopback (a control plane with a VIP, so every kind of file is written) with
// its root and state dir in a temporary folder, and every file it left there, moved back to where
// it lands on a machine, must lie under a ReadWritePaths= entry. Where `systemd-analyze` is
// installed, `systemd-analyze verify` checks the syntax as systemd reads it.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DATA_DIR_DEFAULT } from '@p2p-bootstrap/k3s'
import { DEFAULT_STATE_DIR, consentPath, createBootstrapper, gateDropIn } from '@p2p-bootstrap/bootstrapper'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { afterEach, describe, expect, it } from 'vitest'
import { RUNTIME_V8_OPTIONS } from '../../scripts/runtime-profile.mjs'
import { filesUnder, readExample } from './kit.js'

const UNIT = 'systemd/p2p-bootstrap.service'
const CONFIG_PATH = '/etc/p2p-bootstrap/config.yaml'

/** A unit file: section name → directive → every value given, in order (an empty value resets). */
type Unit = Map<string, Map<string, string[]>>

/**
 * Reads systemd's unit syntax (systemd.syntax(7)): `[Section]` headers, `Key=value` lines,
 * comments starting with `#` or `;`, a trailing backslash continuing a line; a directive given
 * again adds a value, and an empty assignment resets the list.
 */
function parseUnit (text: string): Unit {
  const unit: Unit = new Map()
  let section: Map<string, string[]> | undefined
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = (pending + raw).trim()
    pending = ''
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    if (line.endsWith('\\')) { pending = `${line.slice(0, -1)} `; continue }
    const header = /^\[([^\]]+)\]$/.exec(line)
    if (header !== null) {
      section = new Map()
      unit.set(header[1] ?? '', section)
      continue
    }
    const equals = line.indexOf('=')
    if (section === undefined || equals < 1) throw new Error(`not a unit file line: ${JSON.stringify(line)}`)
    const key = line.slice(0, equals).trim()
    const value = line.slice(equals + 1).trim()
    section.set(key, value === '' ? [] : [...(section.get(key) ?? []), value])
  }
  return unit
}

function values (unit: Unit, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? []
}

function one (unit: Unit, section: string, key: string): string | undefined {
  const given = values(unit, section, key)
  return given.length === 1 ? given[0] : undefined
}

/** A list directive (space-separated, each entry possibly prefixed with '-'): the entries. */
function entries (unit: Unit, section: string, key: string): string[] {
  return values(unit, section, key).flatMap(value => value.split(/\s+/)).filter(entry => entry !== '')
}

/** systemd time spans as this file writes them: `5s`, `2min`, or bare seconds. */
function seconds (span: string | undefined): number {
  const match = /^(\d+)\s*(s|sec|min)?$/.exec(span ?? '')
  if (match === null) return Number.NaN
  return Number(match[1]) * (match[2] === 'min' ? 60 : 1)
}

function covers (directory: string, path: string): boolean {
  return path === directory || path.startsWith(`${directory}/`)
}

const analyzerInstalled = await new Promise<boolean>((resolve) => {
  execFile('systemd-analyze', ['--version'], { timeout: 10_000 }, (error) => { resolve(error === null) })
})

let dir = ''
afterEach(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
  dir = ''
})

describe('examples/systemd/p2p-bootstrap.service', () => {
  it('runs the agent with the config file after the network is online, restarting on failure', async () => {
    const unit = parseUnit(await readExample(UNIT))
    expect(one(unit, 'Service', 'ExecStart')).toBe(`/usr/local/bin/p2p-bootstrap run --config ${CONFIG_PATH}`)
    expect(entries(unit, 'Unit', 'After')).toContain('network-online.target')
    expect(entries(unit, 'Unit', 'Wants')).toContain('network-online.target')
    // The agent starts k3s itself: no ordering or dependency on k3s' own units.
    for (const key of ['After', 'Before', 'Wants', 'Requires', 'BindsTo', 'PartOf', 'Requisite']) {
      expect(entries(unit, 'Unit', key).filter(name => name.startsWith('k3s')), key).toEqual([])
    }
    expect(one(unit, 'Service', 'Restart')).toBe('on-failure')
    const restartSec = seconds(one(unit, 'Service', 'RestartSec'))
    expect(restartSec).toBeGreaterThanOrEqual(2) // above the default start limit's pace (5 in 10 s)
    expect(restartSec).toBeLessThanOrEqual(60)
    // A bad config (2) or token (3) needs a person; every other failure is retried.
    expect(entries(unit, 'Service', 'RestartPreventExitStatus').sort()).toEqual(['2', '3'])
    expect(entries(unit, 'Install', 'WantedBy')).toEqual(['multi-user.target'])
  })

  it('gives the agent the runtime profile the single executable carries', async () => {
    const unit = parseUnit(await readExample(UNIT))
    const nodeOptions = values(unit, 'Service', 'Environment')
      .filter(assignment => assignment.startsWith('NODE_OPTIONS='))
      .map(assignment => assignment.slice('NODE_OPTIONS='.length))
    expect(nodeOptions).toHaveLength(1)
    expect(nodeOptions[0]?.split(/\s+/)).toEqual([...RUNTIME_V8_OPTIONS])
  })

  it('keeps the state dir where the agent looks by default, 0700, and sandboxes the rest', async () => {
    const unit = parseUnit(await readExample(UNIT))
    expect(one(unit, 'Service', 'StateDirectory')).toBe('p2p-bootstrap')
    expect(one(unit, 'Service', 'StateDirectoryMode')).toBe('0700')
    expect(`/var/lib/${one(unit, 'Service', 'StateDirectory') ?? ''}`).toBe(DEFAULT_STATE_DIR)
    const expected: Record<string, string> = {
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      NoNewPrivileges: 'yes',
      LockPersonality: 'yes',
      RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6 AF_NETLINK'
    }
    for (const [key, value] of Object.entries(expected)) expect(one(unit, 'Service', key), key).toBe(value)
    // Left out on purpose (the file says why): each would break mDNS, the overlay or systemctl.
    for (const key of ['PrivateNetwork', 'IPAddressDeny', 'User', 'DynamicUser', 'PrivateUsers', 'MemoryDenyWriteExecute', 'CapabilityBoundingSet']) {
      expect(values(unit, 'Service', key), key).toEqual([])
    }
  })

  it('ReadWritePaths covers every file a dry-run agent writes, and each path exists before the sandbox is set up', async () => {
    const unit = parseUnit(await readExample(UNIT))
    const writable = entries(unit, 'Service', 'ReadWritePaths')
    expect(writable.every(path => path.startsWith('/'))).toBe(true) // none optional: a missing one must fail loudly

    dir = await mkdtemp(join(tmpdir(), 'p2pb-example-unit-'))
    const root = join(dir, 'root')
    const stateDir = join(dir, 'state')
    const node = createBootstrapper({
      token: formatToken(generateToken({ expect: 1, controlPlanes: 1, vip: '127.0.0.100' })),
      stateDir,
      root,
      listen: ['/ip4/127.0.0.41/tcp/0'],
      mdns: false,
      dht: false,
      profile: 'test',
      dryRun: true,
      node: { nodeIp: '127.0.0.41', hostname: 'unit-test' }
    })
    let stateFiles: string[]
    try {
      await node.start({ signal: AbortSignal.timeout(20_000) })
      await node.waitForApplied({ signal: AbortSignal.timeout(20_000) })
      // While it runs: the status socket is in the state dir too.
      stateFiles = [...(await filesUnder(stateDir)).keys()]
    } finally {
      await node.stop()
    }
    const rootFiles = [...(await filesUnder(root)).keys()].map(path => `/${path}`)
    expect(rootFiles).toContain('/etc/rancher/k3s/config.yaml')
    expect(rootFiles).toContain(`${DATA_DIR_DEFAULT}/server/manifests/kube-vip.yaml`)
    expect(stateFiles).toContain('agent.sock')
    const written = [...rootFiles, ...stateFiles.map(path => `${DEFAULT_STATE_DIR}/${path}`)]
    // `k3s kubectl` (the readiness probe) unpacks k3s' binaries under its data dir on first use.
    written.push(`${DATA_DIR_DEFAULT}/data`)
    // A dry run starts nothing; an agent that starts k3s also writes the start gate and its consent.
    written.push(gateDropIn('k3s').path, gateDropIn('k3s-agent').path, consentPath('k3s'), consentPath('k3s-agent'))
    for (const path of written) expect(writable.some(directory => covers(directory, path)), path).toBe(true)
    // The config (it holds the token) is only read: kept read-only inside its writable folder.
    expect(written).not.toContain(CONFIG_PATH)
    expect(entries(unit, 'Service', 'ReadOnlyPaths').map(path => path.replace(/^-/, ''))).toContain(CONFIG_PATH)

    // Each ReadWritePaths entry must exist when the sandbox is set up: the state dir by
    // StateDirectory=, the config's folder because the config is in it, the others by ExecStartPre.
    const made = values(unit, 'Service', 'ExecStartPre')
      .map(line => /^\+\/bin\/mkdir -p (.+)$/.exec(line)?.[1])
      .flatMap(list => list?.split(/\s+/) ?? [])
    for (const directory of writable) {
      const exists = directory === DEFAULT_STATE_DIR || covers(directory, CONFIG_PATH) || made.includes(directory)
      expect(exists, `${directory} exists before the sandbox is set up`).toBe(true)
    }
  }, 60_000)

  // Skipped where systemd-analyze is not installed (containers without systemd, other OSes).
  it.skipIf(!analyzerInstalled)('passes systemd-analyze verify (skipped without systemd-analyze)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-example-unit-'))
    // The agent binary is not installed on a test machine; verify checks ExecStart= is executable,
    // so a copy names an executable that exists, and nothing else changes.
    const text = await readExample(UNIT)
    const copy = join(dir, 'p2p-bootstrap.service')
    await writeFile(copy, text.replace('ExecStart=/usr/local/bin/p2p-bootstrap ', `ExecStart=${process.execPath} `))
    const result = await new Promise<{ code: number, stderr: string }>((resolve) => {
      execFile('systemd-analyze', ['verify', copy], { timeout: 30_000 }, (error, _stdout, stderr) => {
        resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), stderr })
      })
    })
    expect(result.stderr.trim()).toBe('')
    expect(result.code).toBe(0)
  })
})

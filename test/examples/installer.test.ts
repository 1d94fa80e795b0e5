// Goal: examples/installer/image-installer.ts works as its comment says: each installer takes
// part in the bootstrap, receives its node's rendered files through `apply.onOutput`, writes them
// under its own target folder with the modes given, with the start gate's drop-ins for both k3s
// units; it says to enable p2p-bootstrap there and never to enable k3s (the agent starts k3s at each
// boot), and returns once done; the agent itself writes no k3s file, and starts nothing. Method: the
// example's `installNode` runs three times in this process on loopback (127.0.0.31–33, no mDNS or
// DHT), each with its own target, state dir and agent root in one temporary folder; node 0 starts
// first and the others get its address as their one static peer. PATH is given a `systemctl`
// and a `k3s` that fail loudly, so any attempt to start k3s would show as an error.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { CONSENT_DIR, GATE_DROP_IN_NAME } from '@p2p-bootstrap/bootstrapper'
import { parse } from 'yaml'
import { afterEach, describe, expect, it } from 'vitest'
import { installNode } from '../../examples/installer/image-installer.js'
import type { InstallerSettings, InstallResult } from '../../examples/installer/image-installer.js'
import { waitFor } from '../helpers/wait.js'
import { filesUnder, track } from './kit.js'
import type { Tracked } from './kit.js'

const VIP = '127.0.0.100'
const CONFIG = 'etc/rancher/k3s/config.yaml'
const MANIFEST = 'var/lib/rancher/k3s/server/manifests/kube-vip.yaml'

let dir = ''
let stop = new AbortController()
let runs: Array<Tracked<InstallResult>> = []
const savedPath = process.env.PATH

afterEach(async () => {
  stop.abort()
  await Promise.allSettled(runs.map(async run => await run.promise))
  runs = []
  stop = new AbortController()
  if (savedPath === undefined) delete process.env.PATH
  else process.env.PATH = savedPath
  if (dir !== '') await rm(dir, { recursive: true, force: true })
  dir = ''
})

/** Executables that record the call and fail: the installer must never start or probe k3s. */
async function tripwires (folder: string): Promise<string> {
  await mkdir(folder, { recursive: true })
  for (const name of ['systemctl', 'k3s']) {
    const path = join(folder, name)
    await writeFile(path, `#!/bin/sh\necho "${name} $*" >> "${join(folder, 'calls.log')}"\nexit 1\n`)
    await chmod(path, 0o755)
  }
  return folder
}

describe('examples/installer/image-installer.ts', () => {
  it('three installers write their node\'s files under their own target, with the modes given, and start nothing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-example-installer-'))
    const bin = await tripwires(join(dir, 'bin'))
    process.env.PATH = `${bin}:${savedPath ?? ''}`
    const token = formatToken(generateToken({ expect: 3, controlPlanes: 1, vip: VIP }))
    const lines: string[][] = [[], [], []]
    const node = (index: number): { target: string, stateDir: string, agentRoot: string } => ({
      target: join(dir, `node-${index}`, 'image'),
      stateDir: join(dir, `node-${index}`, 'state'),
      agentRoot: join(dir, `node-${index}`, 'agent-root')
    })
    const settingsOf = (index: number, peers: readonly string[], onListening?: (addresses: readonly string[]) => void): InstallerSettings => ({
      token,
      ...node(index),
      listen: [`/ip4/127.0.0.${31 + index}/tcp/0`],
      peers,
      nodeIp: `127.0.0.${31 + index}`,
      acceptLocalNodeIp: true,
      discovery: false,
      profile: 'test',
      lingerMs: 15_000,
      log: (line) => { lines[index]?.push(line) },
      ...(onListening === undefined ? {} : { onListening })
    })
    let seed: readonly string[] = []
    runs.push(track(installNode(settingsOf(0, [], (addresses) => { seed = addresses }), stop.signal)))
    const first = runs[0]
    await waitFor(() => { first?.check(); return seed.length > 0 }, { timeoutMs: 20_000, what: 'node 0 to listen' })
    for (const index of [1, 2]) runs.push(track(installNode(settingsOf(index, seed.slice(0, 1)), stop.signal)))
    const results = await Promise.all(runs.map(async run => await run.promise))

    expect(results.filter(result => result.init)).toHaveLength(1)
    const servers = results.filter(result => result.role === 'control-plane')
    expect(servers).toHaveLength(1)
    expect(servers[0]?.service).toBe('k3s')
    for (const result of results.filter(result => result.role === 'worker')) expect(result.service).toBe('k3s-agent')
    const serverIndex = results.findIndex(result => result.role === 'control-plane')
    const serverConfig = parse(await readFile(join(node(serverIndex).target, CONFIG), 'utf8')) as Record<string, unknown>
    const serverToken = String(serverConfig.token)

    for (const [index, result] of results.entries()) {
      const { target, agentRoot } = node(index)
      // Exactly the handed files are under the target, each with the mode it was given.
      const onDisk = await filesUnder(target)
      const handed = new Map(result.files.map(file => [relative(target, file.path), file.mode]))
      expect(onDisk).toEqual(handed)
      // The start gate is in the image: an enabled k3s unit waits for the agent's consent at boot.
      for (const service of ['k3s', 'k3s-agent']) {
        expect(await readFile(join(target, `etc/systemd/system/${service}.service.d/${GATE_DROP_IN_NAME}`), 'utf8'))
          .toContain(`ExecCondition=/bin/sh -c 'test -e ${CONSENT_DIR}/${service}'`)
      }
      expect(onDisk.get(CONFIG)).toBe(0o600)
      expect(result.files.find(file => file.path.endsWith(CONFIG))?.secret).toBe(true)
      if (result.role === 'control-plane') {
        expect(onDisk.get(MANIFEST)).toBe(0o644)
        expect(await readFile(join(target, MANIFEST), 'utf8')).toContain(VIP)
      } else {
        expect(onDisk.has(MANIFEST)).toBe(false)
        const text = await readFile(join(target, CONFIG), 'utf8')
        expect(text).not.toContain(serverToken) // workers get the agent token only
      }
      // The agent wrote no k3s file itself: under its own root there is only its plan view.
      expect([...(await filesUnder(agentRoot)).keys()]).toEqual(['etc/p2p-bootstrap/plan.json'])
      // It says to enable the agent, never k3s, and never prints a token.
      const log = lines[index] ?? []
      expect(log).toContain(`enable p2p-bootstrap.service in the image (systemctl --root=${target} enable p2p-bootstrap): it starts ${result.service} at each boot; never enable ${result.service} itself`)
      expect(log.filter(line => new RegExp(`systemctl [^;)]*enable ${result.service}\\b`).test(line))).toEqual([])
      expect(log.join('\n')).not.toContain(serverToken)
      expect(log.join('\n')).not.toContain(String(serverConfig['agent-token']))
    }
    // Nothing tried to start or probe k3s.
    expect(await stat(join(bin, 'calls.log')).then(() => true, () => false)).toBe(false)
  }, 90_000)
})

// Goal: `p2p-bootstrap kubeconfig` makes admin keys safely (0600, never over an existing file
// unless --force), fetches the sealed kubeconfig from the agent socket and opens it with the key,
// prints it sealed for carrying elsewhere and opens it there, and turns every failure (no agent,
// nothing published, wrong key, loose key file, bad flags) into one line and its exit status.
// Method: main(argv, io) in-process with a captured io; a real StatusServer on a socket in a
// mkdtemp dir, whose provider returns a value sealed in the test to the key keygen wrote.
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  STATUS_SOCKET_NAME, StatusServer, adminKubeconfig, parseAdminPrivateKey, sealKubeconfig
} from '@p2p-bootstrap/bootstrapper'
import type { StatusReport } from '@p2p-bootstrap/bootstrapper'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EXIT_STATUS, main } from '../src/index.js'
import { capturedIo } from './helpers.js'

const k3sYaml = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdApjMlZ5ZG1WeUxXTmhRREUzTURBd01EQXdNREF3SGhjTk1qUXdNVEF4TURBd01EQXdXaGNOTXpRd01UQXhNREF3Ck1EQXdXakFqCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lJRmFrZUNsaWVudENlcnREQUtCZ2dxaGtqT1BRUURBakFqTVNFd0h3WURWUVFEREJocgotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUZha2VLZXlEYXRhRmFrZUtleURhdGFGYWtlS2V5RGF0YUZha2VLZXlvQW9HQ0NxR1NNNDkKLS0tLS1FTkQgRUMgUFJJVkFURSBLRVktLS0tLQo=
`
const kubeconfig = adminKubeconfig(k3sYaml, 'https://10.20.0.5:6443')
const entropy = (length: number): Uint8Array => new Uint8Array(randomBytes(length))

async function run (argv: string[], stdin?: string) {
  const io = capturedIo(stdin === undefined ? {} : { stdin })
  const status = await main(argv, io)
  return { status, stdout: io.stdout(), stderr: io.stderr() }
}

async function modeOf (path: string): Promise<number> {
  return (await stat(path)).mode & 0o777
}

let dir = ''
let server: StatusServer | undefined

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2pb-kubeconfig-cli-'))
})

afterEach(async () => {
  await server?.stop()
  server = undefined
  await rm(dir, { recursive: true, force: true })
})

/** keygen into `dir`, returning the key file and the public key line it printed. */
async function keygen (name: string): Promise<{ keyPath: string, publicKey: string }> {
  const keyPath = join(dir, name)
  const result = await run(['kubeconfig', 'keygen', '--out', keyPath])
  expect(result.status).toBe(EXIT_STATUS.ok)
  return { keyPath, publicKey: result.stdout.trim() }
}

/** A running agent socket whose provider hands out `sealed` (or nothing). */
async function serveAgent (sealed: Uint8Array | null): Promise<string> {
  const stateDir = join(dir, 'state')
  await mkdir(stateDir, { mode: 0o700 })
  server = new StatusServer(join(stateDir, STATUS_SOCKET_NAME), () => ({}) as unknown as StatusReport, {
    kubeconfig: () => sealed === null ? null : { nodeId: '12D3KooWControlPlane', sealed }
  })
  await server.start()
  return stateDir
}

describe('kubeconfig keygen', () => {
  it('writes the private key 0600 and prints the public key with where to put it', async () => {
    const keyPath = join(dir, 'admin.key')
    const result = await run(['kubeconfig', 'keygen', '--out', keyPath])
    expect(result.status).toBe(EXIT_STATUS.ok)
    expect(result.stdout).toMatch(/^p2pb-admin1:12D3KooW\S+\n$/)
    expect(result.stderr).toContain(`admin-keys:\n    - ${result.stdout.trim()}`)
    expect(await modeOf(keyPath)).toBe(0o600)
    const key = await parseAdminPrivateKey(await readFile(keyPath, 'utf8'))
    expect(key.publicKey).toBe(result.stdout.trim())
  })

  it('refuses to overwrite an existing file unless --force', async () => {
    const { keyPath, publicKey } = await keygen('admin.key')
    const before = await readFile(keyPath, 'utf8')
    const refused = await run(['kubeconfig', 'keygen', '--out', keyPath])
    expect(refused.status).toBe(EXIT_STATUS.usage)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatch(/exists and was left as it is: .*--force/)
    expect(await readFile(keyPath, 'utf8')).toBe(before)

    await chmod(keyPath, 0o644)
    const forced = await run(['kubeconfig', 'keygen', '--out', keyPath, '--force'])
    expect(forced.status).toBe(EXIT_STATUS.ok)
    expect(forced.stdout.trim()).not.toBe(publicKey)
    expect(await modeOf(keyPath)).toBe(0o600)
  })

  it('needs --out', async () => {
    const result = await run(['kubeconfig', 'keygen'])
    expect(result.status).toBe(EXIT_STATUS.usage)
    expect(result.stderr).toMatch(/--out <file>/)
  })
})

describe('kubeconfig get and open', () => {
  it('fetches the sealed kubeconfig from the agent and opens it with the key', async () => {
    const { keyPath, publicKey } = await keygen('admin.key')
    const stateDir = await serveAgent(sealKubeconfig(kubeconfig, [publicKey], entropy))
    const printed = await run(['kubeconfig', 'get', '--key', keyPath, '--state-dir', stateDir])
    expect(printed).toEqual({ status: EXIT_STATUS.ok, stdout: kubeconfig, stderr: '' })

    const outPath = join(dir, 'cluster.yaml')
    const written = await run(['kubeconfig', 'get', '--key', keyPath, '--state-dir', stateDir, '--out', outPath])
    expect(written.status).toBe(EXIT_STATUS.ok)
    expect(written.stdout).toBe('')
    expect(await readFile(outPath, 'utf8')).toBe(kubeconfig)
    expect(await modeOf(outPath)).toBe(0o600)

    const again = await run(['kubeconfig', 'get', '--key', keyPath, '--state-dir', stateDir, '--out', outPath])
    expect(again.status).toBe(EXIT_STATUS.usage)
  })

  it('prints the value sealed, and opens it elsewhere from a file or stdin', async () => {
    const { keyPath, publicKey } = await keygen('admin.key')
    const stateDir = await serveAgent(sealKubeconfig(kubeconfig, [publicKey], entropy))
    const sealed = await run(['kubeconfig', 'get', '--sealed', '--state-dir', stateDir])
    expect(sealed.status).toBe(EXIT_STATUS.ok)
    expect(sealed.stdout).toMatch(/^[A-Za-z0-9+/]+=*\n$/)
    expect(sealed.stdout).not.toContain('client-key-data')

    const sealedPath = join(dir, 'sealed.txt')
    await writeFile(sealedPath, sealed.stdout)
    expect(await run(['kubeconfig', 'open', '--key', keyPath, '--in', sealedPath])).toEqual({ status: EXIT_STATUS.ok, stdout: kubeconfig, stderr: '' })
    expect(await run(['kubeconfig', 'open', '--key', keyPath], sealed.stdout)).toEqual({ status: EXIT_STATUS.ok, stdout: kubeconfig, stderr: '' })
  })

  it('refuses a key the kubeconfig was not sealed to, naming the keys it was', async () => {
    const admin = await keygen('admin.key')
    const other = await keygen('other.key')
    const stateDir = await serveAgent(sealKubeconfig(kubeconfig, [admin.publicKey], entropy))
    const result = await run(['kubeconfig', 'get', '--key', other.keyPath, '--state-dir', stateDir])
    expect(result.status).toBe(EXIT_STATUS.failed)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(`not sealed to admin key ${other.publicKey}; it is sealed to ${admin.publicKey}`)
  })

  it('says so when no agent runs with that state dir', async () => {
    const { keyPath } = await keygen('admin.key')
    const result = await run(['kubeconfig', 'get', '--key', keyPath, '--state-dir', join(dir, 'nowhere')])
    expect(result.status).toBe(EXIT_STATUS.failed)
    expect(result.stderr).toMatch(/^p2p-bootstrap: cannot read the sealed kubeconfig from .*agent\.sock: no agent is running with this state dir/)
  })

  it('says why nothing is published yet', async () => {
    const { keyPath } = await keygen('admin.key')
    const stateDir = await serveAgent(null)
    const result = await run(['kubeconfig', 'get', '--key', keyPath, '--state-dir', stateDir])
    expect(result.status).toBe(EXIT_STATUS.failed)
    expect(result.stderr).toMatch(/no admin keys configured \(admin-keys in the config\), or no control plane is Ready yet/)
  })

  it('refuses a key file other users can read, before asking the agent', async () => {
    const { keyPath } = await keygen('admin.key')
    await chmod(keyPath, 0o640)
    const result = await run(['kubeconfig', 'get', '--key', keyPath, '--state-dir', join(dir, 'nowhere')])
    expect(result.status).toBe(EXIT_STATUS.failed)
    expect(result.stderr).toContain(`chmod 600 ${keyPath}`)
  })

  it.each<[string, string[], string | undefined, number, RegExp]>([
    ['get with neither --key nor --sealed', ['get'], undefined, EXIT_STATUS.usage, /pass --key FILE .* or --sealed/],
    ['get with both --key and --sealed', ['get', '--sealed', '--key', 'k'], undefined, EXIT_STATUS.usage, /takes no --key/],
    ['open without --key', ['open'], undefined, EXIT_STATUS.usage, /--key <file>/],
    ['open with a missing key file', ['open', '--key', 'missing.key'], 'AAAA', EXIT_STATUS.failed, /no admin key file at .*missing\.key/],
    ['open with text that is not base64', ['open', '--key', '$KEY'], 'not *base64*', EXIT_STATUS.failed, /not base64/],
    ['open with a public key as key file', ['open', '--key', '$PUB'], 'AAAA', EXIT_STATUS.usage, /this is a public key/]
  ])('reports %s', async (_label, args, stdin, status, message) => {
    const { keyPath, publicKey } = await keygen('admin.key')
    const pubPath = join(dir, 'admin.pub')
    await writeFile(pubPath, `${publicKey}\n`, { mode: 0o600 })
    const argv = args.map((arg) => arg === '$KEY' ? keyPath : arg === '$PUB' ? pubPath : arg === 'missing.key' ? join(dir, arg) : arg)
    const result = await run(['kubeconfig', ...argv], stdin)
    expect(result.status).toBe(status)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
  })
})

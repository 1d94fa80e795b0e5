// Goal: the admin kubeconfig is handed out only as sealed boxes that the listed admin keys, and
// only they, can open; k3s' file is rewritten to the VIP and checked; bad keys, bad files and
// damaged values each get their own error code; the status socket serves the sealed value.
// Method: a realistic k3s.yaml fixture (fake certificate data), keys made by generateAdminKey,
// values sealed and opened in-process, bytes flipped by hand, and a real StatusServer on a
// socket in a mkdtemp dir, asked with fetchSealedKubeconfig.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { encodeCanonical, nodeKeyFromSeed } from '@p2p-bootstrap/core'
import { decode } from 'cborg'
import { parse } from 'yaml'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ADMIN_KEYS_MAX, KUBECONFIG_BYTES_MAX, KubeconfigError, SEALED_KUBECONFIG_BYTES_MAX, StatusServer,
  adminKubeconfig, fetchSealedKubeconfig, fetchStatus, formatSealedKubeconfig, generateAdminKey,
  openKubeconfig, parseAdminPrivateKey, parseAdminPublicKey, parseSealedKubeconfigText, sealKubeconfig
} from '../src/index.js'
import type { AdminKey, KubeconfigErrorCode, StatusReport } from '../src/index.js'

const k3sYaml = readFileSync(new URL('./fixtures/k3s.yaml', import.meta.url), 'utf8')
const vipUrl = 'https://192.168.1.250:6443'
const entropy = (length: number): Uint8Array => new Uint8Array(randomBytes(length))

async function newAdminKey (): Promise<AdminKey> {
  return await parseAdminPrivateKey((await generateAdminKey()).privateKeyText)
}

/** Runs `action` and returns the KubeconfigError it throws; fails the test otherwise. */
function kubeconfigError (action: () => unknown): KubeconfigError {
  try {
    action()
  } catch (err) {
    expect(err).toBeInstanceOf(KubeconfigError)
    return err as KubeconfigError
  }
  throw new Error('expected a KubeconfigError, nothing was thrown')
}

async function kubeconfigErrorAsync (action: () => Promise<unknown>): Promise<KubeconfigError> {
  const err = await action().then(() => undefined, (error: unknown) => error)
  expect(err).toBeInstanceOf(KubeconfigError)
  return err as KubeconfigError
}

interface KubeconfigShape {
  clusters: Array<{ name: string, cluster: Record<string, string> }>
  users: Array<{ name: string, user: Record<string, string> }>
  contexts: Array<{ name: string, context: Record<string, string> }>
  'current-context': string
}

describe('adminKubeconfig', () => {
  it('points every cluster at the VIP and keeps the credentials as they were', () => {
    const original = parse(k3sYaml) as KubeconfigShape
    const rewritten = parse(adminKubeconfig(k3sYaml, vipUrl)) as KubeconfigShape
    expect(original.clusters[0]?.cluster.server).toBe('https://127.0.0.1:6443')
    expect(rewritten.clusters[0]?.cluster.server).toBe(vipUrl)
    expect(rewritten.clusters[0]?.cluster['certificate-authority-data']).toBe(original.clusters[0]?.cluster['certificate-authority-data'])
    expect(rewritten.users).toEqual(original.users)
    expect(rewritten.contexts).toEqual(original.contexts)
    expect(rewritten['current-context']).toBe('default')
  })

  it('rewrites every cluster, and takes a bracketed IPv6 VIP', () => {
    const two = k3sYaml.replace('clusters:\n', 'clusters:\n- cluster:\n    server: https://10.0.0.9:6443\n  name: other\n')
    const rewritten = parse(adminKubeconfig(two, 'https://[fd00::10]:6443')) as KubeconfigShape
    expect(rewritten.clusters.map((entry) => entry.cluster.server)).toEqual(['https://[fd00::10]:6443', 'https://[fd00::10]:6443'])
  })

  it('changes only the server line of what k3s wrote', () => {
    expect(adminKubeconfig(k3sYaml, vipUrl)).toBe(k3sYaml.replace('server: https://127.0.0.1:6443', `server: ${vipUrl}`))
  })

  it.each<[string, string, RegExp]>([
    ['not YAML', 'clusters: [\n', /not valid YAML/],
    ['a list', '- a\n- b\n', /not a kubeconfig/],
    ['no clusters', k3sYaml.replace(/^clusters:\n(?:[- ] .*\n)+/m, ''), /not a kubeconfig at clusters/],
    ['empty users', k3sYaml.replace(/^users:\n(?:[- ] .*\n)+/m, 'users: []\n'), /not a kubeconfig at users/],
    ['no contexts', k3sYaml.replace(/^contexts:\n(?:[- ] .*\n)+/m, ''), /not a kubeconfig at contexts/],
    ['a cluster without server', k3sYaml.replace(/^ {4}server: .*\n/m, ''), /at clusters\.0\.cluster\.server/],
    ['a context naming a missing user', k3sYaml.replace('    user: default\n', '    user: admin\n'), /context "default" naming user "admin"/],
    ['a missing current context', k3sYaml.replace('current-context: default', 'current-context: prod'), /current-context "prod"/],
    ['another kind', k3sYaml.replace('kind: Config', 'kind: Pod'), /at kind/]
  ])('refuses %s', (_label, text, message) => {
    const error = kubeconfigError(() => adminKubeconfig(text, vipUrl))
    expect(error.code).toBe('KUBECONFIG_INVALID')
    expect(error.message).toMatch(message)
    expect(error.message).toMatch(/k3s\.yaml/)
  })

  it('refuses a file over the bound before parsing it', () => {
    const padded = `${k3sYaml}# ${'x'.repeat(KUBECONFIG_BYTES_MAX)}\n`
    expect(kubeconfigError(() => adminKubeconfig(padded, vipUrl)).code).toBe('KUBECONFIG_OVERSIZED')
  })

  it.each(['http://192.168.1.250:6443', 'https://fd00::10:6443', '192.168.1.250:6443', ''])('refuses server address %j', (url) => {
    expect(kubeconfigError(() => adminKubeconfig(k3sYaml, url)).code).toBe('KUBECONFIG_BAD_SERVER_URL')
  })
})

describe('admin keys', () => {
  it('generates a key whose private text gives back its public key', async () => {
    const generated = await generateAdminKey()
    expect(generated.publicKey).toMatch(/^p2pb-admin1:12D3KooW[1-9A-HJ-NP-Za-km-z]+$/)
    expect(generated.privateKeyText).toMatch(/^# p2p-bootstrap admin key: keep it secret/)
    expect(generated.privateKeyText).toMatch(/^p2pb-admin-secret1:[A-Za-z0-9+/=]+$/m)
    const key = await parseAdminPrivateKey(generated.privateKeyText)
    expect(key.publicKey).toBe(generated.publicKey)
    expect(parseAdminPublicKey(`  ${generated.publicKey}\n`)).toBe(generated.publicKey)
  })

  it('makes a new key each time', async () => {
    expect((await generateAdminKey()).publicKey).not.toBe((await generateAdminKey()).publicKey)
  })

  it.each<[string, string, RegExp]>([
    ['empty', '  ', /is empty/],
    ['a node id', nodeKeyFromSeed(new Uint8Array(32).fill(7)).nodeId, /is a node id, not an admin key/],
    ['another prefix', 'p2pb-admin2:12D3KooWxyz', /does not start with p2pb-admin1:/],
    ['a truncated id', 'p2pb-admin1:12D3KooWAbc', /does not hold an Ed25519 public key/],
    ['an ssh key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG admin@laptop', /does not start with/]
  ])('refuses a public key that is %s, saying how to make one', (_label, text, message) => {
    const error = kubeconfigError(() => parseAdminPublicKey(text))
    expect(error.code).toBe('KUBECONFIG_BAD_ADMIN_KEY')
    expect(error.message).toMatch(message)
    expect(error.message).toMatch(/p2p-bootstrap kubeconfig keygen/)
  })

  it('refuses a private key given as a public key, without echoing the secret', async () => {
    const { privateKeyText } = await generateAdminKey()
    const secretLine = privateKeyText.split('\n').find((line) => line.startsWith('p2pb-admin-secret1:')) ?? ''
    expect(secretLine).not.toBe('')
    const error = kubeconfigError(() => parseAdminPublicKey(secretLine))
    expect(error.code).toBe('KUBECONFIG_BAD_ADMIN_KEY')
    expect(error.message).toMatch(/private key/)
    expect(error.message).not.toContain(secretLine.slice('p2pb-admin-secret1:'.length, 40))
  })

  it.each<[string, () => Promise<string>, RegExp]>([
    ['empty', async () => '', /expected one line/],
    ['only comments', async () => '# nothing here\n', /expected one line/],
    ['a public key', async () => `${(await generateAdminKey()).publicKey}\n`, /this is a public key/],
    ['two secret lines', async () => { const text = (await generateAdminKey()).privateKeyText; return text + text }, /found 2 such lines/],
    ['not base64', async () => 'p2pb-admin-secret1:not*base64\n', /not base64/],
    ['a cut line', async () => (await generateAdminKey()).privateKeyText.replace(/(p2pb-admin-secret1:.{20}).*/, '$1'), /not a libp2p private key|not base64/],
    ['a secp256k1 key', async () => `p2pb-admin-secret1:${Buffer.from(privateKeyToProtobuf(await generateKeyPair('secp256k1'))).toString('base64')}\n`, /secp256k1 key where an Ed25519 key belongs/]
  ])('refuses a private key file that is %s', async (_label, makeText, message) => {
    const text = await makeText()
    const error = await kubeconfigErrorAsync(async () => await parseAdminPrivateKey(text))
    expect(error.code).toBe('KUBECONFIG_BAD_PRIVATE_KEY')
    expect(error.message).toMatch(message)
  })
})

describe('sealKubeconfig and openKubeconfig', () => {
  const kubeconfig = adminKubeconfig(k3sYaml, vipUrl)

  it('round-trips with one admin key', async () => {
    const key = await newAdminKey()
    const sealed = sealKubeconfig(kubeconfig, [key.publicKey], entropy)
    expect(openKubeconfig(sealed, key)).toBe(kubeconfig)
    // The value never holds the kubeconfig in clear.
    expect(Buffer.from(sealed).includes(Buffer.from('client-key-data'))).toBe(false)
  })

  it('round-trips with three admin keys, each opening its own box', async () => {
    const keys = [await newAdminKey(), await newAdminKey(), await newAdminKey()]
    const sealed = sealKubeconfig(kubeconfig, keys.map((key) => key.publicKey), entropy)
    for (const key of keys) expect(openKubeconfig(sealed, key)).toBe(kubeconfig)
  })

  it('counts a key listed twice (in another spelling) once', async () => {
    const key = await newAdminKey()
    const once = sealKubeconfig(kubeconfig, [key.publicKey], entropy)
    const twice = sealKubeconfig(kubeconfig, [key.publicKey, ` ${key.publicKey}\n`], entropy)
    expect(twice.byteLength).toBe(once.byteLength)
    expect(openKubeconfig(twice, key)).toBe(kubeconfig)
  })

  it('refuses a key it was not sealed to, naming the keys it was', async () => {
    const [first, second, stranger] = [await newAdminKey(), await newAdminKey(), await newAdminKey()]
    const sealed = sealKubeconfig(kubeconfig, [first.publicKey, second.publicKey], entropy)
    const error = kubeconfigError(() => openKubeconfig(sealed, stranger))
    expect(error.code).toBe('KUBECONFIG_NOT_SEALED_TO_KEY')
    expect(error.message).toContain(stranger.publicKey)
    expect(error.message).toContain(first.publicKey)
    expect(error.message).toContain(second.publicKey)
  })

  it('tells a changed box from a box for another key', async () => {
    const key = await newAdminKey()
    const sealed = sealKubeconfig(kubeconfig, [key.publicKey], entropy)
    const decoded = decode(sealed) as { boxes: Array<{ box: Uint8Array }> }
    const box = decoded.boxes[0]?.box ?? new Uint8Array(0)
    const boxStart = Buffer.from(sealed).indexOf(Buffer.from(box))
    expect(boxStart).toBeGreaterThan(0)
    // The key check (byte 1), the ephemeral key (byte 10), the ciphertext and the tag (last byte).
    for (const offset of [1, 10, 100, box.byteLength - 1]) {
      const damaged = sealed.slice()
      const at = boxStart + offset
      damaged[at] = (damaged[at] ?? 0) ^ 0x01
      expect(kubeconfigError(() => openKubeconfig(damaged, key)).code).toBe('KUBECONFIG_DAMAGED')
    }
    // A changed label no longer names the reader's key.
    const relabelled = sealed.slice()
    relabelled[relabelled.byteLength - 1] = (relabelled[relabelled.byteLength - 1] ?? 0) ^ 0x01
    expect(kubeconfigError(() => openKubeconfig(relabelled, key)).code).toBe('KUBECONFIG_NOT_SEALED_TO_KEY')
  })

  it.each<[string, (sealed: Uint8Array) => Uint8Array, RegExp]>([
    ['truncated', (sealed) => sealed.subarray(0, sealed.byteLength - 10), /not valid CBOR/],
    ['random bytes', () => new Uint8Array(randomBytes(300)), /sealed kubeconfig/],
    ['empty', () => new Uint8Array(0), /sealed kubeconfig/],
    ['another format version', () => encodeCanonical({ v: 2, boxes: [] }), /format version 2; this p2p-bootstrap reads version 1/],
    ['without boxes', () => encodeCanonical({ v: 1, boxes: [] }), /invalid shape at boxes/],
    ['with an extra field', () => encodeCanonical({ v: 1, boxes: [], extra: 1 }), /invalid shape/],
    ['over the bound', () => new Uint8Array(SEALED_KUBECONFIG_BYTES_MAX + 1), /over the limit/]
  ])('refuses a value that is %s', async (_label, corrupt, message) => {
    const key = await newAdminKey()
    const value = corrupt(sealKubeconfig(kubeconfig, [key.publicKey], entropy))
    const error = kubeconfigError(() => openKubeconfig(value, key))
    expect(error.code).toBe('KUBECONFIG_MALFORMED')
    expect(error.message).toMatch(message)
  })

  it('refuses a kubeconfig over the bound', async () => {
    const key = await newAdminKey()
    const error = kubeconfigError(() => sealKubeconfig('x'.repeat(KUBECONFIG_BYTES_MAX + 1), [key.publicKey], entropy))
    expect(error.code).toBe('KUBECONFIG_OVERSIZED')
  })

  it('seals the largest kubeconfig to the most keys within its bound', async () => {
    const keys = await Promise.all(Array.from({ length: ADMIN_KEYS_MAX }, async () => (await generateAdminKey()).publicKey))
    const sealed = sealKubeconfig('x'.repeat(KUBECONFIG_BYTES_MAX), keys, entropy)
    expect(sealed.byteLength).toBeLessThanOrEqual(SEALED_KUBECONFIG_BYTES_MAX)
  })

  it.each<[string, () => Promise<string[]>, RegExp]>([
    ['no keys', async () => [], /no admin keys/],
    ['too many keys', async () => await Promise.all(Array.from({ length: ADMIN_KEYS_MAX + 1 }, async () => (await generateAdminKey()).publicKey)), /more than the 16/],
    ['a bad key', async () => [(await generateAdminKey()).publicKey, 'p2pb-admin1:nope'], /"p2pb-admin1:nope"/]
  ])('refuses to seal to %s', async (_label, makeKeys, message) => {
    const keys = await makeKeys()
    const error = kubeconfigError(() => sealKubeconfig(kubeconfig, keys, entropy))
    expect(error.code).toBe<KubeconfigErrorCode>('KUBECONFIG_BAD_ADMIN_KEY')
    expect(error.message).toMatch(message)
  })

  it('carries the value as base64 text, line breaks allowed', async () => {
    const key = await newAdminKey()
    const sealed = sealKubeconfig(kubeconfig, [key.publicKey], entropy)
    const text = formatSealedKubeconfig(sealed)
    const wrapped = `${text.replace(/(.{76})/g, '$1\n')}\n`
    expect(openKubeconfig(parseSealedKubeconfigText(wrapped), key)).toBe(kubeconfig)
    for (const bad of ['', 'not base64!', text.slice(0, -3)]) {
      expect(kubeconfigError(() => parseSealedKubeconfigText(bad)).code).toBe('KUBECONFIG_MALFORMED')
    }
  })
})

describe('the status socket serves the sealed kubeconfig', () => {
  let dir = ''
  let server: StatusServer | undefined

  afterEach(async () => {
    await server?.stop()
    server = undefined
    if (dir !== '') await rm(dir, { recursive: true, force: true })
    dir = ''
  })

  const report = (): StatusReport => ({ nodeId: 'me' }) as unknown as StatusReport

  async function serve (providers?: ConstructorParameters<typeof StatusServer>[2]): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-kubeconfig-'))
    const socketPath = join(dir, 'agent.sock')
    server = providers === undefined ? new StatusServer(socketPath, report) : new StatusServer(socketPath, report, providers)
    await server.start()
    return socketPath
  }

  it('hands out exactly the sealed bytes and who sealed them', async () => {
    const key = await newAdminKey()
    const sealed = sealKubeconfig(adminKubeconfig(k3sYaml, vipUrl), [key.publicKey], entropy)
    const socketPath = await serve({ kubeconfig: () => ({ nodeId: 'cp-1', sealed }) })
    const fetched = await fetchSealedKubeconfig(socketPath, { signal: AbortSignal.timeout(5_000) })
    expect(fetched.nodeId).toBe('cp-1')
    expect(fetched.sealed).toEqual(sealed)
    expect(await fetchStatus(socketPath)).toEqual({ nodeId: 'me' })
  })

  it.each<[string, ConstructorParameters<typeof StatusServer>[2] | undefined]>([
    ['a provider with nothing published', { kubeconfig: () => null }],
    ['no provider (the constructor of before)', undefined]
  ])('answers KUBECONFIG_NOT_PUBLISHED with %s', async (_label, providers) => {
    const socketPath = await serve(providers)
    const error = await kubeconfigErrorAsync(async () => await fetchSealedKubeconfig(socketPath))
    expect(error.code).toBe('KUBECONFIG_NOT_PUBLISHED')
    expect(error.message).toMatch(/no admin keys configured \(admin-keys in the config\), or no control plane is Ready yet/)
  })

  it('reports a missing agent with the fix', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-kubeconfig-'))
    const err = await fetchSealedKubeconfig(join(dir, 'agent.sock')).then(() => undefined, (error: unknown) => error)
    expect(err).toMatchObject({ code: 'BOOTSTRAP_STATUS_SOCKET' })
    expect((err as Error).message).toMatch(/no agent is running with this state dir/)
  })
})

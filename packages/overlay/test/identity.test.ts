// Goal: the node identity survives restarts, is private to its owner, and is never silently
// replaced or overwritten when the file is damaged or too open.
// Method: real files in a fresh temporary state dir per test (removed afterwards); we check the
// peer id across loads, file and dir modes, the typed error codes, that each error names the file,
// and that the bytes on disk are unchanged after every refusal.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { verifyNodeSignature } from '@p2p-bootstrap/core'
import { IdentityFileError, loadOrCreateIdentity, nodeKeyFromPrivateKey } from '../src/index.js'

let parent: string
let stateDir: string
let keyPath: string

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'p2pb-identity-'))
  stateDir = join(parent, 'state')
  keyPath = join(stateDir, 'identity.key')
})

afterEach(async () => {
  await rm(parent, { recursive: true, force: true })
})

async function loadFailure (): Promise<IdentityFileError> {
  const failure = await loadOrCreateIdentity(stateDir).then(() => undefined, (err: unknown) => err)
  expect(failure).toBeInstanceOf(IdentityFileError)
  return failure as IdentityFileError
}

describe('loadOrCreateIdentity', () => {
  it('creates the key once (0600 in a 0700 dir) and returns the same peer id after a restart', async () => {
    const first = await loadOrCreateIdentity(stateDir)
    expect(first.created).toBe(true)
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600)
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700)
    const bytes = await readFile(keyPath)
    const second = await loadOrCreateIdentity(stateDir)
    expect(second.created).toBe(false)
    expect(second.peerId).toBe(first.peerId)
    expect(second.privateKey.equals(first.privateKey)).toBe(true)
    expect(await readFile(keyPath)).toEqual(bytes)
  })

  it('gives one identity to concurrent first starts', async () => {
    const results = await Promise.all([loadOrCreateIdentity(stateDir), loadOrCreateIdentity(stateDir)])
    expect(results[0].peerId).toBe(results[1].peerId)
  })

  it.each([
    ['truncated', (bytes: Uint8Array) => bytes.subarray(0, bytes.byteLength - 5)],
    ['empty', () => new Uint8Array(0)],
    ['garbage', () => new TextEncoder().encode('not a key at all\n')],
    ['a flipped seed byte', (bytes: Uint8Array) => { const copy = Uint8Array.from(bytes); copy[10] = (copy[10] ?? 0) ^ 0xff; return copy }]
  ])('refuses a %s key file with IDENTITY_CORRUPT naming the file, and keeps it', async (_label, damage) => {
    await loadOrCreateIdentity(stateDir)
    const damaged = damage(await readFile(keyPath))
    await writeFile(keyPath, damaged, { mode: 0o600 })
    const failure = await loadFailure()
    expect(failure.code).toBe('IDENTITY_CORRUPT')
    expect(failure.path).toBe(keyPath)
    expect(failure.message).toContain(keyPath)
    expect(failure.message).toMatch(/backup/)
    expect(failure.message).toMatch(/delete it/)
    expect(new Uint8Array(await readFile(keyPath))).toEqual(new Uint8Array(damaged))
  })

  it('refuses a key of another type with IDENTITY_CORRUPT', async () => {
    await loadOrCreateIdentity(stateDir)
    await writeFile(keyPath, privateKeyToProtobuf(await generateKeyPair('secp256k1')), { mode: 0o600 })
    expect((await loadFailure()).code).toBe('IDENTITY_CORRUPT')
  })

  it('refuses a 0644 key file with IDENTITY_PERMISSIONS naming the file and chmod 600, and changes nothing', async () => {
    const created = await loadOrCreateIdentity(stateDir)
    const bytes = await readFile(keyPath)
    await chmod(keyPath, 0o644)
    const failure = await loadFailure()
    expect(failure.code).toBe('IDENTITY_PERMISSIONS')
    expect(failure.message).toContain(keyPath)
    expect(failure.message).toContain('chmod 600')
    expect((await stat(keyPath)).mode & 0o777).toBe(0o644)
    expect(await readFile(keyPath)).toEqual(bytes)
    // After the operator's fix the same identity comes back.
    await chmod(keyPath, 0o600)
    expect((await loadOrCreateIdentity(stateDir)).peerId).toBe(created.peerId)
  })

  it('stops before any work when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort(new Error('shutting down'))
    await expect(loadOrCreateIdentity(stateDir, { signal: controller.signal })).rejects.toThrow('shutting down')
    await expect(stat(stateDir)).rejects.toThrow()
  })
})

describe('nodeKeyFromPrivateKey', () => {
  it('signs as the libp2p peer id, so ledger signatures verify from the node id alone (S5)', async () => {
    const { privateKey, peerId } = await loadOrCreateIdentity(stateDir)
    const nodeKey = nodeKeyFromPrivateKey(privateKey)
    expect(nodeKey.nodeId).toBe(peerId)
    const message = new TextEncoder().encode('node/x/address')
    expect(verifyNodeSignature(peerId, message, nodeKey.sign(message))).toBe(true)
  })

  it('refuses a non-Ed25519 key with the core\'s IDENTITY_BAD_KEY', async () => {
    const secp256k1Key = await generateKeyPair('secp256k1')
    expect(() => nodeKeyFromPrivateKey(secp256k1Key)).toThrow(expect.objectContaining({ code: 'IDENTITY_BAD_KEY' }))
  })
})

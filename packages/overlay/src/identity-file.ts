import { constants as fsConstants } from 'node:fs'
import { link, lstat, mkdir, open, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { IdentityError, nodeKeyFromSeed } from '@p2p-bootstrap/core'
import type { NodeKey } from '@p2p-bootstrap/core'
import { IdentityFileError } from './errors.js'
import {
  IDENTITY_FILE_BYTES_MAX, IDENTITY_FILE_FORBIDDEN_BITS, IDENTITY_FILE_MODE, IDENTITY_FILE_NAME,
  STATE_DIR_MODE
} from './limits.js'

export interface LoadedIdentity {
  readonly privateKey: PrivateKey
  readonly peerId: string
  /** True if this call made the key (first start); false if it was read from disk. */
  readonly created: boolean
}

/** libp2p's raw Ed25519 private key: the 32-byte seed, then the 32-byte public key. */
const ED25519_RAW_BYTES = 64
const ED25519_SEED_BYTES = 32

/**
 * The core's signing key for this identity (S5: entries are signed by the libp2p identity). The
 * seed and the stored public key must give the same id, or the core's `IDENTITY_BAD_KEY`.
 */
export function nodeKeyFromPrivateKey (privateKey: PrivateKey): NodeKey {
  if (privateKey.type !== 'Ed25519' || privateKey.raw.byteLength !== ED25519_RAW_BYTES) {
    throw new IdentityError('IDENTITY_BAD_KEY', `a node key needs an Ed25519 private key of ${ED25519_RAW_BYTES} raw bytes, got ${privateKey.type}`)
  }
  const nodeKey = nodeKeyFromSeed(privateKey.raw.subarray(0, ED25519_SEED_BYTES))
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  if (nodeKey.nodeId !== peerId) {
    throw new IdentityError('IDENTITY_BAD_KEY', `the key's seed gives node id ${nodeKey.nodeId} but its public key gives peer id ${peerId}: the key is damaged`)
  }
  return nodeKey
}

function corrupt (path: string, problem: string, cause?: unknown): IdentityFileError {
  return new IdentityFileError('IDENTITY_CORRUPT', path,
    `identity file ${path} is damaged (${problem}). Restore it from a backup to keep this node's identity; ` +
    'or delete it to start as a new node: it gets a new peer id, and the cluster sees a stranger that must join again ' +
    '(its old votes and role are lost).', { cause })
}

/** Decodes and checks a key file's bytes; any doubt is corruption, never a fresh key. */
function decodeIdentity (path: string, bytes: Uint8Array): PrivateKey {
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw corrupt(path, `not a libp2p private key: ${(err as Error).message}`, err)
  }
  if (privateKey.type !== 'Ed25519') {
    throw corrupt(path, `a ${privateKey.type} key where an Ed25519 key belongs`)
  }
  try {
    nodeKeyFromPrivateKey(privateKey)
  } catch (err) {
    throw corrupt(path, (err as Error).message, err)
  }
  return privateKey
}

async function readIdentity (path: string): Promise<PrivateKey | undefined> {
  let stats
  try {
    stats = await lstat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new IdentityFileError('IDENTITY_UNREADABLE', path, `cannot read identity file ${path}: ${(err as Error).message}; check the state dir's permissions`, { cause: err })
  }
  if (!stats.isFile()) {
    throw new IdentityFileError('IDENTITY_UNREADABLE', path, `identity file ${path} is not a regular file; move it away and restore the key file`)
  }
  if ((stats.mode & IDENTITY_FILE_FORBIDDEN_BITS) !== 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0')
    throw new IdentityFileError('IDENTITY_PERMISSIONS', path,
      `identity file ${path} has mode ${mode}, readable by other users: the key may have leaked. ` +
      `Run \`chmod 600 ${path}\` (and consider a new identity if others could read it)`)
  }
  if (stats.size > IDENTITY_FILE_BYTES_MAX) {
    throw corrupt(path, `${stats.size} bytes, more than a key file's ${IDENTITY_FILE_BYTES_MAX}`)
  }
  const bytes = await readFile(path)
  return decodeIdentity(path, bytes)
}

/**
 * Writes the key without ever replacing a file: temp file (0600, fsync), then `link` to the final
 * name, which fails if another process got there first, then fsync of the directory so the name
 * survives a power cut (S6).
 */
async function writeIdentity (stateDir: string, path: string, privateKey: PrivateKey): Promise<'written' | 'exists'> {
  const temporaryPath = join(stateDir, `.${IDENTITY_FILE_NAME}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const file = await open(temporaryPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, IDENTITY_FILE_MODE)
    try {
      await file.writeFile(privateKeyToProtobuf(privateKey))
      await file.sync()
    } finally {
      await file.close()
    }
    try {
      await link(temporaryPath, path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists'
      throw err
    }
    const directory = await open(stateDir, fsConstants.O_RDONLY)
    try {
      await directory.sync()
    } finally {
      await directory.close()
    }
    return 'written'
  } catch (err) {
    throw new IdentityFileError('IDENTITY_WRITE_FAILED', path, `cannot write identity file ${path}: ${(err as Error).message}; check that the state dir is writable`, { cause: err })
  } finally {
    await unlink(temporaryPath).catch(() => undefined)
  }
}

/**
 * This node's libp2p identity from `<stateDir>/identity.key`, created (Ed25519, mode 0600; the
 * state dir 0700 if missing) on first start. A damaged or group/other-readable file is an
 * `IdentityFileError` naming the file and the fix; it is never replaced by a new identity (S4).
 */
export async function loadOrCreateIdentity (stateDir: string, options: { signal?: AbortSignal } = {}): Promise<LoadedIdentity> {
  options.signal?.throwIfAborted()
  const path = join(stateDir, IDENTITY_FILE_NAME)
  await mkdir(stateDir, { recursive: true, mode: STATE_DIR_MODE })
  const existing = await readIdentity(path)
  if (existing !== undefined) {
    return { privateKey: existing, peerId: peerIdFromPrivateKey(existing).toString(), created: false }
  }
  options.signal?.throwIfAborted()
  const privateKey = await generateKeyPair('Ed25519')
  const outcome = await writeIdentity(stateDir, path, privateKey)
  if (outcome === 'exists') {
    // Another process created it between our read and our write: theirs wins, ours is dropped.
    const theirs = await readIdentity(path)
    if (theirs === undefined) throw corrupt(path, 'it vanished while being created')
    return { privateKey: theirs, peerId: peerIdFromPrivateKey(theirs).toString(), created: false }
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: true }
}

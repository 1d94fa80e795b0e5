import { z } from 'zod'
import {
  CodecError, SecretsError, assert, decodeStrict, encodeCanonical, openAsNode, sealToNode
} from '@p2p-bootstrap/core'
import type { Entropy } from '@p2p-bootstrap/core'
import { adminKeyRecipient, parseAdminPublicKey } from './admin-key.js'
import type { AdminKey } from './admin-key.js'
import { KubeconfigError } from './errors.js'
import {
  ADMIN_KEYS_MAX, ADMIN_PUBLIC_KEY_CHARS_MAX, BOX_OVERHEAD_BYTES_MAX, KUBECONFIG_BYTES_MAX,
  SEALED_KUBECONFIG_BYTES_MAX, SEALED_KUBECONFIG_VERSION
} from './limits.js'

/**
 * The ledger value a Ready control plane publishes: the admin kubeconfig sealed once to each admin
 * key, each box labelled with the public key it is for, so a reader finds its own box at once and
 * can name the keys when it has none. `{ v: 1, boxes: [{ key: 'p2pb-admin1:…', box: <bytes> }] }`.
 */

/** A sealed admin kubeconfig as a control plane published it in the ledger. */
export interface SealedKubeconfig {
  /** The control plane that sealed and published it. */
  readonly nodeId: string
  /** The value made by `sealKubeconfig`: one box per admin key. */
  readonly sealed: Uint8Array
}

const boxSchema = z.strictObject({
  key: z.string().min(1).max(ADMIN_PUBLIC_KEY_CHARS_MAX),
  box: z.instanceof(Uint8Array).refine((bytes) => bytes.byteLength <= KUBECONFIG_BYTES_MAX + BOX_OVERHEAD_BYTES_MAX, 'a box larger than any sealed kubeconfig')
})

const sealedSchema = z.strictObject({
  v: z.literal(SEALED_KUBECONFIG_VERSION),
  boxes: z.array(boxSchema).min(1).max(ADMIN_KEYS_MAX)
    .refine((boxes) => new Set(boxes.map((entry) => entry.key)).size === boxes.length, 'two boxes for one key')
})

/** Only the version, read first so that another version gets its own message. */
const versionSchema = z.looseObject({ v: z.number().int() })

/**
 * Seals `kubeconfig` to every admin key in `adminPublicKeys` (duplicates count once). Throws
 * `KUBECONFIG_BAD_ADMIN_KEY` for a bad key, none, or more than `ADMIN_KEYS_MAX`, and
 * `KUBECONFIG_OVERSIZED` above `KUBECONFIG_BYTES_MAX`.
 */
export function sealKubeconfig (kubeconfig: string, adminPublicKeys: readonly string[], entropy: Entropy): Uint8Array {
  const keys = [...new Set(adminPublicKeys.map(parseAdminPublicKey))]
  if (keys.length === 0) {
    throw new KubeconfigError('KUBECONFIG_BAD_ADMIN_KEY', 'no admin keys to seal the kubeconfig to: list at least one under admin-keys (make one with `p2p-bootstrap kubeconfig keygen --out FILE`)')
  }
  if (keys.length > ADMIN_KEYS_MAX) {
    throw new KubeconfigError('KUBECONFIG_BAD_ADMIN_KEY', `${keys.length} admin keys, more than the ${ADMIN_KEYS_MAX} one sealed kubeconfig holds: share keys among fewer admins`)
  }
  const plaintext = new TextEncoder().encode(kubeconfig)
  if (plaintext.byteLength > KUBECONFIG_BYTES_MAX) {
    throw new KubeconfigError('KUBECONFIG_OVERSIZED', `the kubeconfig is ${plaintext.byteLength} bytes, over the ${KUBECONFIG_BYTES_MAX} one sealed value may hold`)
  }
  const boxes = keys.map((key) => ({ key, box: sealToNode(adminKeyRecipient(key), plaintext, entropy) }))
  for (const { box } of boxes) assert(box.byteLength <= plaintext.byteLength + BOX_OVERHEAD_BYTES_MAX, 'a box adds at most its overhead')
  const value = encodeCanonical({ v: SEALED_KUBECONFIG_VERSION, boxes })
  assert(value.byteLength <= SEALED_KUBECONFIG_BYTES_MAX, 'a sealed kubeconfig stays within its bound')
  return value
}

/**
 * Opens the box sealed to `key` in a value made by `sealKubeconfig`. Throws `KUBECONFIG_MALFORMED`
 * (not such a value, another format version, oversized), `KUBECONFIG_NOT_SEALED_TO_KEY` (naming the
 * keys it holds boxes for) or `KUBECONFIG_DAMAGED` (a box changed after sealing).
 */
export function openKubeconfig (value: Uint8Array, key: AdminKey): string {
  const sealed = decodeSealed(value)
  const entry = sealed.boxes.find((candidate) => candidate.key === key.publicKey)
  if (entry === undefined) {
    throw new KubeconfigError('KUBECONFIG_NOT_SEALED_TO_KEY',
      `the kubeconfig is not sealed to admin key ${key.publicKey}; it is sealed to ${sealed.boxes.map((candidate) => candidate.key).join(', ')}. ` +
      'Use one of those keys, or add this one under admin-keys on every node and restart a Ready server')
  }
  let plaintext: Uint8Array
  try {
    plaintext = openAsNode(key.nodeKey, entry.box)
  } catch (err) {
    if (!(err instanceof SecretsError)) throw err
    const code = err.code === 'SECRETS_MALFORMED' ? 'KUBECONFIG_MALFORMED' : 'KUBECONFIG_DAMAGED'
    throw new KubeconfigError(code, `the kubeconfig box for ${key.publicKey} cannot be opened (${err.message}): fetch it again`, { cause: err })
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plaintext)
  } catch (err) {
    throw new KubeconfigError('KUBECONFIG_MALFORMED', 'the sealed kubeconfig holds bytes that are not text: it was sealed by something else than p2p-bootstrap', { cause: err })
  }
}

function decodeSealed (value: Uint8Array): z.output<typeof sealedSchema> {
  const what = 'sealed kubeconfig'
  const fix = 'fetch it again (with `p2p-bootstrap kubeconfig get`) and copy it whole'
  try {
    const raw = decodeStrict(value, z.unknown(), { maxBytes: SEALED_KUBECONFIG_BYTES_MAX, what })
    const version = versionSchema.safeParse(raw)
    if (version.success && version.data.v !== SEALED_KUBECONFIG_VERSION) {
      throw new KubeconfigError('KUBECONFIG_MALFORMED', `the ${what} has format version ${version.data.v}; this p2p-bootstrap reads version ${SEALED_KUBECONFIG_VERSION}: use the same p2p-bootstrap version as the cluster`)
    }
    return decodeStrict(value, sealedSchema, { maxBytes: SEALED_KUBECONFIG_BYTES_MAX, what })
  } catch (err) {
    if (!(err instanceof CodecError)) throw err
    throw new KubeconfigError('KUBECONFIG_MALFORMED', `${err.message}: ${fix}`, { cause: err })
  }
}

/** The sealed value as one line of base64, to print or carry to the machine holding the key. */
export function formatSealedKubeconfig (value: Uint8Array): string {
  return Buffer.from(value).toString('base64')
}

/**
 * The sealed value from its base64 text (blanks and line breaks ignored, so a wrapped copy works).
 * Throws `KUBECONFIG_MALFORMED` for text that is not base64 or too long to be one.
 */
export function parseSealedKubeconfigText (text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '')
  const lengthMax = Math.ceil(SEALED_KUBECONFIG_BYTES_MAX / 3) * 4
  if (compact.length > lengthMax) {
    throw new KubeconfigError('KUBECONFIG_MALFORMED', `the sealed kubeconfig text is ${compact.length} characters, more than any sealed kubeconfig (${lengthMax}): pass only the line printed by \`kubeconfig get --sealed\``)
  }
  const bytes = Buffer.from(compact, 'base64')
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || bytes.toString('base64') !== compact) {
    throw new KubeconfigError('KUBECONFIG_MALFORMED', 'the sealed kubeconfig text is not base64: copy the whole line printed by `p2p-bootstrap kubeconfig get --sealed`')
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

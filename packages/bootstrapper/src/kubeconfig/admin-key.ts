import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { isNodeId, nodeIdFromPublicKey, publicKeyFromNodeId } from '@p2p-bootstrap/core'
import type { NodeId, NodeKey } from '@p2p-bootstrap/core'
import { nodeKeyFromPrivateKey } from '@p2p-bootstrap/overlay'
import { KubeconfigError } from './errors.js'
import { ADMIN_KEY_FILE_BYTES_MAX, ADMIN_PUBLIC_KEY_PREFIX, ADMIN_SECRET_PREFIX } from './limits.js'

/**
 * Admin keys are Ed25519 key pairs, like node identities, so the core's sealed box to a node
 * (`sealToNode`/`openAsNode`) serves them unchanged: the public key is the libp2p peer id of the
 * key behind a prefix of its own, the private key a text file holding the libp2p protobuf key.
 */

/** An admin private key, read from its file: enough to open what was sealed to `publicKey`. */
export interface AdminKey {
  /** The normalised public key text, `p2pb-admin1:12D3KooW…`, as listed under `admin-keys`. */
  readonly publicKey: string
  /** The key as the core sees it: opens boxes sealed to the id inside `publicKey`. */
  readonly nodeKey: NodeKey
}

/** A new admin key pair: the public key line for configs and the private key file's text. */
export interface GeneratedAdminKey {
  readonly publicKey: string
  readonly privateKeyText: string
}

const KEYGEN_HINT = 'generate one with `p2p-bootstrap kubeconfig keygen --out FILE`'
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/

function badAdminKey (text: string, problem: string): KubeconfigError {
  return new KubeconfigError('KUBECONFIG_BAD_ADMIN_KEY',
    `admin key ${JSON.stringify(text.slice(0, 80))} ${problem}; an admin key is the line \`${ADMIN_PUBLIC_KEY_PREFIX}…\` printed by keygen (${KEYGEN_HINT})`)
}

/**
 * The normalised form of an admin public key (`p2pb-admin1:<Ed25519 peer id>`, surrounding blanks
 * removed); throws `KUBECONFIG_BAD_ADMIN_KEY` naming the problem and the fix.
 */
export function parseAdminPublicKey (text: string): string {
  const trimmed = text.trim()
  if (trimmed === '') throw badAdminKey(text, 'is empty')
  if (trimmed.includes(ADMIN_SECRET_PREFIX)) {
    // Never echo what may be a secret back into a log.
    throw new KubeconfigError('KUBECONFIG_BAD_ADMIN_KEY',
      `an admin key in the config is the private key file's content: remove it from the config at once (it is now exposed to whoever reads the config, so make a new key: ${KEYGEN_HINT}) and list the public key line \`${ADMIN_PUBLIC_KEY_PREFIX}…\` instead`)
  }
  if (!trimmed.startsWith(ADMIN_PUBLIC_KEY_PREFIX)) {
    const problem = isNodeId(trimmed)
      ? `is a node id, not an admin key (admin keys start with ${ADMIN_PUBLIC_KEY_PREFIX})`
      : `does not start with ${ADMIN_PUBLIC_KEY_PREFIX}`
    throw badAdminKey(text, problem)
  }
  const peerId = trimmed.slice(ADMIN_PUBLIC_KEY_PREFIX.length)
  let publicKey: Uint8Array
  try {
    publicKey = publicKeyFromNodeId(peerId)
  } catch {
    throw badAdminKey(text, 'does not hold an Ed25519 public key after its prefix (truncated or mistyped?)')
  }
  return formatAdminPublicKey(nodeIdFromPublicKey(publicKey))
}

/** The id a box is sealed to for the admin public key `normalised` (from `parseAdminPublicKey`). */
export function adminKeyRecipient (normalised: string): NodeId {
  return normalised.slice(ADMIN_PUBLIC_KEY_PREFIX.length)
}

function formatAdminPublicKey (nodeId: NodeId): string {
  return `${ADMIN_PUBLIC_KEY_PREFIX}${nodeId}`
}

/** A new Ed25519 admin key pair, with the private key file's text (write it 0600). */
export async function generateAdminKey (): Promise<GeneratedAdminKey> {
  const privateKey = await generateKeyPair('Ed25519')
  const publicKey = formatAdminPublicKey(nodeKeyFromPrivateKey(privateKey).nodeId)
  const secret = Buffer.from(privateKeyToProtobuf(privateKey)).toString('base64')
  const privateKeyText = [
    '# p2p-bootstrap admin key: keep it secret. Whoever holds this file can read the cluster-admin kubeconfig.',
    `# public key (list it under admin-keys in every node's config): ${publicKey}`,
    `${ADMIN_SECRET_PREFIX}${secret}`,
    ''
  ].join('\n')
  return { publicKey, privateKeyText }
}

function badPrivateKey (problem: string, cause?: unknown): KubeconfigError {
  return new KubeconfigError('KUBECONFIG_BAD_PRIVATE_KEY',
    `not an admin private key: ${problem}; pass the file written by \`p2p-bootstrap kubeconfig keygen --out FILE\``, { cause })
}

/**
 * Reads the text of an admin private key file: comment lines (`#`) and blank lines are skipped, and
 * exactly one `p2pb-admin-secret1:<base64>` line must remain. Throws `KUBECONFIG_BAD_PRIVATE_KEY`.
 */
export async function parseAdminPrivateKey (text: string): Promise<AdminKey> {
  if (text.length > ADMIN_KEY_FILE_BYTES_MAX) throw badPrivateKey(`${text.length} characters, more than a key file's ${ADMIN_KEY_FILE_BYTES_MAX}`)
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))
  const secretLines = lines.filter((line) => line.startsWith(ADMIN_SECRET_PREFIX))
  if (secretLines.length !== 1 || lines.length !== 1) {
    const onlyPublic = lines.length === 1 && lines[0]?.startsWith(ADMIN_PUBLIC_KEY_PREFIX) === true
    throw badPrivateKey(onlyPublic
      ? 'this is a public key; opening needs the private key file it came from'
      : `expected one line starting with ${ADMIN_SECRET_PREFIX}, found ${secretLines.length} such lines and ${lines.length - secretLines.length} other lines`)
  }
  const encoded = (secretLines[0] ?? '').slice(ADMIN_SECRET_PREFIX.length)
  const bytes = Buffer.from(encoded, 'base64')
  if (!BASE64_PATTERN.test(encoded) || bytes.toString('base64') !== encoded) {
    throw badPrivateKey('the secret is not base64 (was the line cut or wrapped?)')
  }
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw badPrivateKey(`the secret is not a libp2p private key (${(err as Error).message})`, err)
  }
  if (privateKey.type !== 'Ed25519') throw badPrivateKey(`a ${privateKey.type} key where an Ed25519 key belongs`)
  let nodeKey: NodeKey
  try {
    nodeKey = nodeKeyFromPrivateKey(privateKey)
  } catch (err) {
    throw badPrivateKey(`the key is damaged (${(err as Error).message})`, err)
  }
  return { publicKey: formatAdminPublicKey(nodeKey.nodeId), nodeKey }
}

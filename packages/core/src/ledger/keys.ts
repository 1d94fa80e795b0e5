import { BALLOT_ROUND_WIRE_MAX, EPOCH_MAX } from '../consensus/limits.js'
import { isNodeId } from '../identity.js'
import { ENTRY_KEY_BYTES_MAX, NODE_ID_CHARS_MAX } from '../limits.js'
import type { NodeId } from '../identity.js'

/**
 * The ledger's key families. Each family says who may write a key and how two writes of it merge:
 *
 * - `node/<nodeId>/<name>`: only `<nodeId>` writes (S5); last writer wins by (stamp, writer).
 * - `vote/<epoch>/<round>.<proposer>/<voter>`: one Paxos accept; only `<voter>` writes; write-once.
 * - `plan/<epoch>`: a committed decision; anyone writes, but only with a valid quorum certificate
 *   (S5, checked by the injected validator); write-once.
 */
export type ParsedKey =
  | { readonly family: 'node', readonly owner: NodeId, readonly name: string }
  | { readonly family: 'vote', readonly epoch: number, readonly round: number, readonly proposer: NodeId, readonly voter: NodeId }
  | { readonly family: 'plan', readonly epoch: number }

export type KeyFamily = ParsedKey['family']

/** Printable ASCII without space or '/': one key segment. */
const NAME_SEGMENT = /^[A-Za-z0-9._-]+$/
/** A decimal safe integer without leading zeros. */
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/
/** Base58btc characters of a node id (the full check is `isNodeId` or the signature). */
const NODE_ID_SHAPE = /^[1-9A-HJ-NP-Za-km-z]+$/

/** Parses a key into its family, or returns a sentence saying what is wrong with it. */
export function parseKey (key: string): ParsedKey | { readonly problem: string } {
  if (key.length === 0 || key.length > ENTRY_KEY_BYTES_MAX) {
    return { problem: `key length ${key.length} is outside 1..${ENTRY_KEY_BYTES_MAX}` }
  }
  const parts = key.split('/')
  switch (parts[0]) {
    case 'node': return parseNodeKey(parts)
    case 'vote': return parseVoteKey(parts)
    case 'plan': return parsePlanKey(parts)
    default: return { problem: `key ${JSON.stringify(key.slice(0, 32))} is in no known family (node/, vote/, plan/)` }
  }
}

function parseNodeKey (parts: readonly string[]): ParsedKey | { problem: string } {
  const owner = parts[1] ?? ''
  const nameParts = parts.slice(2)
  if (!isNodeIdShape(owner)) return { problem: 'node key owner is not a node id' }
  if (nameParts.length === 0 || !nameParts.every((part) => NAME_SEGMENT.test(part))) {
    return { problem: 'node key name must be segments of [A-Za-z0-9._-] separated by /' }
  }
  return { family: 'node', owner, name: nameParts.join('/') }
}

function parseVoteKey (parts: readonly string[]): ParsedKey | { problem: string } {
  if (parts.length !== 4) return { problem: 'vote key must be vote/<epoch>/<round>.<proposer>/<voter>' }
  const epoch = parseDecimal(parts[1] ?? '')
  const ballot = parts[2] ?? ''
  const dot = ballot.indexOf('.')
  const round = parseDecimal(dot < 0 ? '' : ballot.slice(0, dot))
  const proposer = ballot.slice(dot + 1)
  const voter = parts[3] ?? ''
  if (epoch === undefined || round === undefined) return { problem: 'vote key epoch and round must be decimal integers' }
  // The consensus module's own ranges, checked here so an admitted vote never fails a later parse.
  if (epoch < 1 || epoch > EPOCH_MAX) return { problem: `vote key epoch ${epoch} is outside 1..${EPOCH_MAX}` }
  if (round < 1 || round > BALLOT_ROUND_WIRE_MAX) return { problem: `vote key round ${round} is outside 1..${BALLOT_ROUND_WIRE_MAX}` }
  if (!isNodeIdShape(proposer) || !isNodeId(proposer)) return { problem: 'vote key proposer is not a node id' }
  if (!isNodeIdShape(voter)) return { problem: 'vote key voter is not a node id' }
  return { family: 'vote', epoch, round, proposer, voter }
}

function parsePlanKey (parts: readonly string[]): ParsedKey | { problem: string } {
  const epoch = parts.length === 2 ? parseDecimal(parts[1] ?? '') : undefined
  if (epoch === undefined) return { problem: 'plan key must be plan/<epoch> with a decimal epoch' }
  if (epoch < 1 || epoch > EPOCH_MAX) return { problem: `plan key epoch ${epoch} is outside 1..${EPOCH_MAX}` }
  return { family: 'plan', epoch }
}

function parseDecimal (text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : undefined
}

function isNodeIdShape (text: string): boolean {
  return text.length > 0 && text.length <= NODE_ID_CHARS_MAX && NODE_ID_SHAPE.test(text)
}

/** True when `parsed` is a parse result rather than a problem. */
export function isParsedKey (parsed: ParsedKey | { readonly problem: string }): parsed is ParsedKey {
  return 'family' in parsed
}

/** Who may write a key: a fixed node, or anyone (decisions, checked by their certificate). */
export function requiredWriter (parsed: ParsedKey): NodeId | null {
  switch (parsed.family) {
    case 'node': return parsed.owner
    case 'vote': return parsed.voter
    case 'plan': return null
  }
}

/** Write-once families keep one value forever; a second different value is equivocation or a conflict. */
export function isWriteOnce (family: KeyFamily): boolean {
  return family !== 'node'
}

/** `node/<nodeId>/<name>`. */
export function nodeEntryKey (nodeId: NodeId, name: string): string {
  return `node/${nodeId}/${name}`
}

/** `vote/<epoch>/<round>.<proposer>/<voter>`. */
export function voteEntryKey (epoch: number, round: number, proposer: NodeId, voter: NodeId): string {
  return `vote/${epoch}/${round}.${proposer}/${voter}`
}

/** `plan/<epoch>`. */
export function planEntryKey (epoch: number): string {
  return `plan/${epoch}`
}

import { bytesToHex } from '@noble/hashes/utils.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { encodeCanonical } from '../codec.js'
import type { NodeId } from '../identity.js'
import { shortNodeId } from './ballot.js'
import { equalBytes } from './bytes.js'
import { MEMBER_SET_HASH_BYTES } from './limits.js'

/**
 * Best effort (no `expect`): a ballot names the member set its proposer counts, as a count and a
 * hash of the sorted ids. An acceptor promises and votes only when the set it sees itself is the
 * same, so every acceptor of a ballot evaluates one quorum rule, fixed by the proposer, and a
 * node whose view differs (it sees more, or fewer, members) takes no part until the views agree.
 */
export interface MemberSet {
  readonly count: number
  readonly hash: Uint8Array
}

/** Members a refusal names before it only counts the rest: a reason stays one readable line. */
const MEMBERS_NAMED_MAX = 8

/** The member set of `ids` (order and duplicates do not matter). */
export function memberSetOf (ids: readonly NodeId[]): MemberSet {
  const sorted = [...new Set(ids)].sort()
  return { count: sorted.length, hash: sha256(encodeCanonical(sorted)).subarray(0, MEMBER_SET_HASH_BYTES) }
}

/** Null when the proposer's set is the one this node sees; else why not, in words. */
export function memberSetDisagreement (ours: readonly NodeId[], proposers: MemberSet | undefined): string | null {
  const mine = memberSetOf(ours)
  if (proposers === undefined) {
    return 'the proposer names no member set, and without expect (best effort) every ballot must: it runs another version'
  }
  if (proposers.count === mine.count && equalBytes(proposers.hash, mine.hash)) return null
  const sorted = [...new Set(ours)].sort()
  const shown = sorted.slice(0, MEMBERS_NAMED_MAX).map(shortNodeId).join(', ')
  const seen = sorted.length > MEMBERS_NAMED_MAX ? `${shown} and ${sorted.length - MEMBERS_NAMED_MAX} more` : shown
  return `best effort: the proposer counts ${proposers.count} member${proposers.count === 1 ? '' : 's'} (set ${bytesToHex(proposers.hash)}), ` +
    `this node sees ${mine.count} (${seen}; set ${bytesToHex(mine.hash)}): it takes no part until both views agree (a partition or a node still joining)`
}

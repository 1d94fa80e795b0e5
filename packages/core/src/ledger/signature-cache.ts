import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { assert } from '../assert.js'
import { SIGNATURE_CACHE_ENTRIES_MAX } from '../limits.js'
import { verifyNodeSignature } from '../identity.js'
import { entrySigningBytes } from './entry.js'
import type { Entry } from './entry.js'

/**
 * Remembers entries whose signature was found valid, so a signature is checked once however many
 * times (or by however many simulated replicas) the entry is received. Keyed by a hash of the
 * signed bytes and the signature, so a valid signature never vouches for other content. Bounded:
 * the oldest is forgotten first (it is then merely verified again).
 */
export class SignatureCache {
  private readonly known = new Set<string>()
  private readonly order: string[] = []
  private next = 0
  readonly capacity: number

  private readonly verifySignature: typeof verifyNodeSignature

  /** `verify` is the signature check itself (a memoised one may be shared by simulated replicas). */
  constructor (capacity: number = SIGNATURE_CACHE_ENTRIES_MAX, verify: typeof verifyNodeSignature = verifyNodeSignature) {
    this.verifySignature = verify
    assert(Number.isSafeInteger(capacity) && capacity > 0, 'signature cache capacity is a positive integer')
    this.capacity = capacity
  }

  /** True if the writer signed this entry for this cluster (S5); caches a positive answer. */
  verify (clusterId: string, entry: Entry): boolean {
    const signed = entrySigningBytes(clusterId, entry)
    const digest = new Uint8Array(signed.byteLength + entry.signature.byteLength)
    digest.set(signed)
    digest.set(entry.signature, signed.byteLength)
    const id = bytesToHex(sha256(digest))
    if (this.known.has(id)) return true
    if (!this.verifySignature(entry.writer, signed, entry.signature)) return false
    this.remember(id)
    return true
  }

  get size (): number {
    return this.known.size
  }

  private remember (id: string): void {
    if (this.order.length < this.capacity) {
      this.order.push(id)
    } else {
      const evicted = this.order[this.next]
      if (evicted !== undefined) this.known.delete(evicted)
      this.order[this.next] = id
      this.next = (this.next + 1) % this.capacity
    }
    this.known.add(id)
  }
}

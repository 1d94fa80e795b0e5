import { sha256 } from '@noble/hashes/sha2.js'
import { assert } from '../assert.js'
import { BUCKET_HASH_BYTES, DIGEST_BUCKETS } from '../limits.js'
import { keyBytes } from './entry.js'

/** The digest bucket of a key: from a hash of the key, so buckets fill evenly. */
export function bucketOfKey (key: string): number {
  const hash = sha256(keyBytes(key))
  return (((hash[0] as number) << 8) | (hash[1] as number)) % DIGEST_BUCKETS
}

/** Orders keys the same way on every replica (ASCII keys: code-unit order is byte order). */
export function compareKeys (a: string, b: string): number {
  return a === b ? 0 : (a < b ? -1 : 1)
}

/**
 * Per-bucket hashes over the held entries, for anti-entropy. A bucket's hash covers its entries'
 * hashes in key order; it is recomputed lazily, only for buckets changed since the last digest,
 * so a merge costs O(1) here and an idle digest costs nothing.
 */
export class BucketIndex {
  private readonly members: Array<Map<string, Uint8Array>> = []
  private readonly hashes: Uint8Array[] = []
  private readonly dirty: boolean[] = []
  private root: Uint8Array | null = null

  constructor () {
    for (let bucket = 0; bucket < DIGEST_BUCKETS; bucket++) {
      this.members.push(new Map())
      this.hashes.push(hashBucket([]))
      this.dirty.push(false)
    }
  }

  /** Records that `key` (in `bucket`) now holds the entry with hash `entryHash`. */
  set (bucket: number, key: string, entryHash: Uint8Array): void {
    this.bucketMap(bucket).set(key, entryHash)
    this.touch(bucket)
  }

  delete (bucket: number, key: string): void {
    this.bucketMap(bucket).delete(key)
    this.touch(bucket)
  }

  /** Keys held in one bucket, in key order. */
  keysOf (bucket: number): string[] {
    return [...this.bucketMap(bucket).keys()].sort(compareKeys)
  }

  /** The truncated hash of one bucket. */
  bucketHash (bucket: number): Uint8Array {
    if (this.dirty[bucket] === true) {
      const map = this.bucketMap(bucket)
      const keys = [...map.keys()].sort(compareKeys)
      this.hashes[bucket] = hashBucket(keys.map((key) => map.get(key) ?? new Uint8Array(0)))
      this.dirty[bucket] = false
    }
    const hash = this.hashes[bucket]
    assert(hash !== undefined, 'every bucket has a hash')
    return hash
  }

  /** All bucket hashes, concatenated in bucket order. */
  allBucketHashes (): Uint8Array {
    const out = new Uint8Array(DIGEST_BUCKETS * BUCKET_HASH_BYTES)
    for (let bucket = 0; bucket < DIGEST_BUCKETS; bucket++) out.set(this.bucketHash(bucket), bucket * BUCKET_HASH_BYTES)
    return out
  }

  /** One hash over every bucket: equal roots mean equal contents (up to hash collisions). */
  rootHash (): Uint8Array {
    if (this.root === null) this.root = sha256(this.allBucketHashes()).slice(0, BUCKET_HASH_BYTES)
    return this.root
  }

  private bucketMap (bucket: number): Map<string, Uint8Array> {
    const map = this.members[bucket]
    assert(map !== undefined, 'bucket index is within DIGEST_BUCKETS')
    return map
  }

  private touch (bucket: number): void {
    this.dirty[bucket] = true
    this.root = null
  }
}

function hashBucket (entryHashes: readonly Uint8Array[]): Uint8Array {
  const hasher = sha256.create()
  for (const entryHash of entryHashes) hasher.update(entryHash)
  return hasher.digest().slice(0, BUCKET_HASH_BYTES)
}

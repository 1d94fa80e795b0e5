import { assert } from '../assert.js'
import { compareKeys } from './buckets.js'

/**
 * A set of ledger keys kept in key order (`compareKeys`), for prefix listings without a scan.
 * Inserting and removing shift the array (a native move, fast for the tens of thousands of keys a
 * ledger holds); finding a key or a prefix is a binary search.
 */
export class SortedKeys {
  private readonly keys: string[] = []

  get size (): number {
    return this.keys.length
  }

  at (index: number): string | undefined {
    return this.keys[index]
  }

  /** Adds a key that is not held yet. */
  insert (key: string): void {
    const index = this.lowerBound(key)
    assert(this.keys[index] !== key, 'a key is inserted once')
    this.keys.splice(index, 0, key)
  }

  /** Removes a held key; a key that is not held is left alone. */
  remove (key: string): void {
    const index = this.lowerBound(key)
    if (this.keys[index] === key) this.keys.splice(index, 1)
  }

  /** The keys that start with `prefix`, in key order. */
  withPrefix (prefix: string): string[] {
    const out: string[] = []
    for (let index = this.lowerBound(prefix); index < this.keys.length; index++) {
      const key = this.keys[index] as string
      // Keys with the prefix sort together, right from the prefix itself.
      if (!key.startsWith(prefix)) break
      out.push(key)
    }
    return out
  }

  /** Every key, in key order (a copy). */
  all (): string[] {
    return this.keys.slice()
  }

  /** The first index whose key is not below `key`. */
  private lowerBound (key: string): number {
    let low = 0
    let high = this.keys.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (compareKeys(this.keys[middle] as string, key) < 0) low = middle + 1
      else high = middle
    }
    return low
  }
}

import { assert } from './assert.js'

/**
 * The one seeded pseudo-random generator of the core (xoshiro128**, seeded through splitmix32).
 * Deterministic for a seed, so a simulator run replays exactly. Not for secrets: key material
 * comes from the caller's CSPRNG. The API is integers only: probabilities are integer ratios.
 */
export class Prng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  constructor (seed: number) {
    assert(Number.isSafeInteger(seed), 'prng seed is a safe integer')
    let state = (seed ^ Math.floor(seed / 0x1_0000_0000)) >>> 0
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0
      let z = state
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.s0 = splitmix()
    this.s1 = splitmix()
    this.s2 = splitmix()
    this.s3 = splitmix()
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32 (): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0
    const t = (this.s1 << 9) >>> 0
    this.s2 = (this.s2 ^ this.s0) >>> 0
    this.s3 = (this.s3 ^ this.s1) >>> 0
    this.s1 = (this.s1 ^ this.s2) >>> 0
    this.s0 = (this.s0 ^ this.s3) >>> 0
    this.s2 = (this.s2 ^ t) >>> 0
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** An integer in [min, max], both inclusive, without modulo bias. */
  intInclusive (min: number, max: number): number {
    assert(Number.isSafeInteger(min) && Number.isSafeInteger(max), 'prng bounds are integers')
    assert(max >= min, 'prng range is not empty')
    const span = max - min + 1
    if (span <= 0x1_0000_0000) {
      const limit = Math.floor(0x1_0000_0000 / span) * span
      for (;;) {
        const x = this.nextU32()
        if (x < limit) return min + (x % span)
      }
    }
    // Wide ranges (rare: times in ms over years): combine two draws into 53 bits.
    for (;;) {
      const x = (this.nextU32() >>> 11) * 0x1_0000_0000 + this.nextU32()
      const limit = Math.floor(2 ** 53 / span) * span
      if (x < limit) return min + (x % span)
    }
  }

  /** True with probability numerator/denominator. */
  chance (numerator: number, denominator: number): boolean {
    assert(denominator > 0 && numerator >= 0, 'prng chance is a ratio')
    if (numerator >= denominator) return true
    if (numerator === 0) return false
    return this.intInclusive(0, denominator - 1) < numerator
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'prng pick from a non-empty list')
    return items[this.intInclusive(0, items.length - 1)] as T
  }

  /** A new array with the same elements in a random order (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.intInclusive(0, i)
      const tmp = out[i] as T
      out[i] = out[j] as T
      out[j] = tmp
    }
    return out
  }

  /** Up to `count` distinct items drawn at random: a partial shuffle, `count` draws instead of one per item. */
  sample<T>(items: readonly T[], count: number): T[] {
    const out = items.slice()
    const take = Math.min(count, out.length)
    for (let i = 0; i < take; i++) {
      const j = this.intInclusive(i, out.length - 1)
      const swap = out[i] as T
      out[i] = out[j] as T
      out[j] = swap
    }
    out.length = take
    return out
  }

  /** Deterministic bytes (for simulated key material only, never for real secrets). */
  bytes (length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i += 4) {
      const x = this.nextU32()
      for (let k = 0; k < 4 && i + k < length; k++) out[i + k] = (x >>> (8 * k)) & 0xff
    }
    return out
  }

  /** An independent generator derived from this one, so sub-systems do not perturb each other. */
  fork (): Prng {
    return new Prng(this.nextU32() * 0x20_0000 + (this.nextU32() >>> 11))
  }
}

function rotl (x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

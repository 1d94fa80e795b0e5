import { assert } from '../assert.js'

/**
 * The caller's source of random bytes: a CSPRNG in production (`crypto.getRandomValues`), a seeded
 * `Prng#bytes` in the simulator. The core never reaches for randomness on its own.
 */
export type Entropy = (length: number) => Uint8Array

/** Draws `length` bytes and checks the source kept its side of the contract. */
export function drawEntropy (entropy: Entropy, length: number): Uint8Array {
  const bytes = entropy(length)
  assert(bytes instanceof Uint8Array, 'entropy returns a Uint8Array')
  assert(bytes.byteLength === length, 'entropy returns exactly the bytes asked for')
  return bytes
}

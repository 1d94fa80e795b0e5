import { compareVersions } from './hlc.js'
import { compareBytes, compareValues } from './entry.js'
import type { Entry } from './entry.js'
import type { KeyFamily } from './keys.js'

/**
 * Which of two valid entries of one key a replica keeps. A total order per family, so every
 * replica keeps the same one whatever the arrival order: merge is commutative, associative and
 * idempotent because it is "keep the best of everything seen".
 *
 * - `node`: last writer wins, by (stamp, writer); a writer that reused a stamp for two values
 *   (a bug or a lost clock) is settled by value, then signature.
 * - write-once (`vote`, `plan`): the smallest value wins, then the earliest (stamp, writer), so
 *   the first copy of a decision stays and later re-writes of the same value are stale.
 *
 * Returns a negative number when `a` is kept, positive when `b` is, 0 for the same write.
 */
export function compareForKeep (family: KeyFamily, a: Entry, b: Entry): number {
  if (family === 'node') {
    const byVersion = compareVersions(b, a)
    if (byVersion !== 0) return byVersion
    const byValue = compareValues(b.value, a.value)
    if (byValue !== 0) return byValue
    return compareBytes(b.signature, a.signature)
  }
  const byValue = compareValues(a.value, b.value)
  if (byValue !== 0) return byValue
  const byVersion = compareVersions(a, b)
  if (byVersion !== 0) return byVersion
  return compareBytes(a.signature, b.signature)
}

// Link impairment as tc netem arguments. Kept apart from the lab so the mapping from what a test
// asks ("50 ms, 15 % loss") to what the kernel is told can be read, and checked, on its own.
import { HarnessError } from './errors.js'

export interface Impairment {
  /** Added to every packet sent. */
  readonly delayMs?: number
  /** Random variation around `delayMs` (needs a delay). */
  readonly jitterMs?: number
  /** Packets dropped, in percent. */
  readonly lossPercent?: number
  /** Packets sent at once instead of delayed, so they overtake others, in percent (needs a delay). */
  readonly reorderPercent?: number
}

function checkRange (name: string, value: number | undefined, max: number): void {
  if (value === undefined) return
  if (!Number.isFinite(value) || value < 0 || value > max) {
    throw new HarnessError('HARNESS_BAD_ARGUMENT', `impairment ${name} must be between 0 and ${max}, not ${value}`)
  }
}

/** `netem delay 50ms 10ms loss 15% reorder 25%` for `{ delayMs: 50, jitterMs: 10, lossPercent: 15, reorderPercent: 25 }`. */
export function netemArgs (impairment: Impairment): string[] {
  const { delayMs, jitterMs, lossPercent, reorderPercent } = impairment
  checkRange('delayMs', delayMs, 60_000)
  checkRange('jitterMs', jitterMs, 60_000)
  checkRange('lossPercent', lossPercent, 100)
  checkRange('reorderPercent', reorderPercent, 100)
  const hasDelay = delayMs !== undefined && delayMs > 0
  if (!hasDelay && ((jitterMs ?? 0) > 0 || (reorderPercent ?? 0) > 0)) {
    throw new HarnessError('HARNESS_BAD_ARGUMENT', 'netem jitter and reordering work on delayed packets: set delayMs too')
  }
  const args = ['netem']
  if (hasDelay) {
    args.push('delay', `${delayMs}ms`)
    if (jitterMs !== undefined && jitterMs > 0) args.push(`${jitterMs}ms`)
  }
  if (lossPercent !== undefined && lossPercent > 0) args.push('loss', `${lossPercent}%`)
  if (reorderPercent !== undefined && reorderPercent > 0) args.push('reorder', `${reorderPercent}%`)
  return args
}

import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import { SUSPICION_CONFIRMATIONS_EXPECTED, SUSPICION_MIN_DIVISOR } from './limits.js'

/**
 * How long an unconfirmed suspicion lasts before the member is declared dead, for `liveCount`
 * live members (self included): the profile's value scaled by log10(N), never below it (as
 * memberlist scales). At ten nodes or fewer it is exactly the profile's value; larger clusters
 * wait longer because a suspicion and its refutation take about log(N) gossip rounds to travel.
 */
export function suspicionTimeoutMs (baseMs: number, liveCount: number): number {
  assert(Number.isSafeInteger(baseMs) && baseMs >= 0, 'the suspicion base is a whole number of ms')
  assert(Number.isSafeInteger(liveCount) && liveCount >= 0, 'a member count is a whole number')
  const scale = Math.max(1, Math.log10(Math.max(1, liveCount)))
  return Math.round(baseMs * scale)
}

/**
 * Lifeguard's shrinking suspicion (Dadgar et al. 2018, as memberlist's suspicion.go): each
 * independent confirmation (another node's own probe failed too) shortens the timeout on a log
 * scale, from `maxMs` with none down to `maxMs / SUSPICION_MIN_DIVISOR` at `expected`. A single
 * lossy path keeps the full timeout, so the target has time to refute; several nodes failing
 * independently is strong evidence, and the member is declared dead sooner.
 */
export function confirmedTimeoutMs (maxMs: number, confirmations: number, expected: number): number {
  assert(Number.isSafeInteger(confirmations) && confirmations >= 0, 'confirmations are counted')
  assert(Number.isSafeInteger(expected) && expected >= 0, 'expected confirmations are counted')
  const minMs = Math.round(maxMs / SUSPICION_MIN_DIVISOR)
  // No other node can confirm (two members): start at the minimum, as memberlist does (k < 1).
  if (expected === 0) return minMs
  if (confirmations === 0) return maxMs
  const fraction = Math.min(1, Math.log(confirmations + 1) / Math.log(expected + 1))
  return Math.max(minMs, Math.round(maxMs - (maxMs - minMs) * fraction))
}

/**
 * Confirmations we can hope for with `liveCount` live members (self included): everyone but the
 * suspect and the first suspecter, at most SUSPICION_CONFIRMATIONS_EXPECTED.
 */
export function expectedConfirmations (liveCount: number): number {
  return Math.max(0, Math.min(SUSPICION_CONFIRMATIONS_EXPECTED, liveCount - 2))
}

/** One running suspicion: when it started and which nodes raised or confirmed it. */
export class Suspicion {
  /** Moved on by the time our own event loop was frozen (`postpone`). */
  private startedAtMs: number
  /** The suspect was pinged with this suspicion (Lifeguard's buddy system): once is enough. */
  told = false
  /** Distinct suspecters; bounded, since counting past the expected number changes nothing. */
  private readonly suspecters = new Set<NodeId>()

  constructor (startedMs: number, by: NodeId | undefined) {
    this.startedAtMs = startedMs
    if (by !== undefined) this.suspecters.add(by)
  }

  get startedMs (): number {
    return this.startedAtMs
  }

  /** Our own event loop was frozen this long: that time does not count towards the deadline. */
  postpone (frozenMs: number): void {
    assert(Number.isSafeInteger(frozenMs) && frozenMs >= 0, 'a postponement is a whole number of ms')
    this.startedAtMs += frozenMs
  }

  /** Counts `by` if it is new; true if that shortened the suspicion. */
  confirm (by: NodeId): boolean {
    if (this.suspecters.has(by) || this.suspecters.size > SUSPICION_CONFIRMATIONS_EXPECTED) return false
    this.suspecters.add(by)
    return this.suspecters.size > 1
  }

  /** Independent confirmations beyond the first suspecter. */
  get confirmations (): number {
    return Math.max(0, this.suspecters.size - 1)
  }

  deadlineMs (maxMs: number, expected: number): number {
    return this.startedAtMs + confirmedTimeoutMs(maxMs, this.confirmations, expected)
  }
}

import { assert } from '../assert.js'
import { HLC_COUNTER_MAX } from '../limits.js'
import type { NodeId } from '../identity.js'

/**
 * A hybrid logical clock stamp: the wall time in ms of the writer's clock as it was, and a counter
 * that orders events within one millisecond (and events after a remote stamp from the future).
 */
export interface Stamp {
  readonly wallMs: number
  readonly counter: number
}

/** Orders stamps: by wall time, then counter. */
export function compareStamps (a: Stamp, b: Stamp): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  return 0
}

/** The total order of writes: (stamp, writer). Writers compare as strings, the same everywhere. */
export function compareVersions (a: { stamp: Stamp, writer: NodeId }, b: { stamp: Stamp, writer: NodeId }): number {
  const byStamp = compareStamps(a.stamp, b.stamp)
  if (byStamp !== 0) return byStamp
  if (a.writer === b.writer) return 0
  return a.writer < b.writer ? -1 : 1
}

/** True for a stamp whose parts are integers in range (entries from outside are checked with it). */
export function isValidStamp (stamp: Stamp): boolean {
  return Number.isSafeInteger(stamp.wallMs) && stamp.wallMs >= 0 &&
    Number.isSafeInteger(stamp.counter) && stamp.counter >= 0 && stamp.counter <= HLC_COUNTER_MAX
}

/**
 * The local hybrid logical clock. `now` stamps local writes, `observe` folds in a received stamp so
 * that our next write orders after what we have seen. A remote stamp may pull our clock forward by
 * at most `maxClockSkewMs` past our wall clock: one node with a wild clock cannot drag the others
 * into its future. Only the clock is clamped; accepting an entry never depends on local time, or
 * replicas holding the same entries could disagree.
 */
export class HybridClock {
  private wallMs: number
  private counter: number
  readonly maxClockSkewMs: number

  constructor (maxClockSkewMs: number, last: Stamp = { wallMs: 0, counter: 0 }) {
    assert(Number.isSafeInteger(maxClockSkewMs) && maxClockSkewMs >= 0, 'maxClockSkewMs is a non-negative integer')
    assert(isValidStamp(last), 'the restored clock stamp is valid')
    this.maxClockSkewMs = maxClockSkewMs
    this.wallMs = last.wallMs
    this.counter = last.counter
  }

  /** The last stamp handed out or observed. */
  peek (): Stamp {
    return { wallMs: this.wallMs, counter: this.counter }
  }

  /** A fresh stamp for a local write, above every stamp before it. */
  now (nowMs: number): Stamp {
    assertTime(nowMs)
    if (nowMs > this.wallMs) {
      this.wallMs = nowMs
      this.counter = 0
    } else {
      this.tickCounter()
    }
    return this.peek()
  }

  /**
   * Folds a received stamp into the clock. Returns true if the stamp was further ahead of `nowMs`
   * than `maxClockSkewMs` and was clamped (worth counting: some node's clock is wrong).
   */
  observe (remote: Stamp, nowMs: number): boolean {
    assertTime(nowMs)
    if (!isValidStamp(remote)) return true
    const ceilingMs = nowMs + this.maxClockSkewMs
    const clamped = remote.wallMs > ceilingMs
    const remoteWallMs = clamped ? ceilingMs : remote.wallMs
    const remoteCounter = clamped ? 0 : remote.counter
    const wallMs = Math.max(this.wallMs, remoteWallMs, nowMs)
    if (wallMs === this.wallMs && wallMs === remoteWallMs) {
      this.counter = Math.max(this.counter, remoteCounter)
      this.tickCounter()
    } else if (wallMs === this.wallMs) {
      this.tickCounter()
    } else if (wallMs === remoteWallMs) {
      this.wallMs = wallMs
      this.counter = remoteCounter
      this.tickCounter()
    } else {
      this.wallMs = wallMs
      this.counter = 0
    }
    return clamped
  }

  /** A fresh stamp for a local write that must also order after `floor` (the entry it replaces). */
  nowAbove (floor: Stamp, nowMs: number): Stamp {
    const stamp = this.now(nowMs)
    if (compareStamps(stamp, floor) > 0) return stamp
    this.wallMs = floor.wallMs
    this.counter = floor.counter
    this.tickCounter()
    return this.peek()
  }

  private tickCounter (): void {
    if (this.counter >= HLC_COUNTER_MAX) {
      // Counter exhausted within one ms: borrow the next ms, order is kept.
      this.wallMs += 1
      this.counter = 0
    } else {
      this.counter += 1
    }
  }
}

function assertTime (nowMs: number): void {
  assert(Number.isSafeInteger(nowMs) && nowMs >= 0, 'nowMs is a non-negative integer')
}

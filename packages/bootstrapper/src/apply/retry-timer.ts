/** Back-off of retries (a failed start, a probe that says "not yet"), in milliseconds. */
export interface Backoff {
  readonly initialMs: number
  readonly maxMs: number
}

/**
 * One retry at a time, with doubling back-off: a failed step (a start, a deletion) is tried again
 * later by poking the applier, never in a tight loop. Failures of a step that keep failing wait up
 * to four times the probe back-off's maximum.
 */
export class RetryTimer {
  private readonly backoff: Backoff
  private readonly fire: () => void
  private timer: ReturnType<typeof setTimeout> | undefined
  private nextMs: number

  constructor (backoff: Backoff, fire: () => void) {
    this.backoff = backoff
    this.fire = fire
    this.nextMs = backoff.initialMs
  }

  /** The wait before the next retry, as `schedule` will use it. */
  get waitMs (): number {
    return this.nextMs
  }

  /** Fires once after the current wait, then doubles the wait; a pending retry is replaced. */
  schedule (): void {
    clearTimeout(this.timer)
    const waitMs = this.nextMs
    this.nextMs = Math.min(this.nextMs * 2, Math.max(this.backoff.maxMs * 4, this.backoff.initialMs))
    this.timer = setTimeout(() => { this.timer = undefined; this.fire() }, waitMs)
    this.timer.unref?.()
  }

  /** The step succeeded: the next failure starts from the initial wait again. */
  reset (): void {
    this.nextMs = this.backoff.initialMs
  }

  clear (): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }
}

/**
 * Coalesces mDNS answers: at most one per window. Answers are multicast, so a node that answers
 * once serves every node that asked during the window; a query that arrives too soon after an
 * answer is not dropped but served by one answer at the end of the window. A limit per query
 * source would not work here: every node on one host (tests, the demo) shares one source address
 * and port. Pure: time comes in as `nowMs`.
 */
export class AnswerLimiter {
  private lastAnswerAtMs = Number.NEGATIVE_INFINITY
  private pending = false

  constructor (private readonly intervalMs: number) {}

  /**
   * A query for our tag arrived at `nowMs`. Returns 0 to answer now, a positive number of ms to
   * answer once after that wait, or undefined when an answer is already scheduled and will serve
   * this query too.
   */
  onQuery (nowMs: number): number | undefined {
    if (this.pending) return undefined
    const waitMs = this.lastAnswerAtMs + this.intervalMs - nowMs
    if (waitMs <= 0) return 0
    this.pending = true
    return Math.ceil(waitMs)
  }

  /** An answer (or an unsolicited announcement) went out at `nowMs`. */
  answered (nowMs: number): void {
    this.lastAnswerAtMs = nowMs
    this.pending = false
  }

  /** A scheduled answer was dropped (the node stopped); the next query is answered at once. */
  cancel (): void {
    this.pending = false
  }

  /** True while an answer is scheduled for the end of the window. */
  get isPending (): boolean {
    return this.pending
  }
}

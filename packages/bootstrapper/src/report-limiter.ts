import { BootstrapperError } from './errors.js'
import type { BootstrapperErrorCode } from './errors.js'

/**
 * Rate limit for reports a peer can cause at will (bad frames, rejected ledger entries): 2 MB of
 * junk once wrote 8,000 warning lines. Per code and interval, the first `perIntervalMax` are
 * passed on whole; the rest are counted, and when the interval ends one report says how many were
 * left out, with the first of them as a sample. Time is read from `now`, so tests drive it.
 */

export interface ReportLimiterOptions {
  readonly intervalMs: number
  readonly perIntervalMax: number
  readonly emit: (error: BootstrapperError) => void
  readonly now?: () => number
}

interface Window {
  startMs: number
  passed: number
  suppressed: number
  sample: string | null
}

export class ReportLimiter {
  readonly #windows = new Map<BootstrapperErrorCode, Window>()
  readonly #now: () => number

  constructor (private readonly options: ReportLimiterOptions) {
    this.#now = options.now ?? Date.now
  }

  /** Passes `error` on, or counts it when its code already reported `perIntervalMax` this interval. */
  offer (error: BootstrapperError): void {
    const nowMs = this.#now()
    this.#flushCode(error.code, nowMs)
    const window = this.#windows.get(error.code) ?? { startMs: nowMs, passed: 0, suppressed: 0, sample: null }
    this.#windows.set(error.code, window)
    if (window.passed < this.options.perIntervalMax) {
      window.passed++
      this.options.emit(error)
      return
    }
    window.suppressed++
    window.sample ??= error.message
  }

  /** Ends every interval that is over, reporting what each left out; call it periodically. */
  flush (): void {
    const nowMs = this.#now()
    for (const code of [...this.#windows.keys()]) this.#flushCode(code, nowMs)
  }

  #flushCode (code: BootstrapperErrorCode, nowMs: number): void {
    const window = this.#windows.get(code)
    if (window === undefined || nowMs - window.startMs < this.options.intervalMs) return
    this.#windows.delete(code)
    if (window.suppressed === 0) return
    const seconds = Math.round((nowMs - window.startMs) / 1000)
    this.options.emit(new BootstrapperError(code,
      `${window.suppressed} more like this in the last ${seconds} s, not logged one by one (sample: ${window.sample ?? ''})`))
  }
}

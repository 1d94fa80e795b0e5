/**
 * Reminders while a wait lasts: a node that waits in silence looks hung, so each wait is repeated
 * at a growing interval with how long it has lasted. Time and timers are injected, so the schedule
 * is tested without waiting on the wall clock.
 */

/** Runs a callback later; returns its cancel. */
export interface Scheduler {
  schedule: (delayMs: number, run: () => void) => () => void
}

/** Node's timers, unref'd: a pending reminder never keeps the process alive. */
export const timerScheduler: Scheduler = {
  schedule (delayMs, run) {
    const timer = setTimeout(run, delayMs)
    timer.unref()
    return () => { clearTimeout(timer) }
  }
}

/** How long into a wait the first reminders come; after the last, one every REMINDER_EVERY_MS. */
export const REMINDER_OFFSETS_MS: readonly number[] = [10_000, 30_000, 60_000]
/** Long waits (a k3s start on a slow disk, a missing node) are repeated every 5 minutes. */
export const REMINDER_EVERY_MS = 300_000

/**
 * How long after `waitedMs` into a wait the next reminder is due: the first offset past it, then
 * the next multiple of REMINDER_EVERY_MS. Measured from the wait's start, so a late timer does not
 * push every later reminder back.
 */
export function reminderDelayMs (waitedMs: number): number {
  const elapsedMs = Math.max(0, waitedMs)
  const offset = REMINDER_OFFSETS_MS.find(atMs => atMs > elapsedMs)
  if (offset !== undefined) return offset - elapsedMs
  return (Math.floor(elapsedMs / REMINDER_EVERY_MS) + 1) * REMINDER_EVERY_MS - elapsedMs
}

/** What is awaited, by whom (a phase of the agent, or the command), since when. */
export interface Wait {
  /** The agent's phase, or null for a wait of the command itself. */
  readonly phase: string | null
  readonly waitingFor: string
  readonly sinceMs: number
}

/** One subject's current wait and its reminders; a new wait replaces (and cancels) the old one. */
export class WaitReminders {
  private cancel: (() => void) | undefined
  private stopped = false

  constructor (
    private readonly scheduler: Scheduler,
    private readonly nowMs: () => number,
    private readonly remind: (wait: Wait, waitedMs: number) => void
  ) {}

  /** Starts reminding of `wait` (cancelling the previous one's). */
  begin (wait: Wait): void {
    this.end()
    if (this.stopped) return
    this.scheduleNext(wait)
  }

  /** The wait is over (or is not a wait): no more reminders of it. */
  end (): void {
    this.cancel?.()
    this.cancel = undefined
  }

  /** No reminders from now on, whatever begins later. */
  stop (): void {
    this.stopped = true
    this.end()
  }

  private scheduleNext (wait: Wait): void {
    const delayMs = reminderDelayMs(this.nowMs() - wait.sinceMs)
    this.cancel = this.scheduler.schedule(delayMs, () => {
      this.cancel = undefined
      if (this.stopped) return
      this.remind(wait, this.nowMs() - wait.sinceMs)
      this.scheduleNext(wait)
    })
  }
}

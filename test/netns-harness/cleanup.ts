// Every exit path removes what a lab made. Normal ends and failed assertions dispose the lab from
// the test (afterEach / finally); this registry covers the rest: a process that exits with a lab
// still open (a timed-out test, an uncaught error) and SIGINT/SIGTERM/SIGHUP (Ctrl-C, or vitest
// stopping a worker). Teardown there must be synchronous: an exit handler cannot wait.

/** What the registry can tear down without waiting. */
export interface SyncDisposable {
  /** Kills the lab's processes and deletes its namespaces; keeps its logs and says where. */
  disposeSync: (why: string) => void
}

const open = new Set<SyncDisposable>()
let installed = false
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

function disposeAll (why: string): void {
  for (const item of [...open]) {
    open.delete(item)
    try {
      item.disposeSync(why)
    } catch {
      // Teardown of one lab must not keep the others alive.
    }
  }
}

function onSignal (signal: typeof SIGNALS[number]): void {
  disposeAll(`received ${signal}`)
  for (const name of SIGNALS) process.off(name, onSignal)
  // Another listener (the test runner's) already got this signal and decides what happens next;
  // without one, the signal's default ends the process as it would have without the harness.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

function install (): void {
  if (installed) return
  installed = true
  process.on('exit', () => { disposeAll('the process exited with a lab still open') })
  for (const name of SIGNALS) process.on(name, onSignal)
}

export function trackForCleanup (item: SyncDisposable): void {
  install()
  open.add(item)
}

export function untrackForCleanup (item: SyncDisposable): void {
  open.delete(item)
}

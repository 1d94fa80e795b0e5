/** How long the process may linger after its command returned before it is made to exit. */
export const EXIT_GRACE_MS = 5_000

/**
 * Ends the process with `status` once its command has returned. Setting `exitCode` (rather than
 * exiting at once) lets stdout drain; the unref'd timer only fires if something else (a stray
 * socket or timer of a dependency) would keep the process alive, so a first-boot unit waiting on
 * `run --once` is never left hanging after the command is done.
 */
export function exitWhenDone (status: number, graceMs: number = EXIT_GRACE_MS): void {
  process.exitCode = status
  const timer = setTimeout(() => {
    process.stderr.write(`p2p-bootstrap: still running ${graceMs / 1000} s after the command finished; exiting with status ${status}\n`)
    process.exit(status)
  }, graceMs)
  timer.unref()
}

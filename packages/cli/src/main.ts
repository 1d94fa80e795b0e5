import { reportFor } from './exit-status.js'
import type { CliIo } from './io.js'
import { createProgram } from './program.js'

export { processIo } from './io.js'
export { exitWhenDone } from './process-exit.js'

/**
 * Runs the command line `argv` (without node and script) and resolves to the exit status.
 * Never exits the process and never throws: every error becomes one stderr line and a status.
 */
export async function main (argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await createProgram(io).parseAsync([...argv], { from: 'user' })
    return 0
  } catch (error) {
    const report = reportFor(error)
    if (report.line !== undefined) io.writeErr(`p2p-bootstrap: ${report.line}\n`)
    return report.exitStatus
  }
}

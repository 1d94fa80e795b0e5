/**
 * @packageDocumentation
 *
 * The `p2p-bootstrap` command. Each top-level command is one module under `src/commands/`,
 * listed in `src/commands/index.ts`; `main(argv, io)` runs a command line in-process and
 * resolves to its exit status (see `EXIT_STATUS`), which is what the bin and the tests call.
 *
 * @example
 * ```ts
 * import { main, processIo } from 'p2p-bootstrap'
 *
 * process.exitCode = await main(['token', 'generate', '--expect', '3'], processIo())
 * ```
 */
export { exitWhenDone, main, processIo } from './main.js'
export type { CliIo } from './io.js'
export { EXIT_STATUS, reportFor } from './exit-status.js'
export type { ErrorReport } from './exit-status.js'
export { CliError } from './errors.js'
export type { CliErrorCode } from './errors.js'
export type { CommandModule, CommandContext } from './commands/command.js'
export { createProgram } from './program.js'

import type { Command } from 'commander'
import type { CliIo } from '../io.js'

/** What every command module receives besides the program to attach to. */
export interface CommandContext {
  readonly io: CliIo
}

/** One top-level command (`token`, later `run`, `status`, `demo`, …) in its own module. */
export interface CommandModule {
  readonly name: string
  register: (program: Command, context: CommandContext) => void
}

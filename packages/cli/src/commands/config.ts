import { CONFIG_FILE_DEFAULT, CONFIG_FILE_ENV, configFilePath } from '../config/default-path.js'
import { ConfigError } from '../config/errors.js'
import { jsonErrorOf } from '../json-error.js'
import type { CommandContext, CommandModule } from './command.js'

interface CheckFlags {
  json?: boolean
}

/**
 * `config check [FILE]`: validates a config file offline, with `run`'s own code and messages, so
 * an image build can refuse a file before it ships. Exit status 0 when valid, else the status
 * `run` would exit with (2 for a bad setting, 3 for a bad token).
 */
export const configCommand: CommandModule = {
  name: 'config',
  register (program, context) {
    const config = program.command('config').description('work with the run config file')
    config.command('check')
      .description(`check a config file offline, as run would read it (default: ${CONFIG_FILE_DEFAULT}, or ${CONFIG_FILE_ENV})`)
      .argument('[file]', 'the config file (native, or a Kairos cloud-config with a p2p: block)')
      .option('--json', 'print the result as one JSON object, an error too')
      .action(async (file: string | undefined, flags: CheckFlags) => { await check(file, flags, context) })
  }
}

async function check (given: string | undefined, flags: CheckFlags, { io }: CommandContext): Promise<void> {
  const path = await configFilePath(given, process.env)
  if (path === undefined) {
    throw new ConfigError('CLI_CONFIG', `no config file to check: ${CONFIG_FILE_DEFAULT} does not exist; pass the file: p2p-bootstrap config check FILE`)
  }
  // Loaded only for this command: the check runs `run`'s readers and option rules (zod, yaml).
  const { checkConfigFile, formatConfigCheck } = await import('../config/check.js')
  try {
    const report = await checkConfigFile(path, { signal: io.shutdownSignal() })
    io.writeOut(flags.json === true ? `${JSON.stringify({ valid: true, ...report })}\n` : formatConfigCheck(report))
  } catch (err) {
    // The JSON answer on stdout for scripts; main still prints the line and sets the status.
    if (flags.json === true) io.writeOut(`${JSON.stringify({ valid: false, file: path, ...jsonErrorOf(err) })}\n`)
    throw err
  }
}

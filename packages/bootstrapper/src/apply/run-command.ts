import { execFile } from 'node:child_process'
import type { CommandLine } from './apply-options.js'

/** What a finished command gave back; `code` is null when a signal (or the timeout) ended it. */
export interface CommandResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** Set when the command could not be started at all (not found, not executable). */
  readonly spawnError?: string
  readonly timedOut: boolean
}

export interface RunCommandOptions {
  readonly timeoutMs: number
  readonly signal: AbortSignal
  /** Added to the agent's environment. */
  readonly env: Readonly<Record<string, string>>
}

/** Output kept from a command: enough for an error message, bounded so a chatty command cannot fill memory. */
const OUTPUT_BYTES_MAX = 64 * 1024

/**
 * Runs `argv` without a shell (no quoting surprises; arguments come from a config file), with a
 * timeout and the agent's stop signal. Never throws for a failing command: the caller decides.
 */
export async function runCommand (argv: CommandLine, options: RunCommandOptions): Promise<CommandResult> {
  const [file, ...args] = argv
  if (file === undefined) return { code: null, stdout: '', stderr: '', spawnError: 'the command is empty', timedOut: false }
  options.signal.throwIfAborted()
  return await new Promise<CommandResult>((resolve) => {
    execFile(file, args, {
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: OUTPUT_BYTES_MAX,
      signal: options.signal,
      env: { ...process.env, ...options.env },
      encoding: 'utf8'
    }, (error, stdout, stderr) => {
      if (error === null) { resolve({ code: 0, stdout, stderr, timedOut: false }); return }
      const errno = error as NodeJS.ErrnoException & { code?: string | number, killed?: boolean }
      if (typeof errno.code === 'string' && errno.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' && errno.code !== 'ABORT_ERR') {
        resolve({ code: null, stdout, stderr, spawnError: `${errno.code}: ${error.message}`, timedOut: false })
        return
      }
      const exitCode = typeof errno.code === 'number' ? errno.code : null
      resolve({ code: exitCode, stdout, stderr, timedOut: errno.killed === true && !options.signal.aborted })
    })
  })
}

/** `argv` with `{service}` replaced: one template serves servers and workers. */
export function expandCommand (argv: CommandLine, service: string): string[] {
  return argv.map(part => part.replaceAll('{service}', service))
}

/** One line for a log or an error: the command, and why it failed. */
export function describeFailure (argv: CommandLine, result: CommandResult, timeoutMs: number): string {
  const command = argv.join(' ')
  if (result.spawnError !== undefined) return `\`${command}\` could not run (${result.spawnError})`
  if (result.timedOut) return `\`${command}\` did not finish within ${Math.round(timeoutMs / 1000)} s`
  const output = lastLine(result.stderr) ?? lastLine(result.stdout)
  const status = result.code === null ? 'was killed' : `exited with status ${result.code}`
  return `\`${command}\` ${status}${output === undefined ? '' : `: ${output}`}`
}

function lastLine (text: string): string | undefined {
  const lines = text.split('\n').map(line => line.trim()).filter(line => line !== '')
  const last = lines.at(-1)
  return last === undefined ? undefined : last.slice(0, 300)
}

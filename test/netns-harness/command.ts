// Runs the system tools the harness drives (`ip`, `tc`) without a shell, so no argument is ever
// interpreted twice. The async form is used while a lab runs; the sync form only where nothing
// may wait (process exit and signal handlers, import-time capability probes).
import { execFile, spawnSync } from 'node:child_process'
import { HarnessError } from './errors.js'

/** How long one `ip`/`tc` call may take; they answer in milliseconds unless the kernel is stuck. */
const COMMAND_TIMEOUT_MS = 15_000
/** Output kept from one call: `ip` listings of a lab are a few kilobytes. */
const COMMAND_OUTPUT_BYTES_MAX = 1024 * 1024

export interface CommandResult {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface CommandOptions {
  readonly signal?: AbortSignal
}

function describe (file: string, args: readonly string[]): string {
  return [file, ...args].join(' ')
}

/** Runs `file args…` and resolves with its output, whatever its exit status. */
export async function runCommand (file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  options.signal?.throwIfAborted()
  return await new Promise((resolve, reject) => {
    execFile(file, [...args], {
      encoding: 'utf8',
      timeout: COMMAND_TIMEOUT_MS,
      maxBuffer: COMMAND_OUTPUT_BYTES_MAX,
      ...(options.signal === undefined ? {} : { signal: options.signal })
    }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        // Not an exit status: the tool is missing, timed out or was aborted.
        reject(new HarnessError('HARNESS_COMMAND_FAILED', `'${describe(file, args)}' could not run: ${error.message}; is ${file} installed and are we root?`, { cause: error }))
        return
      }
      resolve({ status: error === null ? 0 : (typeof error.code === 'number' ? error.code : null), stdout, stderr })
    })
  })
}

/** Runs `file args…` and resolves with its stdout; a non-zero exit rejects naming the command. */
export async function mustRun (file: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  const result = await runCommand(file, args, options)
  if (result.status !== 0) {
    throw new HarnessError('HARNESS_COMMAND_FAILED', `'${describe(file, args)}' failed (exit ${String(result.status)}): ${result.stderr.trim()}`)
  }
  return result.stdout
}

/** The synchronous form, for exit handlers and probes; never throws. */
export function runCommandSync (file: string, args: readonly string[]): CommandResult {
  const result = spawnSync(file, [...args], { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS, maxBuffer: COMMAND_OUTPUT_BYTES_MAX })
  if (result.error !== undefined) return { status: null, stdout: '', stderr: result.error.message }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

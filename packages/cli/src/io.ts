import { CliError } from './errors.js'

/** Largest standard input read for a token given as '-': far above any token. */
export const STDIN_BYTES_MAX = 64 * 1024

/** Everything the CLI touches outside itself, so tests run it in-process with captured output. */
export interface CliIo {
  writeOut: (text: string) => void
  writeErr: (text: string) => void
  /** All of standard input as text (for a token passed as '-'). */
  readIn: () => Promise<string>
  /** Wall-clock time: the CLI, not the core, reads the clock. */
  nowMs: () => number
  /** Aborted when the process is asked to stop (SIGINT, SIGTERM), so a long command ends cleanly. */
  shutdownSignal: () => AbortSignal
  /** True when standard output is a terminal (a person is watching); absent means it is not. */
  stdoutIsTty?: boolean
}

/** The real process: stdout, stderr, stdin and Date.now(). */
export function processIo (): CliIo {
  return {
    writeOut: (text) => { process.stdout.write(text) },
    writeErr: (text) => { process.stderr.write(text) },
    readIn: readProcessStdin,
    nowMs: () => Date.now(),
    shutdownSignal: processShutdownSignal,
    stdoutIsTty: process.stdout.isTTY
  }
}

let shutdown: AbortController | undefined

/** Installed on first use only: commands that never ask keep the default signal behaviour. */
function processShutdownSignal (): AbortSignal {
  if (shutdown === undefined) {
    const controller = new AbortController()
    shutdown = controller
    for (const name of ['SIGINT', 'SIGTERM'] as const) {
      // once: a second signal takes the default action, so a stuck stop can still be interrupted.
      process.once(name, () => { controller.abort(new Error(`stopped by ${name}`)) })
    }
  }
  return shutdown.signal
}

async function readProcessStdin (): Promise<string> {
  const chunks: Buffer[] = []
  let totalBytes = 0
  for await (const chunk of process.stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    totalBytes += bytes.byteLength
    if (totalBytes > STDIN_BYTES_MAX) {
      throw new CliError('CLI_STDIN', `standard input is over ${STDIN_BYTES_MAX} bytes: pipe in one token`)
    }
    chunks.push(bytes)
  }
  return Buffer.concat(chunks).toString('utf8')
}

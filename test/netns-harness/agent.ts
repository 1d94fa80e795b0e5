// One run of the real `p2p-bootstrap run` inside a host's namespace: `ip netns exec <ns> node
// <bin> run --json …`. `ip netns exec` enters the namespace and execs the command in place (no
// fork), so the child's pid is the agent's own pid and signals reach the agent directly. Its
// stdout and stderr go straight to files (not pipes), so the log is complete even if the test
// process dies, and a restart gets fresh files (`run-2.out.log`) beside the first run's.
import { closeSync, openSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { binPath } from './binary.js'
import { HarnessError } from './errors.js'
import { parseEventLines } from './events.js'
import type { AgentEvent } from './events.js'

/** What to start: the token (given as P2PB_TOKEN, never on the command line) and `run` flags. */
export interface AgentLaunch {
  readonly token: string
  /** Flags after the ones the harness sets (`--json --state-dir --root --listen --node-ip --interface`). */
  readonly flags?: readonly string[]
  /** Extra environment, e.g. DEBUG for libp2p logs. */
  readonly env?: Readonly<Record<string, string>>
}

export interface AgentExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** One incarnation of the agent on a host. */
export class AgentProcess {
  readonly pid: number
  readonly stdoutPath: string
  readonly stderrPath: string
  /** Resolves when the process has exited and been reaped. */
  readonly exited: Promise<AgentExit>
  private exit: AgentExit | null = null

  private constructor (readonly incarnation: number, readonly args: readonly string[], pid: number, paths: { stdout: string, stderr: string }, exited: Promise<AgentExit>) {
    this.pid = pid
    this.stdoutPath = paths.stdout
    this.stderrPath = paths.stderr
    this.exited = exited.then((exit) => {
      this.exit = exit
      return exit
    })
  }

  /** Starts `run` in namespace `namespace`; `incarnation` numbers the log files. */
  static spawn (options: { namespace: string, logDir: string, incarnation: number, args: readonly string[], launch: AgentLaunch }): AgentProcess {
    const paths = {
      stdout: join(options.logDir, `run-${options.incarnation}.out.log`),
      stderr: join(options.logDir, `run-${options.incarnation}.err.log`)
    }
    const out = openSync(paths.stdout, 'a')
    const err = openSync(paths.stderr, 'a')
    try {
      const child = spawn('ip', ['netns', 'exec', options.namespace, process.execPath, binPath, ...options.args], {
        stdio: ['ignore', out, err],
        env: { ...process.env, ...options.launch.env, P2PB_TOKEN: options.launch.token }
      })
      const pid = child.pid
      if (pid === undefined) {
        throw new HarnessError('HARNESS_COMMAND_FAILED', `could not start the agent in ${options.namespace}: is iproute2 installed?`)
      }
      const exited = new Promise<AgentExit>((resolve) => {
        child.once('exit', (code, signal) => { resolve({ code, signal }) })
        // A process that could not be spawned may never emit 'exit': it is over all the same.
        child.once('error', () => { resolve({ code: null, signal: null }) })
      })
      return new AgentProcess(options.incarnation, options.args, pid, paths, exited)
    } finally {
      // The child holds its own copies of the descriptors.
      closeSync(out)
      closeSync(err)
    }
  }

  get running (): boolean {
    return this.exit === null
  }

  /** How it ended, or null while it runs. */
  get exitStatus (): AgentExit | null {
    return this.exit
  }

  /** Sends `signal` to this agent, by its pid, if it still runs. */
  signal (signal: NodeJS.Signals): void {
    if (this.exit !== null) return
    try {
      process.kill(this.pid, signal)
    } catch (err) {
      // ESRCH: it exited between our check and the kill; the 'exit' event follows.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
    }
  }

  /** Every event this run printed so far. */
  async events (): Promise<AgentEvent[]> {
    return parseEventLines(await readFile(this.stdoutPath, 'utf8'))
  }

  async stderr (): Promise<string> {
    return await readFile(this.stderrPath, 'utf8')
  }
}

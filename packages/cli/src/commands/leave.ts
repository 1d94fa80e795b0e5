import { join } from 'node:path'
import type { LeaveUpdate } from '@p2p-bootstrap/bootstrapper'
import type { Rule } from '../config/rules.js'
import { CliError } from '../errors.js'
import type { CliIo } from '../io.js'
import type { CommandContext, CommandModule } from './command.js'
import { STATE_DIR_HELP } from './state-dir-flag.js'

/** How long `leave` follows the agent by default: a worker leaves in seconds, a control plane may wait for a node. */
export const LEAVE_TIMEOUT_SECONDS_DEFAULT = 600
const LEAVE_TIMEOUT_SECONDS_MAX = 7 * 24 * 3600

const timeoutRule: Rule<number> = {
  wants: `a whole number of seconds from 1 to ${LEAVE_TIMEOUT_SECONDS_MAX}`,
  accepts: (value) => Number.isSafeInteger(value) && value >= 1 && value <= LEAVE_TIMEOUT_SECONDS_MAX
}

interface LeaveFlags {
  stateDir?: string
  timeout?: string
  json?: boolean
}

/**
 * `leave`: asks the agent running on this state dir to take this node out of the cluster, and
 * follows it over the agent socket: the request, what it waits for, the epoch that retires the
 * node, its retirement carried out (k3s drained and stopped), then the agent stopping. Exits 0
 * once the node left and the agent stopped; on a timeout, non-zero with what it still waits for
 * (the request stands: the agent goes on and stops by itself).
 */
export const leaveCommand: CommandModule = {
  name: 'leave',
  register (program, context) {
    program.command('leave')
      .description('take this node out of the cluster: the running agent has a new epoch retire it (handing a control-plane role to a worker), drains and stops k3s, and stops')
      .option('--state-dir <dir>', `the state dir of the agent to ask ${STATE_DIR_HELP}`)
      .option('--timeout <seconds>', `give up following it after this long (default ${LEAVE_TIMEOUT_SECONDS_DEFAULT}); the agent keeps leaving`)
      .option('--json', 'print each step as one JSON object per line, each with an `event` field')
      .action(async (flags: LeaveFlags) => { await leave(flags, context) })
  }
}

function timeoutSeconds (text: string | undefined, problem: (rule: Rule<number>, value: string) => string): number {
  if (text === undefined) return LEAVE_TIMEOUT_SECONDS_DEFAULT
  const value = /^[0-9]{1,9}$/.test(text) ? Number(text) : Number.NaN
  if (!timeoutRule.accepts(value)) throw new CliError('CLI_USAGE', `--timeout ${problem(timeoutRule, JSON.stringify(text))}`)
  return value
}

async function leave (flags: LeaveFlags, { io }: CommandContext): Promise<void> {
  // Loaded only for this command (the agent's socket client), not for every invocation.
  const [{ DEFAULT_STATE_DIR, STATUS_SOCKET_NAME, requestLeave, shortId, waitForAgentGone }, { problem }] = await Promise.all([
    import('@p2p-bootstrap/bootstrapper'), import('../config/rules.js')
  ])
  const seconds = timeoutSeconds(flags.timeout, problem)
  const stateDir = flags.stateDir ?? DEFAULT_STATE_DIR
  const socketPath = join(stateDir, STATUS_SOCKET_NAME)
  const shutdown = io.shutdownSignal()
  const deadline = AbortSignal.timeout(seconds * 1000)
  const signal = AbortSignal.any([shutdown, deadline])
  const print = printer(io, flags.json === true)
  // What the command waits for now, for the timeout's message.
  let awaited = 'the agent to answer'
  try {
    const { epoch } = await requestLeave(socketPath, {
      signal,
      onUpdate: (update) => {
        awaited = awaitedAfter(update, awaited)
        print(update, updateWords(update, shortId))
      }
    })
    awaited = 'the agent to stop'
    await waitForAgentGone(socketPath, { signal })
    print({ event: 'stopped', epoch }, `done: the agent stopped; this node left the cluster at epoch ${epoch} and no plan counts it again. ` +
      `Before this machine joins again, remove its state dir (${stateDir}): with it, it would leave again at once`)
  } catch (err) {
    if (deadline.aborted) {
      throw new CliError('CLI_TIMEOUT', `gave up after ${seconds} s waiting for ${awaited}; the request to leave stands: the agent leaves, and stops, ` +
        'once a committed epoch retires this node. Follow it with `p2p-bootstrap leave` again (or `status`), or raise --timeout')
    }
    if (shutdown.aborted) throw new CliError('CLI_INTERRUPTED', `stopped by a signal while waiting for ${awaited}; the request to leave stands and the agent goes on with it`)
    throw err
  }
}

/** What is awaited once `update` arrived. */
function awaitedAfter (update: LeaveUpdate, before: string): string {
  switch (update.event) {
    case 'leaving':
    case 'waiting':
      return update.waitingFor
    case 'retired':
      return `this node's retirement (epoch ${update.epoch}) to be carried out: k3s drained and stopped`
    case 'left':
      return 'the agent to stop'
    default:
      return before
  }
}

/** One line per step: its fields as JSON, or its words. */
function printer (io: CliIo, json: boolean): (line: { readonly event: string, readonly [field: string]: unknown }, words: string) => void {
  return (line, words) => { io.writeOut(`${json ? JSON.stringify(line) : words}\n`) }
}

function updateWords (update: LeaveUpdate, shortId: (nodeId: string) => string): string {
  switch (update.event) {
    case 'leaving': {
      const role = update.role === null ? 'no role' : update.role === 'control-plane' ? 'a control plane' : 'a worker'
      return `asked node ${shortId(update.nodeId)} (${role} in plan epoch ${update.epoch}) to leave; waiting for ${update.waitingFor}`
    }
    case 'waiting':
      return `waiting for ${update.waitingFor}`
    case 'epoch': {
      const { record } = update
      const why = record.notes.length === 0 ? 'no notes' : record.notes.join('; ')
      return `epoch ${record.epoch} committed (proposed by ${shortId(record.proposer)}, ${record.voters.length} vote${record.voters.length === 1 ? '' : 's'}): ${why}`
    }
    case 'retired':
      return `epoch ${update.epoch} retires this node; carrying out its retirement (k3s drained and stopped)`
    case 'left':
      return `this node left the cluster (epoch ${update.epoch}); the agent is stopping`
    case 'error':
      return `error: ${update.error}`
  }
}

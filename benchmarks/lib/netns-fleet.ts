// Fleets of the real `p2p-bootstrap` binary on test hosts in network namespaces, for the
// benchmarks that need real packets (formation over emulated latency, `kill -9` of a node). Built
// on test/netns-harness: each lab is disposed in every exit path (a finally here, the harness's
// exit and signal handlers for errors and Ctrl-C, and a detached guard for a SIGKILL of this
// process), and times are read from the `time` field of the agents' own `--json` events, so
// polling never adds to a measurement.
import { execFile, spawn, spawnSync } from 'node:child_process'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { createLab, netemSkipReason } from '../../test/netns-harness/index.js'
import type { AgentEvent, Host, Lab, StatusReport } from '../../test/netns-harness/index.js'
import { binPath } from '../../test/netns-harness/binary.js'
import { namespaceName } from '../../test/netns-harness/addressing.js'
import { waitFor } from '../../test/helpers/wait.js'

/**
 * Flags every benchmark agent gets: the `lan` timing profile (the headline numbers are the ones
 * a LAN user gets) and a dry run (k3s is not installed here; the plan and the files are made the
 * same way). Discovery is left at its defaults (mDNS and the private DHT), as a user runs it.
 */
export const LAN_FLAGS: readonly string[] = ['--profile', 'lan', '--dry-run']

/** How often the harness re-reads the agents' logs while waiting; times come from the events, not from this. */
const POLL_INTERVAL_MS = 100

/** A token with this cluster shape, fresh for every fleet so no two runs ever share state. */
export function fleetToken (shape: { expect: number, controlPlanes: number }): string {
  return formatToken(generateToken(shape))
}

/** The agent's clock when it printed the event (`time`, ms since the epoch; same machine as ours). */
export function eventTimeMs (event: AgentEvent): number {
  const time = event.time
  if (typeof time !== 'number' || !Number.isFinite(time)) throw new Error(`event ${event.event} has no numeric "time" field: ${JSON.stringify(event).slice(0, 200)}`)
  return time
}

/** True for the `peer:leave` event of a node declared dead (of `nodeId`, if given). */
export function isDeath (event: AgentEvent, nodeId?: string): boolean {
  return event.event === 'peer:leave' && event.reason === 'dead' && (nodeId === undefined || event.nodeId === nodeId)
}

/** Waits until every host printed a matching event; returns them in host order. */
export async function waitForEveryHost (
  hosts: readonly Host[],
  match: (event: AgentEvent) => boolean,
  options: { timeoutMs: number, what: string, signal?: AbortSignal }
): Promise<AgentEvent[]> {
  options.signal?.throwIfAborted()
  return await Promise.all(hosts.map(async host => await host.waitForEvent(match, { timeoutMs: options.timeoutMs, what: options.what, intervalMs: POLL_INTERVAL_MS })))
}

/**
 * Waits until the fleet is steady and returns every host's status: each lists all `count` nodes
 * (itself included) as alive, and all hold the same committed epoch. Then a death is news to every
 * host, and no plan change is still on its way. Asked through the real `status` command, one host
 * at a time (each query is a Node process; N at once would be a CPU burst of its own). The
 * `peers` events cannot tell this: a member declared dead that came back prints no event, so
 * their count stays low.
 */
export async function waitForSteadyFleet (hosts: readonly Host[], count: number, options: { timeoutMs: number, signal?: AbortSignal }): Promise<StatusReport[]> {
  let statuses: StatusReport[] = []
  await waitFor(async () => {
    statuses = []
    for (const host of hosts) {
      const status = await host.status(options.signal === undefined ? {} : { signal: options.signal })
      if (status.plan === null || status.members.filter(member => member.state === 'alive' || member.state === 'self').length !== count) return false
      if (statuses.length > 0 && statuses[0]?.epoch !== status.epoch) return false
      statuses.push(status)
    }
    return true
  }, { timeoutMs: options.timeoutMs, intervalMs: 500, what: `every host to list ${count} live nodes and the same plan epoch in its status` })
  return statuses
}

/**
 * Runs `use` on a fresh lab and disposes it afterwards whatever happens: the namespaces, veths,
 * bridges and agents go; the logs are kept (and their folder printed) when `use` failed or
 * `keepLogsIf` says a result needs a look. A guard outside our process tree covers the one path
 * the harness cannot: this process killed outright (under `npx tsx`, Ctrl-C reaches the tsx
 * parent twice, once from the terminal and once forwarded by npm, and it SIGKILLs the script
 * ~60 ms later, in the middle of the harness's synchronous teardown).
 */
export async function withLab<T> (
  use: (lab: Lab) => Promise<T>,
  options: { signal?: AbortSignal, keepLogsIf?: (result: T) => boolean } = {}
): Promise<T> {
  const lab = await createLab(options.signal === undefined ? {} : { signal: options.signal })
  const guard = guardLab(lab.runId)
  let keepLogs = true
  try {
    const result = await use(lab)
    keepLogs = options.keepLogsIf?.(result) ?? false
    return result
  } finally {
    await lab.dispose({ keepLogs })
    guard.release()
  }
}

/** How often the guard checks that we still run. */
const GUARD_POLL_SECONDS = 0.5

/**
 * A detached shell (its own session, so Ctrl-C does not reach it) that waits for this process
 * to end and then removes what is left of lab `runId`: it kills the processes inside the lab's
 * namespaces (ours: agents) and deletes the namespaces, with their veths and bridges. Released
 * (SIGTERM, by its pid) after a normal dispose; if both run, the second finds nothing to do.
 */
function guardLab (runId: string): { release: () => void } {
  if (!/^[0-9a-f]+$/.test(runId)) throw new Error(`unexpected lab run id ${JSON.stringify(runId)}`)
  const prefix = namespaceName(runId, '')
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep ${GUARD_POLL_SECONDS}; done`,
    `for ns in $(ip netns list | cut -d' ' -f1 | grep '^${prefix}'); do`,
    '  pids=$(ip netns pids "$ns"); [ -n "$pids" ] && kill -9 $pids',
    '  ip netns delete "$ns"',
    'done'
  ].join('\n')
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' })
  child.unref()
  return {
    release: () => {
      if (child.pid === undefined || child.exitCode !== null) return
      try {
        process.kill(child.pid, 'SIGTERM')
      } catch {
        // Already gone.
      }
    }
  }
}

/** Node ids sorted as the core sorts them (plain string order); the first is the preferred proposer. */
export function byNodeId (hosts: readonly Host[]): Host[] {
  return [...hosts].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
}

let latencyReason: string | undefined | null = null

/**
 * Why link latency cannot be emulated here (tc netem missing), or undefined when it can. When
 * netem is missing, tries `modprobe sch_netem` once: a kernel built with netem as a module may
 * not have loaded it yet. Detected, never assumed, so the same script measures latency where it can.
 */
export function latencySkipReason (): string | undefined {
  if (latencyReason !== null) return latencyReason
  const before = netemSkipReason()
  if (before === undefined) {
    latencyReason = undefined
    return undefined
  }
  const modprobe = spawnSync('modprobe', ['sch_netem'], { encoding: 'utf8', timeout: 10_000 })
  const tried = modprobe.error !== undefined
    ? `modprobe is not installed (${modprobe.error.message})`
    : modprobe.status === 0 ? 'modprobe sch_netem succeeded but netem still fails' : `modprobe sch_netem failed: ${modprobe.stderr.trim().split('\n')[0] ?? ''}`
  // netemSkipReason() keeps its first answer; after a successful modprobe, probe again directly.
  latencyReason = modprobe.status === 0 && modprobe.error === undefined ? reprobeNetem(tried) : `${before}; ${tried}`
  return latencyReason
}

/** One netem qdisc in a throwaway namespace, after modprobe loaded the module. */
function reprobeNetem (tried: string): string | undefined {
  const name = `p2pb-bprobe-${process.pid}`
  if (spawnSync('ip', ['netns', 'add', name]).status !== 0) return `cannot create a namespace to probe netem; ${tried}`
  try {
    const netem = spawnSync('ip', ['netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { encoding: 'utf8' })
    return netem.status === 0 ? undefined : `tc netem still unavailable (${netem.stderr.trim()}); ${tried}`
  } finally {
    spawnSync('ip', ['netns', 'delete', name])
  }
}

/** True if `p2p-bootstrap run --help` lists `flag`: the built binary accepts it. */
export async function runAcceptsFlag (flag: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
  const help = await new Promise<string>((resolve) => {
    execFile(process.execPath, [binPath, 'run', '--help'], {
      encoding: 'utf8', timeout: 20_000, ...(options.signal === undefined ? {} : { signal: options.signal })
    }, (_error, stdout) => { resolve(stdout) })
  })
  return new RegExp(`(^|\\s)${flag.replace(/[-]/g, '\\-')}(\\s|$)`, 'm').test(help)
}

/** A short, readable node id for tables and notes: "…S29cm4bx". */
export function shortNodeId (nodeId: string): string {
  return `…${nodeId.slice(-8)}`
}

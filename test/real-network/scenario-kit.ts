// What every real-network scenario does the same way: one lab per test, disposed after it in
// every case (logs kept and printed when the test failed); a fleet started with one token; waits
// on the agents' own events with deadlines; `status --json` from every host.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { createLab, netnsSkipReason } from '../netns-harness/index.js'
import type { AgentEvent, Host, Lab, LabOptions, StatusReport } from '../netns-harness/index.js'

/** Why the scenarios cannot run here (not root, no `ip netns`), or undefined. */
export const labSkipReason = netnsSkipReason()

/** A describe title that says why it is skipped (vitest prints titles, not reasons), and a line saying so. */
export function titled (title: string, reason: string | undefined = labSkipReason): string {
  if (reason === undefined) return title
  console.warn(`${title}: skipped, ${reason}`)
  return `${title} (skipped: ${reason})`
}

/**
 * Bounds a fleet's formation: seconds on an idle 2-core machine; the margin is for a CI machine
 * running other test files at the same time. A miss fails with what was awaited.
 */
export const FORMATION_TIMEOUT_MS = 60_000
/** A scenario's own budget: a few formations and restarts. */
export const SCENARIO_TIMEOUT_MS = 150_000

/**
 * Flags every scenario's agents get: render the k3s output without starting anything, and the
 * test timing profile (short gather and ballot timeouts) unless a scenario needs the defaults.
 */
export const DRY_RUN = ['--dry-run'] as const
export const TEST_PROFILE = ['--profile', 'test'] as const

/** One lab per test; `lab()` inside the test, disposed by afterEach (kept on failure). */
export function useLab (): { lab: (options?: LabOptions) => Promise<Lab> } {
  let current: Lab | undefined
  afterEach(async (context) => {
    const lab = current
    current = undefined
    await lab?.dispose({ keepLogs: context.task.result?.state === 'fail' })
  })
  return {
    lab: async (options) => {
      if (current !== undefined) throw new Error('one lab per test')
      current = await createLab(options)
      return current
    }
  }
}

export function newToken (shape: { expect: number, controlPlanes: number, vip?: string }): string {
  return formatToken(generateToken(shape))
}

/** Starts every host with the same token and flags. */
export function startAll (hosts: readonly Host[], token: string, flags: readonly string[]): void {
  for (const host of hosts) host.start({ token, flags })
}

/**
 * The event `run --json` prints once this node's output for the committed plan is written (with
 * `--dry-run`, nothing is started; `ready` would mean k3s is Ready, which a dry run never is).
 */
export const OUTPUT_WRITTEN = 'applied'

/** Waits until every host's current run has written its output for a plan. */
export async function waitForOutput (hosts: readonly Host[], timeoutMs = FORMATION_TIMEOUT_MS): Promise<AgentEvent[]> {
  return await Promise.all(hosts.map(async host => await host.waitForEvent(OUTPUT_WRITTEN, { timeoutMs, what: 'its output for a committed plan' })))
}

/** The shortest fail-over delay `run` takes is 1 s; 3 s keeps a loaded test machine's probes from replacing a live server. */
export const FAILOVER_DELAY_SECONDS = 3
/** Detection (about 1.5 s), the delay, one vote and one render: seconds; the margin is for a busy machine. */
export const REPLACEMENT_TIMEOUT_MS = 60_000

/**
 * The fleet the fail-over scenarios kill a server of: five hosts, expect 5 and three control
 * planes, dry run, DHT off, `--failover-delay` FAILOVER_DELAY_SECONDS; resolves once every host
 * has written its output for a plan.
 */
export async function startFailoverFleet (lab: Lab): Promise<{ hosts: Host[], vip: string }> {
  const hosts = await lab.addHosts(5)
  const vip = lab.vip()
  startAll(hosts, newToken({ expect: 5, controlPlanes: 3, vip }), [...DRY_RUN, ...TEST_PROFILE, '--no-dht', '--failover-delay', String(FAILOVER_DELAY_SECONDS)])
  await waitForOutput(hosts)
  return { hosts, vip }
}

/** `status --json` of every host, in order. */
export async function statusOf (hosts: readonly Host[]): Promise<StatusReport[]> {
  return await Promise.all(hosts.map(async host => await host.status()))
}

/** The hosts' roots, for readFleetFiles. */
export function rootsOf (hosts: readonly Host[]): string[] {
  return hosts.map(host => host.root)
}

/** True if any event of the current run matches. */
export async function printed (host: Host, match: (event: AgentEvent) => boolean): Promise<boolean> {
  return (await host.events()).some(match)
}

/** Node ids sorted as the core sorts them; the first is the preferred proposer. */
export function preferredProposer (hosts: readonly Host[]): Host {
  const sorted = [...hosts].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
  const first = sorted[0]
  if (first === undefined) throw new Error('no hosts')
  return first
}

/**
 * True if any file in the host's state dir holds `needle` (a node id). Ledger keys name their
 * writer (`node/<id>/…`), so a state dir holding another node's id has merged that node's
 * entries; the socket and the lock are not files to read and are skipped.
 */
export async function stateHolds (host: Host, needle: string): Promise<boolean> {
  const bytes = Buffer.from(needle, 'utf8')
  for (const entry of await readdir(host.stateDir, { withFileTypes: true })) {
    if (!entry.isFile()) continue
    const content = await readFile(join(host.stateDir, entry.name)).catch(() => null)
    if (content?.includes(bytes) === true) return true
  }
  return false
}

/**
 * Test hosts in Linux network namespaces running the real `p2p-bootstrap` binary: the harness of
 * the real-network tests and benchmarks. See README.md beside this file.
 *
 * @example
 * ```ts
 * const lab = await createLab()
 * try {
 *   const hosts = await lab.addHosts(3)
 *   for (const host of hosts) host.start({ token, flags: ['--profile', 'test', '--dry-run'] })
 *   await Promise.all(hosts.map(async host => await host.waitForEvent('applied', { timeoutMs: 60_000 })))
 * } finally {
 *   await lab.dispose({ keepLogs: failed })
 * }
 * ```
 */
export { Lab, createLab, VIP_NUMBER } from './lab.js'
export type { LabOptions, LabSubnet, DisposeOptions } from './lab.js'
export { Host, AGENT_PORT, HOST_INTERFACE } from './host.js'
export type { WaitOptions } from './host.js'
export { AgentProcess } from './agent.js'
export type { AgentLaunch, AgentExit } from './agent.js'
export type { AgentEvent } from './events.js'
export { parseEventLines } from './events.js'
export type { Impairment } from './impairment.js'
export { netemArgs } from './impairment.js'
export { netnsSkipReason, netemSkipReason } from './capabilities.js'
export { queryStatus } from './status.js'
export type { StatusReport } from './status.js'
export { HarnessError } from './errors.js'
export type { HarnessErrorCode } from './errors.js'
export { NAMESPACE_PREFIX, pickSubnets, prefixRange, routedPrefixes } from './addressing.js'
export { multicastReaches, tcpReachable } from './reachability.js'

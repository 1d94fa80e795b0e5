// Can one host open a TCP connection to another right now? Checks the lab itself (a partition
// really separates, a heal really joins) before an agent's behaviour is blamed for it. A small
// listener runs in the target's namespace and a client in the source's, both plain Node, both
// killed by pid before this returns.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { waitFor } from '../helpers/wait.js'
import { HarnessError } from './errors.js'
import type { Host } from './host.js'

/** Not the agents' port, so a probe works next to running agents. */
const PROBE_PORT = 4999
/** mDNS's own link-local group (never routed), on a port of our own so agents never see probes. */
const MULTICAST_GROUP = '224.0.0.251'
const MULTICAST_PORT = 5399
const LISTENER_START_MS = 10_000

function inNamespace (host: Host, script: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', host.namespace, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
}

async function exitCode (child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  return await new Promise((resolve) => { child.once('exit', (code) => { resolve(code) }) })
}

/** True if `from` can connect to `to` over TCP within `timeoutMs` (default 1 s). */
export async function tcpReachable (from: Host, to: Host, options: { timeoutMs?: number } = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 1_000
  const listener = inNamespace(to, `const s = require('node:net').createServer(c => c.end()); s.listen(${PROBE_PORT}, '${to.ip}', () => console.log('up'))`)
  try {
    let output = ''
    listener.stdout?.setEncoding('utf8').on('data', (text: string) => { output += text })
    await waitFor(() => output.includes('up') || listener.exitCode !== null, { timeoutMs: LISTENER_START_MS, what: `a probe listener on ${to.name}` })
    if (!output.includes('up')) throw new HarnessError('HARNESS_COMMAND_FAILED', `the probe listener on ${to.name} (${to.ip}:${PROBE_PORT}) did not start`)
    const client = inNamespace(from, [
      `const c = require('node:net').connect(${PROBE_PORT}, '${to.ip}')`,
      `const t = setTimeout(() => process.exit(1), ${timeoutMs})`,
      'c.on(\'connect\', () => process.exit(0))',
      'c.on(\'error\', () => process.exit(1))'
    ].join('\n'))
    return await exitCode(client) === 0
  } finally {
    listener.kill('SIGKILL')
    await exitCode(listener)
  }
}

/**
 * True if a datagram `from` sends to mDNS's multicast group arrives at `to` within `timeoutMs`
 * (default 1 s): on one bridge it should, across the router it must not.
 */
export async function multicastReaches (from: Host, to: Host, options: { timeoutMs?: number } = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 1_000
  const listener = inNamespace(to, [
    'const s = require(\'node:dgram\').createSocket({ type: \'udp4\', reuseAddr: true })',
    's.on(\'message\', () => { console.log(\'got\') })',
    `s.bind(${MULTICAST_PORT}, () => { s.addMembership('${MULTICAST_GROUP}', '${to.ip}'); console.log('up') })`
  ].join('\n'))
  let sender: ChildProcess | undefined
  try {
    let output = ''
    listener.stdout?.setEncoding('utf8').on('data', (text: string) => { output += text })
    await waitFor(() => output.includes('up') || listener.exitCode !== null, { timeoutMs: LISTENER_START_MS, what: `a multicast listener on ${to.name}` })
    if (!output.includes('up')) throw new HarnessError('HARNESS_COMMAND_FAILED', `the multicast listener on ${to.name} did not start`)
    // A few datagrams, in case the first leaves before the listener's membership is in place.
    sender = inNamespace(from, [
      'const s = require(\'node:dgram\').createSocket(\'udp4\')',
      `s.bind(0, '${from.ip}', () => {`,
      `  s.setMulticastInterface('${from.ip}')`,
      `  const send = () => s.send('probe', ${MULTICAST_PORT}, '${MULTICAST_GROUP}')`,
      '  send()',
      '  setInterval(send, 100)',
      '})'
    ].join('\n'))
    try {
      await waitFor(() => output.includes('got'), { timeoutMs, intervalMs: 20, what: `a multicast datagram from ${from.name} at ${to.name}` })
      return true
    } catch {
      return false
    }
  } finally {
    sender?.kill('SIGKILL')
    listener.kill('SIGKILL')
    if (sender !== undefined) await exitCode(sender)
    await exitCode(listener)
  }
}

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deriveKeys, formatToken, generateToken, parseToken } from '@p2p-bootstrap/core'
import { OverlayError, createOverlay, loadOrCreateIdentity } from '@p2p-bootstrap/overlay'
import type { Overlay } from '@p2p-bootstrap/overlay'
import { InvalidArgumentError } from 'commander'
import { CliError } from '../errors.js'
import { formatTokenView, tokenView } from '../token-view.js'
import type { CommandContext, CommandModule } from './command.js'

/**
 * `demo`: the whole first-boot story on this machine, sending nothing off it. A fresh token, then
 * N nodes on distinct loopback addresses (127.0.0.2, .3, …) joined into the private overlay by
 * static peers (no multicast: this may run in the root network namespace), then an outsider with
 * another token refused by the private-network handshake. Every node is stopped before it exits.
 */
export const demoCommand: CommandModule = {
  name: 'demo',
  register (program, context) {
    program.command('demo')
      .description('form a private overlay of N local nodes on loopback and show it (sends nothing off this machine)')
      .option('--nodes <n>', `how many nodes (${NODES_MIN} to ${NODES_MAX})`, nodeCount, NODES_DEFAULT)
      .option('--timeout <seconds>', 'give up after this long', positiveSeconds, TIMEOUT_SECONDS_DEFAULT)
      .action(async (flags: DemoFlags) => { await runDemo(flags, context) })
  }
}

interface DemoFlags {
  nodes: number
  timeout: number
}

const NODES_MIN = 2
const NODES_MAX = 9 // 127.0.0.2 … 127.0.0.10
const NODES_DEFAULT = 5
const TIMEOUT_SECONDS_DEFAULT = 30

async function runDemo (flags: DemoFlags, { io }: CommandContext): Promise<void> {
  const signal = AbortSignal.timeout(flags.timeout * 1000)
  const token = generateToken({ expect: flags.nodes, controlPlanes: flags.nodes >= 3 ? 3 : 1, name: 'demo', createdMs: io.nowMs() })
  const text = formatToken(token)
  // The round trip a user does by hand: the printed text parses back to the same cluster.
  const keys = deriveKeys(parseToken(text))
  io.writeOut(`token: ${text}\n${formatTokenView(tokenView(parseToken(text)))}\n`)

  const stateRoot = await mkdtemp(join(tmpdir(), 'p2pb-demo-'))
  const nodes: Overlay[] = []
  try {
    for (let index = 0; index < flags.nodes; index++) {
      const { privateKey } = await loadOrCreateIdentity(join(stateRoot, `node-${index + 1}`), { signal })
      // A star of static peers: node 1 is known to all; the others find each other through it.
      const peers = index === 0 ? [] : [firstAddress(nodes[0])]
      nodes.push(await createOverlay({
        token: text,
        identity: privateKey,
        listen: [`/ip4/127.0.0.${index + 2}/tcp/0`],
        peers,
        mdns: false,
        dht: false,
        profile: 'test'
      }, { signal }))
      io.writeOut(`started node ${index + 1} on 127.0.0.${index + 2}: ${nodes[index]?.peerId ?? ''}\n`)
    }
    await everyNodeConnected(nodes, signal)
    io.writeOut(`\nprivate overlay formed (cluster ${keys.clusterId}):\n${connectionTable(nodes)}\n`)
    await showOutsiderRefused(nodes, stateRoot, io.writeOut, signal)
  } catch (err) {
    if (signal.aborted) {
      throw new CliError('CLI_TIMEOUT', `the demo did not finish within ${flags.timeout} s: is loopback usable here?`, { cause: err })
    }
    throw err
  } finally {
    await Promise.allSettled(nodes.map(async node => { await node.stop() }))
    await rm(stateRoot, { recursive: true, force: true })
  }
}

function firstAddress (node: Overlay | undefined): string {
  const address = node?.addresses()[0]
  if (address === undefined) throw new CliError('CLI_DEMO', 'the first demo node has no listen address')
  return address
}

/** Resolves once every node has a connection; event-driven, with the signal as the deadline. */
async function everyNodeConnected (nodes: readonly Overlay[], signal: AbortSignal): Promise<void> {
  // Both ends must see each link, or the table printed next could show it from one side only.
  const byId = new Map(nodes.map(node => [node.peerId, node]))
  const done = (): boolean => nodes.every(node => {
    const peers = node.connectedPeers()
    return peers.length > 0 && peers.every(peer => byId.get(peer)?.connectedPeers().includes(node.peerId) ?? true)
  })
  if (done()) return
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (!done()) return
      cleanup()
      resolve()
    }
    const abort = (): void => {
      cleanup()
      reject(signal.reason)
    }
    const cleanup = (): void => {
      for (const node of nodes) node.removeEventListener('peer:connect', check)
      signal.removeEventListener('abort', abort)
    }
    for (const node of nodes) node.addEventListener('peer:connect', check)
    signal.addEventListener('abort', abort)
  })
}

function connectionTable (nodes: readonly Overlay[]): string {
  const rows = nodes.map((node, index) => [
    `node ${index + 1}`,
    `127.0.0.${index + 2}`,
    shortId(node.peerId),
    node.connectedPeers().map(peer => nodes.findIndex(n => n.peerId === peer) + 1).sort((a, b) => a - b).map(n => `node ${n}`).join(', ')
  ])
  const header = ['node', 'address', 'peer id', 'connected to']
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]?.length ?? 0)))
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

function shortId (peerId: string): string {
  return `${peerId.slice(0, 12)}…${peerId.slice(-4)}`
}

async function showOutsiderRefused (
  nodes: readonly Overlay[], stateRoot: string, write: (text: string) => void, signal: AbortSignal
): Promise<void> {
  const { privateKey } = await loadOrCreateIdentity(join(stateRoot, 'outsider'), { signal })
  const outsider = await createOverlay({
    token: formatToken(generateToken()),
    identity: privateKey,
    listen: [`/ip4/127.0.0.${nodes.length + 2}/tcp/0`],
    mdns: false,
    dht: false,
    profile: 'test'
  }, { signal })
  try {
    await outsider.dial(firstAddress(nodes[0]), { signal })
    throw new CliError('CLI_DEMO', 'a node with another token connected to the overlay: the private network is broken')
  } catch (err) {
    if (!(err instanceof OverlayError) || err.code !== 'OVERLAY_HANDSHAKE_REFUSED') throw err
    write('\nan outsider with another token was refused by the private-network handshake, as it must be.\n')
  } finally {
    await outsider.stop()
  }
}

function nodeCount (value: string): number {
  const n = Number(value)
  if (!/^[0-9]+$/.test(value) || n < NODES_MIN || n > NODES_MAX) {
    throw new InvalidArgumentError(`expected a whole number from ${NODES_MIN} to ${NODES_MAX}.`)
  }
  return n
}

function positiveSeconds (value: string): number {
  const n = Number(value)
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 3600) throw new InvalidArgumentError('expected whole seconds from 1 to 3600.')
  return n
}

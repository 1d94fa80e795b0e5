// The `demo` command's work (see demo.ts for the command): a fresh token, local node processes,
// their progress and the committed plan. Loaded only when `demo` runs.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { shortId } from '@p2p-bootstrap/bootstrapper'
import { loadOrCreateIdentity } from '@p2p-bootstrap/overlay'
import { parse } from 'yaml'
import { CliError } from '../errors.js'
import { cliEntryArgs } from '../runtime.js'
import type { CommandContext } from './command.js'

export interface DemoFlags {
  nodes: number
  timeout: number
  dir?: string
}

const DEMO_VIP = '127.0.0.100'
/** How long a node gets to exit after SIGTERM before it is killed. */
const KILL_GRACE_MS = 5_000
const BIN_PATH = fileURLToPath(new URL('../../bin/p2p-bootstrap.js', import.meta.url))

interface DemoNode {
  readonly index: number
  readonly ip: string
  readonly peerId: string
  readonly address: string
  readonly stateDir: string
  readonly root: string
  done?: DoneLine
  /** The node holds the plan: peer counts that fall as the others exit are no news from here on. */
  planned?: boolean
  stderr: string
}

interface DoneLine {
  readonly nodeId: string
  readonly epoch: number
  readonly role: string
  readonly init: boolean
  readonly files: readonly string[]
}

export async function runDemo (flags: DemoFlags, { io }: CommandContext): Promise<void> {
  const signal = AbortSignal.any([AbortSignal.timeout(flags.timeout * 1000), io.shutdownSignal()])
  const controlPlanes = flags.nodes >= 3 ? 3 : 1
  // The VIP is a loopback address too: kube-vip's manifest is rendered, nothing is announced.
  const token = formatToken(generateToken({ expect: flags.nodes, controlPlanes, vip: DEMO_VIP, name: 'demo', createdMs: io.nowMs() }))
  const dir = flags.dir === undefined ? await mkdtemp(join(tmpdir(), 'p2p-bootstrap-demo-')) : resolve(flags.dir)
  await mkdir(dir, { recursive: true })
  io.writeOut(`a new token for ${flags.nodes} nodes, ${controlPlanes} control plane(s); state and output go to ${dir}\n`)

  const nodes: DemoNode[] = []
  for (let index = 0; index < flags.nodes; index++) {
    const ip = `127.0.0.${index + 2}`
    const stateDir = join(dir, `node-${index + 1}`, 'state')
    // The identity is made first so every node can be given the others' peer ids as static peers.
    const { peerId } = await loadOrCreateIdentity(stateDir, { signal })
    const port = await freePort(ip)
    nodes.push({ index, ip, peerId, address: `/ip4/${ip}/tcp/${port}/p2p/${peerId}`, stateDir, root: join(dir, `node-${index + 1}`, 'root'), stderr: '' })
  }

  const children: ChildProcess[] = []
  try {
    // A node that fails ends the demo at once with its own error: the others would only wait for it
    // until the timeout (a port taken between choosing it and binding it is the usual case).
    const exits = nodes.map(async (node) => {
      const child = startNode(node, nodes, token, (line) => { io.writeOut(`node ${node.index + 1} | ${line}\n`) })
      children.push(child)
      const status = await exitOf(child)
      if (status !== 0 || node.done === undefined) {
        throw new CliError('CLI_DEMO', `node ${node.index + 1} exited ${String(status)} before the others finished: ${node.stderr.trim().split('\n').at(-1) ?? ''}`)
      }
    })
    await abortable(Promise.all(exits), signal)
    io.writeOut(`\n${planTable(nodes, await Promise.all(nodes.map(joinsOf)))}\n\nevery node exited 0 (a dry run: k3s files rendered, nothing started); look at the output under ${dir}\n`)
  } catch (err) {
    if (signal.aborted) {
      throw new CliError('CLI_TIMEOUT', `the demo did not finish within ${flags.timeout} s; the nodes were stopped (their state is in ${dir})`, { cause: err })
    }
    throw err
  } finally {
    await Promise.all(children.map(async child => { await stopChild(child) }))
  }
}

/** Starts one `run --once --json` process and reports its progress lines in words. */
function startNode (node: DemoNode, all: readonly DemoNode[], token: string, report: (line: string) => void): ChildProcess {
  const peers = all.filter(other => other !== node).flatMap(other => ['--peer', other.address])
  const child = spawn(process.execPath, [
    ...cliEntryArgs(BIN_PATH), 'run', '--once', '--json', '--dry-run',
    '--state-dir', node.stateDir, '--root', node.root,
    '--listen', node.address.replace(/\/p2p\/.*$/, ''), ...peers,
    '--node-ip', node.ip,
    '--no-mdns', '--no-dht', '--profile', 'test'
  ], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // An empty config: without one, `run` reads this machine's /etc/p2p-bootstrap/config.yaml when
    // it exists, and its token and settings would win over the demo's.
    env: { ...process.env, P2PB_TOKEN: token, P2PB_CONFIG_FILE: '/dev/null' }
  })
  let pending = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    pending += text
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      const words = describeLine(node, line)
      if (words !== null) report(words)
    }
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { node.stderr += text })
  return child
}

/** A JSON log line of a node (`run --json`: pino's level, time and msg plus `event` and its fields), in words (null for lines not worth a demo line). */
function describeLine (node: DemoNode, line: string): string | null {
  let event: Record<string, unknown>
  try {
    event = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line.trim() === '' ? null : line
  }
  switch (event.event) {
    case 'start': return `started as ${shortId(String(event.nodeId))} on ${node.ip}`
    case 'peers': return node.planned === true ? null : `found ${String(event.found)}/${String(event.expect)} nodes`
    case 'phase': return event.phase === 'voting' ? `voting (ballot ${String(event.ballot)})` : null
    case 'plan':
      node.planned = true
      return `plan committed: ${String((event.part as { role?: string } | null)?.role ?? 'unlisted')}`
    // A death that lasts and a return are news; a clean leave (a node done with --once) is not.
    case 'peer:dead':
    case 'peer:back':
      return String(event.msg)
    case 'applied': return `output written: ${(event.files as string[]).join(', ')}`
    case 'done':
      node.done = event as unknown as DoneLine
      return 'done'
    case 'error': return `${event.fatal === true ? 'error' : 'warning'}: ${String(event.message)}`
    // A wait that lasts (10 s, 30 s, …) is worth a line: "voting: waiting since 12:03:04 (10 s): …".
    case 'waiting': return typeof event.waitedMs === 'number' && event.waitedMs > 0 ? String(event.msg) : null
    default: return null
  }
}

/** How a node's rendered k3s config joins the cluster: `cluster-init`, or the server it joins. */
async function joinsOf (node: DemoNode): Promise<string> {
  try {
    const config = parse(await readFile(join(node.root, 'etc/rancher/k3s/config.yaml'), 'utf8')) as Record<string, unknown>
    if (config['cluster-init'] === true) return 'cluster-init'
    return typeof config.server === 'string' ? config.server : '-'
  } catch {
    return '-'
  }
}

function planTable (nodes: readonly DemoNode[], joins: readonly string[]): string {
  const rows = nodes.map((node, index) => [
    `node ${node.index + 1}`,
    node.ip,
    shortId(node.peerId),
    node.done?.role ?? '-',
    node.done?.init === true ? 'yes' : '',
    joins[index] ?? '-',
    node.root
  ])
  const epochs = new Set(nodes.map(node => node.done?.epoch))
  const header = ['node', 'node-ip', 'node id', 'role', 'init', 'k3s joins', 'output under']
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]?.length ?? 0)))
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()
  return [`committed plan (epoch ${[...epochs].join(', ')}):`, line(header), ...rows.map(line)].join('\n')
}

async function exitOf (child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  return await new Promise((resolve) => { child.once('close', (code) => { resolve(code) }) })
}

/** SIGTERM (the node stops cleanly), then SIGKILL if it has not exited within the grace period. */
async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = exitOf(child)
  child.kill('SIGTERM')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, KILL_GRACE_MS)
  await exited
  clearTimeout(timer)
}

async function abortable<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}

/** A TCP port free on `ip` right now (asked of the OS by binding port 0). */
async function freePort (ip: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (err) => {
      reject(new CliError('CLI_DEMO', `cannot bind ${ip}: ${err.message}; the demo needs the loopback range 127.0.0.0/8`, { cause: err }))
    })
    server.listen(0, ip, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => { resolve(port) })
    })
  })
}

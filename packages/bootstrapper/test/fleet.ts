// Shared fixtures for the bootstrapper tests: fleets of in-process bootstrappers on loopback, each
// with its own state dir and output root under one temporary folder. Not a test file itself.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { createBootstrapper } from '../src/index.js'
import type { Bootstrapper, BootstrapperOptions } from '../src/index.js'

export interface Fleet {
  readonly dir: string
  readonly token: string
  readonly nodes: Bootstrapper[]
  /** Starts node `index` (again) with its own state dir; `peers` default to node 0's addresses. */
  start: (index: number, overrides?: Partial<BootstrapperOptions>) => Promise<Bootstrapper>
  stopAll: () => Promise<void>
  /** Stops everything and removes the folder. */
  dispose: () => Promise<void>
}

export function stateDirOf (dir: string, index: number): string {
  return join(dir, `node-${index}`, 'state')
}

export function rootOf (dir: string, index: number): string {
  return join(dir, `node-${index}`, 'root')
}

/**
 * A fleet sharing one token. Node 0 is the only static peer the others know (a star): every other
 * member is reached through the addresses published in the ledger.
 */
export async function makeFleet (shape: { expect?: number, controlPlanes: number }, tokenText?: string): Promise<Fleet> {
  const dir = await mkdtemp(join(tmpdir(), 'p2pb-fleet-'))
  const token = tokenText ?? formatToken(generateToken(shape))
  const nodes: Bootstrapper[] = []
  const fleet: Fleet = {
    dir,
    token,
    nodes,
    start: async (index, overrides = {}) => {
      const seed = index === 0 ? [] : (nodes[0]?.addresses() ?? [])
      const node = createBootstrapper({
        token,
        stateDir: stateDirOf(dir, index),
        root: rootOf(dir, index),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        peers: seed.slice(0, 1),
        mdns: false,
        dht: false,
        profile: 'test',
        statusSocket: false,
        node: { nodeIp: `10.0.0.${index + 1}`, hostname: `node-${index}`, interface: 'eth0' },
        // These addresses are not on this host, and nothing may start k3s here: render only.
        dryRun: true,
        ...overrides
      })
      await node.start({ signal: AbortSignal.timeout(20_000) })
      nodes[index] = node
      return node
    },
    stopAll: async () => {
      await Promise.all(nodes.map(async node => { await node.stop() }))
    },
    dispose: async () => {
      await fleet.stopAll()
      await rm(dir, { recursive: true, force: true })
    }
  }
  return fleet
}

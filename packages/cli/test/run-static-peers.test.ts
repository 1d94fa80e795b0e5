// Goal: "one config file baked into the image" works where multicast is blocked: three
// `run --once` agents with mDNS and the DHT off, each given the same list of peer addresses
// without peer ids (its own included, in two spellings: host:port and a multiaddr without
// /p2p/), form one cluster and exit 0. Method: the real bin as child processes on 127.0.4.2–4
// (loopback only), --dry-run so nothing is started, output parsed from the JSON log; every
// process is killed in afterEach if it is still running.
import { join } from 'node:path'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../../test/helpers/free-port.js'
import { useAgents } from './agents.js'
import type { Agent } from './agents.js'

const harness = useAgents()

function startAgent (args: readonly string[], token: string): Agent {
  return harness.start(['--json', '--dry-run', ...args], { P2PB_TOKEN: token, P2PB_CONFIG_FILE: undefined })
}

describe('p2p-bootstrap run with static peers by address', () => {
  it('three agents sharing one address list, mDNS and DHT off, form one cluster', async () => {
    const dir = await harness.scratchDir('p2pb-static-')
    const token = formatToken(generateToken({ expect: 3, controlPlanes: 1 }))
    const nodes = await Promise.all(['127.0.4.2', '127.0.4.3', '127.0.4.4'].map(async (ip) => ({ ip, port: await freePort(ip) })))
    const peerFlags = nodes.flatMap(({ ip, port }, index) => ['--peer', index === 1 ? `/ip4/${ip}/tcp/${port}` : `${ip}:${port}`])
    const agents = nodes.map(({ ip, port }, index) => startAgent([
      '--once', '--state-dir', join(dir, `node-${index}`, 'state'), '--root', join(dir, `node-${index}`, 'root'),
      '--listen', `/ip4/${ip}/tcp/${port}`, '--node-ip', ip, ...peerFlags, '--no-mdns', '--no-dht', '--profile', 'test'
    ], token))
    const statuses = await Promise.all(agents.map(async agent => await agent.exited))
    expect(statuses, agents.map(agent => agent.stderr).join('\n')).toEqual([0, 0, 0])
    const done = agents.map(agent => JSON.parse(agent.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>)
    for (const line of done) expect(line.event).toBe('done')
    expect(new Set(done.map(line => line.clusterId)).size).toBe(1)
    expect(new Set(done.map(line => line.nodeId)).size).toBe(3)
    expect(done.filter(line => line.init === true)).toHaveLength(1)
  }, 90_000)
})

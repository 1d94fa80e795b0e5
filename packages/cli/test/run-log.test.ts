// Goal: the agent's log is readable text when standard output is not a terminal (journald, a
// pipe), JSON when asked for by --log-format json; a stop by SIGTERM ends with a line saying so;
// a node that can find nobody (mDNS and DHT off, no static peer, more than one node expected)
// says so as an error, and a one-node cluster does not. Method: the real bin as a child process
// with piped (non-terminal) stdout, on 127.0.0.x, --dry-run; waits on log lines with a deadline;
// every process is killed in afterEach if it is still running.
import { join } from 'node:path'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { useAgents } from './agents.js'
import type { Agent } from './agents.js'

const harness = useAgents()

async function startAgent (args: readonly string[], expect: number): Promise<Agent> {
  const dir = await harness.scratchDir('p2pb-run-log-')
  const token = formatToken(generateToken({ expect, controlPlanes: 1 }))
  return harness.start(['--dry-run', '--state-dir', join(dir, 'state'), '--root', join(dir, 'root'),
    '--listen', '/ip4/127.0.0.2/tcp/0', '--node-ip', '127.0.0.2', '--no-mdns', '--no-dht', '--profile', 'test', ...args],
  { P2PB_TOKEN: token, P2PB_CONFIG_FILE: undefined, NO_COLOR: undefined })
}

const TEXT_LINE = /^\d{2}:\d{2}:\d{2}\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /

describe('p2p-bootstrap run: log format and lines', () => {
  it('writes text to a pipe by default, and a last line when stopped by SIGTERM', async () => {
    const agent = await startAgent([], 1)
    await waitFor(() => agent.stdout.includes('event=applied'), { timeoutMs: 30_000, what: 'the agent to apply its plan' })
    agent.child.kill('SIGTERM')
    expect(await agent.exited).toBe(0)
    const lines = agent.stdout.trimEnd().split('\n')
    for (const line of lines) expect(line).toMatch(TEXT_LINE)
    expect(lines.at(-1)).toMatch(/ INFO {2}stopped by SIGTERM; the state dir is kept and the next start carries on from it event=stopped$/)
    expect(agent.stdout + agent.stderr).not.toContain('no way to find other nodes') // one node needs no discovery
    expect(agent.stdout).not.toContain('\u001b[') // no colour outside a terminal
  }, 60_000)

  it('writes JSON with --log-format json, the stop line included', async () => {
    const agent = await startAgent(['--log-format', 'json'], 1)
    await waitFor(() => agent.stdout.includes('"event":"applied"'), { timeoutMs: 30_000, what: 'the agent to apply its plan' })
    agent.child.kill('SIGTERM')
    expect(await agent.exited).toBe(0)
    const records = agent.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as Record<string, unknown>)
    expect(records.at(-1)).toMatchObject({ event: 'stopped', reason: 'stopped by SIGTERM' })
  }, 60_000)

  it('says, as an error, that a node with no discovery and more nodes to find can find nobody', async () => {
    const agent = await startAgent([], 3)
    await waitFor(() => agent.stderr.includes('no way to find other nodes'), { timeoutMs: 30_000, what: 'the no-discovery error' })
    expect(agent.stderr).toMatch(/ ERROR no way to find other nodes: mDNS and the DHT are off and no static peer is given, .*give --peer ADDRESS .*event=discovery:none\n/)
    agent.child.kill('SIGTERM')
    expect(await agent.exited).toBe(0)
  }, 60_000)

  it('refuses --json with --log-format text', async () => {
    const agent = await startAgent(['--json', '--log-format', 'text'], 1)
    expect(await agent.exited).toBe(2)
    expect(agent.stderr).toBe('p2p-bootstrap: --json and --log-format text contradict each other: --json is short for --log-format json; give one\n')
  })
})

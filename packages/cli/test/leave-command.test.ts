// Goal: `p2p-bootstrap leave` takes the node of a running agent out of the cluster and says how:
// the request, the epoch that retires it, its retirement carried out, the agent stopped, exit 0;
// on a timeout it exits non-zero naming what it still waits for (a control plane nobody can take
// over from), and every other failure (no agent, no plan yet, a bad flag) is one line with the fix
// and its exit status. `status` shows the epoch history, the leave and the fail-over delay, and
// `run`'s `--failover-delay` / `failover-delay:` and `apply.clean-replaced-server` reach the
// bootstrapper's options or are refused with the rule. `run` logs each epoch as a record.
// Method: main(argv, io) in-process against real agents (dry-run bootstrappers on loopback, each
// with its status socket in a mkdtemp dir), and once end to end with the real bin: `run` agents as
// child processes and `leave` beside them; config and flags through resolveRunSettings and
// parseConfigText; the log through the ProgressReporter on a made-up event.
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createBootstrapper } from '@p2p-bootstrap/bootstrapper'
import type { Bootstrapper, BootstrapperOptions, EpochRecord } from '@p2p-bootstrap/bootstrapper'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { CliError } from '../src/errors.js'
import { ConfigError, parseConfigText, resolveRunSettings } from '../src/config/index.js'
import { EXIT_STATUS, main } from '../src/index.js'
import { createRunLogger } from '../src/run/log.js'
import { ProgressReporter } from '../src/run/progress.js'
import { binPath, capturedIo, configErrorOf, runBin } from './helpers.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { freePort } from '../../../test/helpers/free-port.js'
import { loadOrCreateIdentity } from '@p2p-bootstrap/overlay'

async function run (argv: string[]): Promise<{ status: number, stdout: string, stderr: string }> {
  const io = capturedIo()
  const status = await main(argv, io)
  return { status, stdout: io.stdout(), stderr: io.stderr() }
}

/** Agents sharing a token, each with a state dir (and its socket) under one temporary folder. */
interface Agents {
  readonly dir: string
  readonly nodes: Bootstrapper[]
  start: (index: number) => Promise<Bootstrapper>
  stateDir: (index: number) => string
}

let agents: { nodes: Bootstrapper[], dir: string } | undefined

afterEach(async () => {
  const open = agents
  agents = undefined
  if (open === undefined) return
  await Promise.all(open.nodes.map(async node => { await node.stop() }))
  await rm(open.dir, { recursive: true, force: true })
})

async function makeAgents (shape: { expect: number, controlPlanes: number }, extra: Partial<BootstrapperOptions> = {}): Promise<Agents> {
  const dir = await mkdtemp(join(tmpdir(), 'p2pb-leave-cli-'))
  const token = formatToken(generateToken(shape))
  const nodes: Bootstrapper[] = []
  agents = { nodes, dir }
  const stateDir = (index: number): string => join(dir, `node-${index}`)
  return {
    dir,
    nodes,
    stateDir,
    start: async (index) => {
      await mkdir(stateDir(index), { recursive: true, mode: 0o700 })
      const node = createBootstrapper({
        token,
        stateDir: stateDir(index),
        root: join(dir, `root-${index}`),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        peers: index === 0 ? [] : (nodes[0]?.addresses() ?? []).slice(0, 1),
        mdns: false,
        dht: false,
        profile: 'test',
        dryRun: true,
        node: { nodeIp: `10.0.0.${index + 1}`, hostname: `node-${index}`, interface: 'eth0' },
        ...extra
      })
      await node.start({ signal: AbortSignal.timeout(20_000) })
      nodes[index] = node
      return node
    }
  }
}

describe('p2p-bootstrap leave', () => {
  it('workers leave with exit 0, step by step (words and JSON); a lone control plane times out naming what it waits for', async () => {
    const fleet = await makeAgents({ expect: 3, controlPlanes: 1 }, { failoverDelayMs: 4_000 })
    for (let index = 0; index < 3; index++) await fleet.start(index)
    await Promise.all(fleet.nodes.map(async node => { await node.waitForApplied({ signal: AbortSignal.timeout(20_000) }) }))
    await waitFor(() => new Set(fleet.nodes.map(node => node.status().epoch)).size === 1, { timeoutMs: 10_000, what: 'one epoch everywhere' })
    const plan = fleet.nodes[0]?.status().plan
    if (plan === null || plan === undefined) throw new Error('no plan')
    // Workers: listed, or come after the plan (a bootstrap may be decided by a quorum of `expect`).
    const workerIndexes = fleet.nodes.flatMap((node, index) => plan.controlPlanes.includes(node.nodeId) ? [] : [index])
    const serverIndex = fleet.nodes.findIndex(node => node.nodeId === plan.controlPlanes[0])
    const [firstWorker, secondWorker] = workerIndexes
    if (firstWorker === undefined || secondWorker === undefined) throw new Error('two workers expected')

    const words = await run(['leave', '--state-dir', fleet.stateDir(firstWorker), '--timeout', '30'])
    expect(words.stderr).toBe('')
    expect(words.status).toBe(EXIT_STATUS.ok)
    const lines = words.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^asked node …\S+ \(a worker in plan epoch \d+\) to leave; waiting for a committed epoch that retires this node/)
    const retiring = plan.epoch + 1
    expect(lines).toContain(`epoch ${retiring} retires this node; carrying out its retirement (k3s drained and stopped)`)
    expect(lines.some(line => new RegExp(`^epoch ${retiring} committed \\(proposed by …\\S+, 1 vote\\): .*left as a worker`).test(line))).toBe(true)
    expect(lines.at(-2)).toBe(`this node left the cluster (epoch ${retiring}); the agent is stopping`)
    expect(lines.at(-1)).toBe(`done: the agent stopped; this node left the cluster at epoch ${retiring} and no plan counts it again. ` +
      `Before this machine joins again, remove its state dir (${fleet.stateDir(firstWorker)}): with it, it would leave again at once`)

    const json = await run(['leave', '--state-dir', fleet.stateDir(secondWorker), '--json'])
    expect(json.status).toBe(EXIT_STATUS.ok)
    const records = json.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as { event: string, epoch?: number })
    expect(records[0]).toMatchObject({ event: 'leaving', role: 'worker', nodeId: fleet.nodes[secondWorker]?.nodeId })
    const events = records.map(record => record.event)
    expect(events.slice(-2)).toEqual(['left', 'stopped'])
    expect(events.filter(event => event === 'retired')).toHaveLength(1)
    expect(events.indexOf('epoch')).toBeLessThan(events.indexOf('retired'))
    expect(records.at(-1)).toEqual({ event: 'stopped', epoch: retiring + 1 })

    // The server's status: both retirements in the history, the fail-over delay, no one leaving.
    const status = await run(['status', '--state-dir', fleet.stateDir(serverIndex)])
    expect(status.status).toBe(EXIT_STATUS.ok)
    expect(status.stdout).toMatch(/^fail-over delay: 4 s \(a control plane dead this long is replaced by a live worker, in a new epoch\)$/m)
    expect(status.stdout).toMatch(/^epochs:$/m)
    expect(status.stdout).toMatch(/^epoch +committed +proposer +votes +control planes +changed$/m)
    expect(status.stdout).toMatch(new RegExp(`^${retiring} +\\S.* +…\\S+ +1 +…\\S+ +retired …${fleet.nodes[firstWorker]?.nodeId.slice(-8) ?? ''}$`, 'm'))
    // Each row names only whom its own epoch retired (the plan lists every node retired so far).
    expect(status.stdout).toMatch(new RegExp(`^${retiring + 1} +\\S.* +…\\S+ +1 +…\\S+ +retired …${fleet.nodes[secondWorker]?.nodeId.slice(-8) ?? ''}$`, 'm'))
    expect(status.stdout).toMatch(new RegExp(`^epoch ${retiring}: …\\S+ left as a worker and will not be counted again$`, 'm'))
    expect(status.stdout).toMatch(/ retired /) // the members table names the retired nodes' role
    const report = JSON.parse((await run(['status', '--state-dir', fleet.stateDir(serverIndex), '--json'])).stdout) as { history: EpochRecord[], leaving: boolean, failoverDelayMs: number }
    expect(report.history.map(record => record.epoch).slice(-2)).toEqual([retiring, retiring + 1])
    expect(report.leaving).toBe(false)
    expect(report.failoverDelayMs).toBe(4_000)

    // Alone, the control plane cannot hand its role over: the command gives up, the request stands.
    const stuck = await run(['leave', '--state-dir', fleet.stateDir(serverIndex), '--timeout', '1'])
    expect(stuck.status).toBe(EXIT_STATUS.failed)
    expect(stuck.stdout).toMatch(/^asked node …\S+ \(a control plane in plan epoch \d+\) to leave; waiting for a node that can take over this control plane's role: no live node can/)
    expect(stuck.stderr).toMatch(/^p2p-bootstrap: gave up after 1 s waiting for a node that can take over this control plane's role: no live node can .*; the request to leave stands: the agent leaves, and stops, once a committed epoch retires this node/)
    const after = await run(['status', '--state-dir', fleet.stateDir(serverIndex)])
    expect(after.stdout).toMatch(/^leaving: this node asked to leave; it goes once a committed epoch retires it$/m)
    expect(after.stdout).toMatch(/control-plane \(leaving\)/)
  }, 90_000)

  it('before the cluster is formed, says to stop the agent instead', async () => {
    const fleet = await makeAgents({ expect: 3, controlPlanes: 1 })
    await fleet.start(0)
    const result = await run(['leave', '--state-dir', fleet.stateDir(0)])
    expect(result.status).toBe(EXIT_STATUS.failed)
    expect(result.stderr).toBe('p2p-bootstrap: cannot leave before the cluster is formed (no committed plan yet): nothing counts on this node, so stop the agent instead\n')
    expect(fleet.nodes[0]?.status().leaving).toBe(false)
  }, 30_000)

  it('without a running agent, names the fix; a bad --timeout is a usage error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2pb-leave-none-'))
    try {
      const result = await run(['leave', '--state-dir', dir])
      expect(result.status).toBe(EXIT_STATUS.failed)
      expect(result.stderr).toBe(`p2p-bootstrap: cannot ask the agent to leave through ${join(dir, 'agent.sock')}: no agent is running with this state dir (start \`p2p-bootstrap run\`, or pass the --state-dir it uses)\n`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    for (const bad of ['0', 'soon', '1.5', '9999999']) {
      const result = await run(['leave', '--timeout', bad])
      expect(result.status).toBe(EXIT_STATUS.usage)
      expect(result.stderr).toBe(`p2p-bootstrap: --timeout must be a whole number of seconds from 1 to 604800, got "${bad}"\n`)
    }
  })
})

describe('--failover-delay and the config keys of later epochs', () => {
  const token = 'file-token'

  it('take --failover-delay in seconds over the file\'s failover-delay, and refuse what is not allowed', () => {
    const file = parseConfigText('token: t\nfailover-delay: 120\n', '/etc/p2pb.yaml')
    expect(file.failoverDelayMs).toBe(120_000)
    expect(resolveRunSettings({}, file, {}).options.failoverDelayMs).toBe(120_000)
    expect(resolveRunSettings({ failoverDelay: '3' }, file, {}).options.failoverDelayMs).toBe(3_000)
    expect(resolveRunSettings({ token }, undefined, {}).options.failoverDelayMs).toBeUndefined()
    for (const bad of ['0', '-1', '2.5', 'five', '604801']) {
      let failure: unknown
      try {
        resolveRunSettings({ token, failoverDelay: bad }, undefined, {})
      } catch (err) {
        failure = err
      }
      expect(failure).toBeInstanceOf(CliError)
      expect((failure as CliError).code).toBe('CLI_USAGE')
      expect((failure as CliError).message).toMatch(/^--failover-delay must be a whole number of seconds from 1 to 604800 \(a week\), got .* \(how long a control plane stays dead before a live worker replaces it/)
    }
    expect(configErrorOf('failover-delay: 0\n', 'c.yaml')).toMatch(/^config c\.yaml line 1: failover-delay must be a whole number of seconds from 1 to 604800 \(a week\), got 0 /)
    expect(configErrorOf('failover-delay: 5m\n', 'c.yaml')).toMatch(/^config c\.yaml line 1: failover-delay must be a whole number of seconds .*, got "5m"/)
    expect(configErrorOf('failover_delay: 30\n', 'c.yaml')).toBe('config c.yaml line 1: failover_delay is not a known key: did you mean failover-delay?')
  })

  it('map apply.clean-replaced-server and apply.stop to the apply options, and refuse other values', () => {
    const file = parseConfigText('apply:\n  clean-replaced-server: true\n  stop: systemctl stop {service}\n', 'c.yaml')
    expect(file.apply).toEqual({ cleanReplacedServer: true, stopCommand: ['systemctl', 'stop', '{service}'] })
    expect(resolveRunSettings({ token }, file, {}).options.apply).toEqual({ cleanReplacedServer: true, stopCommand: ['systemctl', 'stop', '{service}'] })
    expect(parseConfigText('apply:\n  clean-replaced-server: false\n', 'c.yaml').apply).toEqual({ cleanReplacedServer: false })
    expect(configErrorOf('apply:\n  clean-replaced-server: yes\n', 'c.yaml')).toBe('config c.yaml line 2: apply.clean-replaced-server must be true or false, got "yes"')
    expect(configErrorOf('apply:\n  clean-replaced: true\n', 'c.yaml')).toBe('config c.yaml line 2: apply.clean-replaced is not a known key: the keys here are start, restart, stop, clean-replaced-server, ready, on-ready, timeout')
    expect(() => parseConfigText('apply:\n  stop: ""\n', 'c.yaml')).toThrow(ConfigError)
  })

  it('run --failover-delay with a bad value fails before anything starts', async () => {
    const result = await run(['run', '--token', formatToken(generateToken({ expect: 1 })), '--failover-delay', '0', '--state-dir', '/nonexistent/never-created'])
    expect(result.status).toBe(EXIT_STATUS.usage)
    expect(result.stderr).toMatch(/^p2p-bootstrap: --failover-delay must be a whole number of seconds from 1 to 604800/)
  })
})

describe('run logs every committed epoch', () => {
  it('as one record with the whole epoch in JSON, and a line saying what changed and why', () => {
    const out: string[] = []
    const target = new EventTarget()
    const source = {
      options: { dryRun: true, apply: {} },
      addEventListener: (type: string, listener: (event: CustomEvent) => void, options?: { signal?: AbortSignal }) => {
        target.addEventListener(type, listener as unknown as (event: Event) => void, options)
      },
      status: () => ({ members: [], expect: null, ballot: null, part: null })
    }
    const log = createRunLogger({ format: 'json', level: 'info', colour: false, nowMs: () => 0, writeOut: (text) => { out.push(text) }, writeErr: (text) => { out.push(text) } })
    const human: string[] = []
    const humanLog = createRunLogger({ format: 'human', level: 'info', colour: false, nowMs: () => 0, writeOut: (text) => { human.push(text) }, writeErr: (text) => { human.push(text) } })
    const reporters = [new ProgressReporter(source, log, { nowMs: () => 0, scheduler: { schedule: () => () => {} } }), new ProgressReporter(source, humanLog, { nowMs: () => 0, scheduler: { schedule: () => () => {} } })]
    for (const reporter of reporters) reporter.attach()
    const [proposer, voter, worker, dead] = ['PROPOSER', 'VOTER002', 'WORKER03', 'DEADNODE'].map(tail => `12D3KooW${'x'.repeat(36)}${tail}`)
    if (proposer === undefined || voter === undefined || worker === undefined || dead === undefined) throw new Error('ids')
    const record: EpochRecord = {
      epoch: 4,
      proposer,
      voters: [proposer, voter],
      decidedAtMs: 1_700_000_000_000,
      controlPlanes: [proposer, voter, worker],
      replaced: [dead],
      retired: [],
      notes: ['epoch 4: control plane …DEADNODE dead for 301 s (fail-over delay 300 s); …WORKER03 replaces it']
    }
    target.dispatchEvent(new CustomEvent('epoch', { detail: { record, plan: {} } }))
    for (const reporter of reporters) reporter.stop()
    expect(out).toHaveLength(1)
    const line = JSON.parse(out[0] ?? '{}') as Record<string, unknown>
    expect(line).toMatchObject({ level: 30, event: 'epoch', ...record })
    // The time is local (its digits depend on the zone): everything after it is checked.
    expect(human.map(text => text.slice(13))).toEqual([
      // The note's own "epoch 4:" is not repeated after "epoch 4 committed:".
      'INFO  epoch 4 committed: control plane …DEADNODE dead for 301 s (fail-over delay 300 s); …WORKER03 replaces it ' +
      `(proposed by …PROPOSER, 2 votes; control planes …PROPOSER, …VOTER002, …WORKER03) event=epoch epoch=4 proposer=${proposer}\n`
    ])
  })
})

// ---- end to end: `run` processes, and `leave` as an operator types it ----

interface RunProcess {
  readonly lines: Array<Record<string, unknown>>
  readonly exited: Promise<number | null>
  readonly kill: () => void
  stderr: string
}

function runProcess (args: readonly string[], token: string): RunProcess {
  const child = spawn(process.execPath, [binPath, 'run', '--json', '--dry-run', '--profile', 'test', '--no-mdns', '--no-dht', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, P2PB_TOKEN: token }
  })
  const agent: RunProcess = {
    lines: [],
    stderr: '',
    exited: new Promise((resolve) => { child.on('close', (code) => { resolve(code) }) }),
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') }
  }
  let pending = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    pending += text
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    for (const part of parts) agent.lines.push(JSON.parse(part) as Record<string, unknown>)
  })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { agent.stderr += text })
  return agent
}

describe('run and leave, as processes', () => {
  it('`leave` on a worker: its `run` logs the epoch and `left`, and exits 0; the others log the epoch too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2pb-run-leave-'))
    const processes: RunProcess[] = []
    try {
      const token = formatToken(generateToken({ expect: 3, controlPlanes: 1 }))
      const nodes = await Promise.all([2, 3, 4].map(async (last, index) => {
        const ip = `127.0.3.${last}`
        const stateDir = join(dir, `node-${index}`)
        const { peerId } = await loadOrCreateIdentity(stateDir)
        const listen = `/ip4/${ip}/tcp/${await freePort(ip)}`
        return { ip, stateDir, listen, address: `${listen}/p2p/${peerId}`, nodeId: peerId }
      }))
      for (const [index, node] of nodes.entries()) {
        processes.push(runProcess(['--state-dir', node.stateDir, '--root', join(dir, `root-${index}`), '--listen', node.listen,
          '--peer', (nodes[(index + 1) % nodes.length] ?? node).address, '--node-ip', node.ip, '--failover-delay', '5'], token))
      }
      const plans = (): Array<Record<string, unknown> | undefined> => processes.map(agent => agent.lines.filter(line => line.event === 'plan').at(-1))
      await waitFor(() => plans().every(plan => plan !== undefined) && new Set(plans().map(plan => plan?.epoch)).size === 1 &&
        processes.every(agent => agent.lines.some(line => line.event === 'applied')), { timeoutMs: 30_000, what: 'every run to apply one plan' })
      const plan = plans()[0] ?? {}
      const controlPlanes = plan.controlPlanes as string[]
      const leaverIndex = nodes.findIndex(node => !controlPlanes.includes(node.nodeId))
      const leaver = processes[leaverIndex]
      const node = nodes[leaverIndex]
      if (leaver === undefined || node === undefined) throw new Error('no worker')

      const result = await runBin(['leave', '--state-dir', node.stateDir, '--json'])
      expect(result.status, result.stderr).toBe(0)
      const retiring = Number(plan.epoch) + 1
      expect(JSON.parse(result.stdout.trimEnd().split('\n').at(-1) ?? '{}')).toEqual({ event: 'stopped', epoch: retiring })
      expect(await leaver.exited).toBe(0)
      expect(leaver.lines.at(-1)).toMatchObject({ event: 'left', nodeId: node.nodeId, epoch: retiring })
      expect(leaver.lines.find(line => line.event === 'epoch' && line.epoch === retiring)).toMatchObject({ retired: [node.nodeId] })
      for (const other of processes.filter(agent => agent !== leaver)) {
        await waitFor(() => other.lines.some(line => line.event === 'epoch' && line.epoch === retiring), { timeoutMs: 10_000, what: `the others to log epoch ${retiring}` })
        const epoch = other.lines.find(line => line.event === 'epoch' && line.epoch === retiring)
        expect(epoch).toMatchObject({ retired: [node.nodeId], replaced: [], controlPlanes })
        expect(typeof epoch?.proposer).toBe('string')
        expect(Array.isArray(epoch?.notes)).toBe(true)
        // The plan event keeps coming, with the plan's new lists.
        expect(other.lines.filter(line => line.event === 'plan').at(-1)).toMatchObject({ epoch: retiring, retired: [node.nodeId] })
      }
    } finally {
      for (const agent of processes) agent.kill()
      await Promise.all(processes.map(async agent => await agent.exited))
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

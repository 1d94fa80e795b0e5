// Goal: `leave()` takes a node out of a formed cluster through a committed epoch, and only then
// stops it: a worker is retired at once and never counted again; a control plane waits (and its
// status says why) while no live node can take its role over, then hands it to the first one that
// can; a node that asked before a restart finishes leaving when it runs again; leaving before any
// plan, or giving up through a signal, fails with a typed code. The same leave is asked for over
// the agent socket (`POST /v1/leave`, a stream of JSON lines), whose requests are checked
// strictly: a bad one is answered with an error and the agent keeps serving.
// Method: dry-run fleets of real bootstrappers on loopback (profile `test`); every wait is on the
// bootstrappers' own promises and events, or a status polled with a deadline. The socket's
// refusals are checked on a StatusServer with made-up providers, byte for byte where it matters.
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { EpochRecord, Plan } from '@p2p-bootstrap/core'
import { BootstrapperError, STATUS_SOCKET_NAME, StatusServer, leaveWaitingFor, requestLeave, waitForAgentGone } from '../src/index.js'
import type { Bootstrapper, LeaveUpdate, StatusReport, StatusServerProviders } from '../src/index.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { makeFleet } from './fleet.js'
import type { Fleet } from './fleet.js'

let fleet: Fleet | undefined

afterEach(async () => {
  await fleet?.dispose()
  fleet = undefined
})

/**
 * A formed fleet, and the plan every node holds. A bootstrap made before every expected node was
 * seen may have fewer control planes than wanted; the epoch that grows them is waited for too.
 */
async function formed (size: number, controlPlanes: number): Promise<{ made: Fleet, plan: Plan }> {
  const made = await makeFleet({ expect: size, controlPlanes })
  fleet = made
  for (let index = 0; index < size; index++) await made.start(index)
  const signal = AbortSignal.timeout(30_000)
  await Promise.all(made.nodes.map(async node => { await node.waitForApplied({ signal }) }))
  const first = made.nodes[0]
  if (first === undefined) throw new Error('no node 0')
  await waitFor(() => {
    const epochs = new Set(made.nodes.map(node => node.status().epoch))
    return epochs.size === 1 && first.status().plan?.controlPlanes.length === controlPlanes
  }, { timeoutMs: 15_000, what: `every node to hold one plan with ${controlPlanes} control plane(s)` })
  const plan = await first.waitForPlan()
  return { made, plan }
}

/** The epochs a node announces from now on. */
function recordEpochs (node: Bootstrapper): EpochRecord[] {
  const records: EpochRecord[] = []
  node.addEventListener('epoch', (event) => { records.push(event.detail.record) })
  return records
}

async function rejection (promise: Promise<unknown>): Promise<BootstrapperError> {
  const outcome = await promise.then(() => null, (err: unknown) => err)
  expect(outcome).toBeInstanceOf(BootstrapperError)
  return outcome as BootstrapperError
}

function nodeAt (made: Fleet, index: number): Bootstrapper {
  const node = made.nodes[index]
  if (node === undefined) throw new Error(`no node ${index}`)
  return node
}

describe('leave', () => {
  it('a worker of a 3-node fleet: an epoch retires it, leave() resolves, it stops, and no plan counts it again', async () => {
    const { made, plan } = await formed(3, 1)
    const next = plan.epoch + 1
    const workerIndex = made.nodes.findIndex(node => plan.workers.includes(node.nodeId))
    const worker = nodeAt(made, workerIndex)
    const others = made.nodes.filter(node => node !== worker)
    const seen = others.map(recordEpochs)
    let left: number | null = null
    worker.addEventListener('left', (event) => { left = event.detail.epoch })

    await worker.leave({ signal: AbortSignal.timeout(20_000) })

    expect(left).toBe(next)
    // Stopped: nothing it could be waiting for will come.
    expect((await rejection(worker.waitForReady())).code).toBe('BOOTSTRAP_STOPPED')
    const last = worker.status()
    expect(last.retiredAtEpoch).toBe(next)
    expect(last.leaving).toBe(true)
    expect(last.role).toBeNull()
    expect(last.part?.retired).toBe(true)
    expect(last.waitingFor).toMatch(new RegExp(`^nothing: this node left the cluster \\(epoch ${next} retired it\\)`))

    for (const [index, node] of others.entries()) {
      await waitFor(() => node.status().epoch === next, { timeoutMs: 10_000, what: `the others to learn epoch ${next}` })
      const status = node.status()
      expect(status.plan?.workers).not.toContain(worker.nodeId)
      expect(status.plan?.controlPlanes).toEqual(plan.controlPlanes)
      expect(status.plan?.retired).toEqual([worker.nodeId])
      expect(status.members.find(member => member.nodeId === worker.nodeId)).toMatchObject({ role: null, retired: true, leaving: false })
      const record = status.history?.find(entry => entry.epoch === next)
      expect(record?.retired).toEqual([worker.nodeId])
      expect(record?.notes.join(' ')).toMatch(/left as a worker and will not be counted again/)
      expect(seen[index]?.map(entry => entry.epoch)).toEqual([next])
    }
    // It is gone and stays uncounted: once membership shows it gone (it said goodbye as it
    // stopped, or failure detection calls it dead), still no new epoch.
    const survivor = others[0]
    if (survivor === undefined) throw new Error('no survivor')
    await waitFor(() => survivor.status().members.some(member => member.nodeId === worker.nodeId && (member.state === 'dead' || member.state === 'left')),
      { timeoutMs: 10_000, what: 'the retired node to be gone (left or dead)' })
    await survivor.waitForApplied({ signal: AbortSignal.timeout(10_000) })
    expect(survivor.status().epoch).toBe(next)
  }, 60_000)

  it('a control plane waits, saying why, while no live node can take its role, then hands it to one that can', async () => {
    const { made, plan } = await formed(3, 3)
    expect(plan.workers).toEqual([])
    const next = plan.epoch + 1
    const leaverIndex = made.nodes.findIndex(node => node.nodeId !== plan.init)
    const leaver = nodeAt(made, leaverIndex)
    const phases: string[] = []
    leaver.addEventListener('phase', (event) => { phases.push(event.detail.waitingFor) })

    // A caller that gives up gets a typed error; the request stands.
    const giveUp = new AbortController()
    const abandoned = rejection(leaver.leave({ signal: giveUp.signal }))
    await waitFor(() => phases.some(text => /no live node can/.test(text)), { timeoutMs: 10_000, what: 'the leaver to say nobody can take over' })
    expect(leaver.status().waitingFor).toMatch(/^a node that can take over this control plane's role: no live node can .*start another node with the same token/)
    expect(leaver.status().leaving).toBe(true)
    giveUp.abort(new Error('operator gave up'))
    expect((await abandoned).code).toBe('BOOTSTRAP_ABORTED')
    expect(leaver.status().epoch).toBe(plan.epoch)
    expect(leaver.status().role).toBe('control-plane')
    const watcher = made.nodes.find(node => node !== leaver) ?? leaver
    await waitFor(() => watcher.status().members.find(member => member.nodeId === leaver.nodeId)?.leaving === true,
      { timeoutMs: 10_000, what: 'the others to see the request' })

    // A fourth node comes: a worker that can take the role over.
    const successor = await made.start(3, { peers: watcher.addresses().slice(0, 1) })
    await leaver.leave({ signal: AbortSignal.timeout(20_000) })

    expect(leaver.status().retiredAtEpoch).toBe(next)
    await waitFor(() => successor.status().role === 'control-plane', { timeoutMs: 10_000, what: 'the fourth node to become a control plane' })
    const after = successor.status()
    expect(after.plan?.controlPlanes).toHaveLength(3)
    expect(after.plan?.controlPlanes).not.toContain(leaver.nodeId)
    expect(after.plan?.controlPlanes).toContain(successor.nodeId)
    expect(after.plan?.retired).toEqual([leaver.nodeId])
    expect(after.plan?.init).toBe(plan.init)
    const record = after.history?.find(entry => entry.epoch === next)
    expect(record?.notes.join(' ')).toMatch(/left and handed its role to/)
    // The previous control planes voted it.
    expect(record?.voters.every(voter => plan.controlPlanes.includes(voter))).toBe(true)
  }, 60_000)

  it('a node that asked to leave before a restart finishes leaving when it runs again', async () => {
    const { made, plan } = await formed(3, 3)
    const leaverIndex = made.nodes.findIndex(node => node.nodeId !== plan.init)
    const leaver = nodeAt(made, leaverIndex)
    const asked = rejection(leaver.leave())
    await waitFor(() => leaver.status().leaving === true, { timeoutMs: 10_000, what: 'the request to leave' })
    // Its request must reach the others before it goes: the control plane acts on their ledger.
    const watcher = made.nodes.find(node => node !== leaver) ?? leaver
    await waitFor(() => watcher.status().members.find(member => member.nodeId === leaver.nodeId)?.leaving === true,
      { timeoutMs: 10_000, what: 'the others to hold the request' })
    await leaver.stop()
    expect((await asked).code).toBe('BOOTSTRAP_STOPPED')

    // While it is down, a fourth node takes its role over.
    const successor = await made.start(3, { peers: watcher.addresses().slice(0, 1) })
    await waitFor(() => successor.status().role === 'control-plane', { timeoutMs: 15_000, what: 'the fourth node to take the role over' })

    // Started again, it learns the epoch that retired it, carries it out and stops by itself;
    // leave() follows that same flow (it may be over already).
    const again = await made.start(leaverIndex, { peers: watcher.addresses().slice(0, 1) })
    await again.leave({ signal: AbortSignal.timeout(20_000) })
    expect(again.status().retiredAtEpoch).toBe(plan.epoch + 1)
    expect((await rejection(again.waitForReady())).code).toBe('BOOTSTRAP_STOPPED')
  }, 60_000)

  it('before any plan, leave() fails with BOOTSTRAP_NO_PLAN and the node runs on', async () => {
    const made = await makeFleet({ expect: 3, controlPlanes: 1 })
    fleet = made
    const alone = await made.start(0)
    const error = await rejection(alone.leave())
    expect(error.code).toBe('BOOTSTRAP_NO_PLAN')
    expect(error.message).toMatch(/stop the agent instead/)
    expect(alone.status().leaving).toBe(false)
    expect(alone.status().phase).toBe('discovering')
    const signalled = await rejection(alone.leave({ signal: AbortSignal.abort(new Error('no')) }))
    expect(signalled.code).toBe('BOOTSTRAP_ABORTED')
  }, 30_000)
})

describe('leave over the agent socket', () => {
  it('streams the request, the epoch that retires the node and its leaving; the agent then stops', async () => {
    const { made, plan } = await formed(3, 1)
    const workerIndex = made.nodes.findIndex(node => plan.workers.includes(node.nodeId))
    const worker = nodeAt(made, workerIndex)
    await worker.stop()
    const again = await made.start(workerIndex, { statusSocket: true, peers: made.nodes.filter(node => node !== worker)[0]?.addresses().slice(0, 1) ?? [] })
    await again.waitForApplied({ signal: AbortSignal.timeout(10_000) })
    const socketPath = join(made.dir, `node-${workerIndex}`, 'state', STATUS_SOCKET_NAME)
    const updates: LeaveUpdate[] = []
    const { epoch } = await requestLeave(socketPath, { signal: AbortSignal.timeout(20_000), onUpdate: (update) => { updates.push(update) } })
    expect(epoch).toBe(plan.epoch + 1)
    expect(updates[0]).toMatchObject({ event: 'leaving', nodeId: again.nodeId, epoch: plan.epoch, role: 'worker' })
    const events = updates.map(update => update.event)
    expect(events.filter(event => event === 'left')).toEqual(['left'])
    expect(events.at(-1)).toBe('left')
    expect(events.indexOf('retired')).toBeLessThan(events.indexOf('left'))
    const record = updates.find((update): update is LeaveUpdate & { event: 'epoch' } => update.event === 'epoch')?.record
    expect(record?.retired).toEqual([again.nodeId])
    await waitForAgentGone(socketPath, { signal: AbortSignal.timeout(10_000) })
    expect((await rejection(again.waitForReady())).code).toBe('BOOTSTRAP_STOPPED')
  }, 60_000)

  it('refuses before the cluster is formed, with the code and the fix', async () => {
    const made = await makeFleet({ expect: 3, controlPlanes: 1 })
    fleet = made
    await made.start(0, { statusSocket: true })
    const error = await rejection(requestLeave(join(made.dir, 'node-0', 'state', STATUS_SOCKET_NAME), { signal: AbortSignal.timeout(5_000) }))
    expect(error.code).toBe('BOOTSTRAP_NO_PLAN')
    expect(error.message).toMatch(/stop the agent instead/)
  }, 30_000)
})

// ---- the socket's own rules, on made-up providers ----

interface Reply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

async function ask (socketPath: string, method: string, path: string, headers: Record<string, string> = {}, body = ''): Promise<Reply> {
  return await new Promise<Reply>((resolve, reject) => {
    const req = request({ socketPath, path, method, headers, signal: AbortSignal.timeout(5_000) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Raw bytes on the socket; resolves with everything the server wrote before it closed. */
async function raw (socketPath: string, bytes: string): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const socket = connect({ path: socketPath })
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { answer += chunk })
    socket.on('end', () => { resolve(answer) })
    socket.on('error', reject)
    socket.on('connect', () => { socket.write(bytes) })
  })
}

const RECORD: EpochRecord = {
  epoch: 2, proposer: 'p', voters: ['p'], decidedAtMs: 1, controlPlanes: ['p'], replaced: [], retired: ['me'], notes: ['epoch 2: …me left as a worker and will not be counted again']
}

async function withServer (providers: StatusServerProviders, run: (socketPath: string, server: StatusServer) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'p2pb-leave-socket-'))
  const socketPath = join(dir, STATUS_SOCKET_NAME)
  const server = new StatusServer(socketPath, () => ({ nodeId: 'me' }) as unknown as StatusReport, providers)
  await server.start()
  try {
    await run(socketPath, server)
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

describe('the agent socket checks every request', () => {
  it('answers a wrong method, a body, an unknown path and bytes that are not HTTP with an error, and keeps serving', async () => {
    let asked = 0
    await withServer({ leave: async (send) => { asked++; send({ event: 'left', epoch: 2 }) } }, async (socketPath) => {
      const wrongMethod = await ask(socketPath, 'GET', '/v1/leave')
      expect(wrongMethod.status).toBe(405)
      expect(wrongMethod.headers.allow).toBe('POST')
      expect(JSON.parse(wrongMethod.body)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' })
      expect((await ask(socketPath, 'POST', '/v1/status', { 'content-length': '0' })).status).toBe(405)
      const withBody = await ask(socketPath, 'POST', '/v1/leave', { 'content-type': 'application/json' }, '{"node":"someone-else"}')
      expect(withBody.status).toBe(400)
      expect(JSON.parse(withBody.body)).toMatchObject({ code: 'BAD_REQUEST', error: 'POST /v1/leave takes no body' })
      const unknown = await ask(socketPath, 'GET', '/v1/leave?node=x')
      expect(unknown.status).toBe(404)
      expect(JSON.parse(unknown.body).error).toMatch(/use GET \/v1\/status, GET \/v1\/kubeconfig, POST \/v1\/leave/)
      const garbage = await raw(socketPath, '\u0000\u0001 not http at all\r\n\r\n')
      expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
      expect(garbage).toMatch(/"code":"BAD_REQUEST"/)
      const hugeHead = await raw(socketPath, `GET /v1/status HTTP/1.1\r\nhost: x\r\nx-pad: ${'a'.repeat(16 * 1024)}\r\n\r\n`)
      expect(hugeHead).toMatch(/^HTTP\/1\.1 4\d\d /)
      expect(asked).toBe(0) // none of those reached the node
      // Still serving: status and a well-formed leave.
      expect((await ask(socketPath, 'GET', '/v1/status')).status).toBe(200)
      expect(await requestLeave(socketPath)).toEqual({ epoch: 2 })
      expect(asked).toBe(1)
    })
  })

  it('relays a refusal before any line as its code, and a failure after some lines as an error line', async () => {
    const refusal = new BootstrapperError('BOOTSTRAP_NO_PLAN', 'cannot leave before the cluster is formed: stop the agent instead')
    await withServer({ leave: async () => { throw refusal } }, async (socketPath) => {
      const reply = await ask(socketPath, 'POST', '/v1/leave', { 'content-length': '0' })
      expect(reply.status).toBe(409)
      expect(JSON.parse(reply.body)).toEqual({ error: refusal.message, code: 'BOOTSTRAP_NO_PLAN' })
      const error = await rejection(requestLeave(socketPath))
      expect(error.code).toBe('BOOTSTRAP_NO_PLAN')
      expect(error.message).toBe(refusal.message)
    })
    const seen: LeaveUpdate[] = []
    await withServer({
      leave: async (send) => {
        send({ event: 'leaving', nodeId: 'me', epoch: 1, role: 'worker', waitingFor: 'a committed epoch that retires this node' })
        send({ event: 'epoch', record: RECORD })
        throw new BootstrapperError('BOOTSTRAP_STOPPED', 'the bootstrapper stopped before this node left')
      }
    }, async (socketPath) => {
      const error = await rejection(requestLeave(socketPath, { onUpdate: (update) => { seen.push(update) } }))
      expect(error.code).toBe('BOOTSTRAP_STOPPED')
      expect(seen.map(update => update.event)).toEqual(['leaving', 'epoch', 'error'])
    })
  })

  it('refuses lines of the wrong shape, and says when the agent ended without the node leaving', async () => {
    await withServer({ leave: async (send) => { send({ event: 'leaving', nodeId: 'me', epoch: 1, role: 'worker', waitingFor: 'x', extra: true } as unknown as LeaveUpdate) } }, async (socketPath) => {
      const error = await rejection(requestLeave(socketPath))
      expect(error.code).toBe('BOOTSTRAP_STATUS_SOCKET')
      expect(error.message).toMatch(/a line of the wrong shape/)
    })
    await withServer({ leave: async (send) => { send({ event: 'waiting', waitingFor: 'x' }) } }, async (socketPath) => {
      const error = await rejection(requestLeave(socketPath))
      expect(error.code).toBe('BOOTSTRAP_STOPPED')
      expect(error.message).toMatch(/stopped before a committed epoch retired this node/)
    })
  })

  it('lets the last line out when the agent stops right after it, and then nothing listens', async () => {
    await withServer({}, async () => {}) // the provider is optional: a server without one still starts and stops
    let release: (() => void) | undefined
    await withServer({
      leave: async (send, signal) => {
        send({ event: 'left', epoch: 3 })
        // The agent stops before this resolves: stop() must still deliver the line.
        await new Promise<void>((resolve) => { release = resolve; signal.addEventListener('abort', () => { resolve() }) })
      }
    }, async (socketPath, server) => {
      const leaving = requestLeave(socketPath)
      await waitFor(() => release !== undefined, { timeoutMs: 5_000, what: 'the leave stream to open' })
      await server.stop()
      expect(await leaving).toEqual({ epoch: 3 })
      await waitForAgentGone(socketPath, { signal: AbortSignal.timeout(5_000) })
      const error = await rejection(requestLeave(socketPath))
      expect(error.code).toBe('BOOTSTRAP_STATUS_SOCKET')
      expect(error.message).toMatch(/no agent is running with this state dir/)
    })
  })
})

// ---- what a leaving node says it waits for: the core's planner, asked ahead ----

describe('leaveWaitingFor', () => {
  const id = (tail: string): string => `12D3KooW${'x'.repeat(36)}${tail}`
  const [cp1, cp2, cp3, w1, w2] = ['CONTROL1', 'CONTROL2', 'CONTROL3', 'WORKER01', 'WORKER02'].map(id) as [string, string, string, string, string]
  const plan: Plan = {
    clusterId: 'c1',
    epoch: 4,
    init: cp1,
    decidedUnder: { expect: 5, controlPlanes: 3 },
    controlPlanes: [cp1, cp2, cp3],
    workers: [w1, w2],
    notes: [],
    secrets: { serverTokenHash: 'a'.repeat(64), agentTokenHash: 'b'.repeat(64), serverTokenSealed: {}, agentTokenSealed: new Uint8Array(1) }
  }
  const member = (nodeId: string, requestedRole?: 'worker'): { nodeId: string, facts: { labels: Record<string, string>, requestedRole?: 'worker' } } =>
    ({ nodeId, facts: { labels: {}, ...(requestedRole === undefined ? {} : { requestedRole }) } })
  const everyone = [cp1, cp2, cp3, w1, w2].map(nodeId => member(nodeId))

  it.each([
    ['a worker', w1, everyone, [w1], /^a committed epoch that retires this node \(the lowest live control plane proposes it and the control planes vote\)$/],
    ['a control plane with live workers', cp2, everyone, [cp2], /^a committed epoch that hands this node's control-plane role to …WORKER0[12] and retires it/],
    ['a control plane while a worker leaves too', cp2, everyone, [cp2, w2], /^a committed epoch that retires this node, after one that comes first: epoch 5: …WORKER02 left as a worker/],
    ['a control plane with no worker alive', cp2, [cp1, cp2, cp3].map(nodeId => member(nodeId)), [cp2], /^a node that can take over this control plane's role: no live node can/],
    ['a control plane whose workers ask to stay workers', cp2, [member(cp1), member(cp2), member(cp3), member(w1, 'worker'), member(w2, 'worker')], [cp2], /no live node can .*asks to stay a worker/]
  ])('%s', (_what, self, live, leaving, expected) => {
    expect(leaveWaitingFor({ plan, self, shape: { controlPlanes: 3 }, live, leaving: new Set(leaving), failoverDelayMs: 300_000 })).toMatch(expected)
  })
})

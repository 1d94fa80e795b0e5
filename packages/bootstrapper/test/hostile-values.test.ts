// Goal: a token holder cannot crash a node, or poison it into a crash at every restart, with values
// at the edge of the schema. Findings reproduced here against real bootstrappers over real libp2p
// connections: a `paxos/prepare` at the largest round the schema used to accept (the next proposer
// failed an assertion, and again at every restart, the promise being in consensus.log); a SWIM
// incarnation of 2^53 - 1 gossiped about another node; a vote entry keyed beyond the epoch range
// (accepted by the ledger's key check, then threw in the node's vote scan). Method: node 0 of an
// expect-3 fleet starts alone; an attacker built from the project's own overlay, holding the
// token, writes each frame on the sync protocol; then the other nodes join, the fleet must form,
// and node 0 must restart and find its plan again. A state dir poisoned before the bounds existed
// (a promise at the old maximum appended to consensus.log) must start with a notice, not a crash.
// Also over real connections: one identity's entries past its ledger bound, and a peer sending
// bad signatures (penalised, disconnected, its rejections logged a few at a time).
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { BALLOT_ROUND_MAX, WRITER_NODE_BYTES_MAX, WRITER_NODE_ENTRIES_MAX, signEntry } from '@p2p-bootstrap/core'
import type { AcceptorRecord } from '@p2p-bootstrap/core'
import { nodeKeyFromPrivateKey } from '@p2p-bootstrap/overlay'
import { afterEach, describe, expect, it } from 'vitest'
import { badSignatureDeltas, frame, sendFrames, startAttacker } from '../../../test/helpers/attacker.js'
import type { Attacker } from '../../../test/helpers/attacker.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { createBootstrapper } from '../src/index.js'
import type { Bootstrapper, BootstrapperError } from '../src/index.js'
import { openStateDir } from '../src/state/state-dir.js'
import { makeFleet, rootOf, stateDirOf } from './fleet.js'
import type { Fleet } from './fleet.js'

let fleet: Fleet | undefined

afterEach(async () => {
  await fleet?.dispose()
  fleet = undefined
})

/** Node 0 built by hand (same options as the fleet's), so its events are heard from the start. */
interface Watched { readonly node: Bootstrapper, readonly notices: string[], readonly errors: BootstrapperError[] }

async function startWatched (made: Fleet, index: number): Promise<Watched> {
  const notices: string[] = []
  const errors: BootstrapperError[] = []
  const node = createBootstrapper({
    token: made.token,
    stateDir: stateDirOf(made.dir, index),
    root: rootOf(made.dir, index),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    peers: [],
    mdns: false,
    dht: false,
    profile: 'test',
    statusSocket: false,
    node: { nodeIp: `10.0.0.${index + 1}`, hostname: `node-${index}`, interface: 'eth0' },
    dryRun: true
  })
  node.addEventListener('notice', (event) => { notices.push(event.detail.message) })
  node.addEventListener('error', (event) => { errors.push(event.detail) })
  await node.start({ signal: AbortSignal.timeout(20_000) })
  made.nodes[index] = node
  return { node, notices, errors }
}

/** An expect-3 fleet with only node 0 started and watched; the afterEach disposes of it. */
async function loneNode (): Promise<{ made: Fleet, first: Watched }> {
  const made = await makeFleet({ expect: 3, controlPlanes: 1 })
  fleet = made
  return { made, first: await startWatched(made, 0) }
}

/** The same, with a token holder ready to write to node 0 (the test stops it). */
async function loneNodeUnderAttack (): Promise<{ made: Fleet, first: Watched, victim: Bootstrapper, attacker: Attacker, address: string }> {
  const { made, first } = await loneNode()
  const attacker = await startAttacker(made.token, 'test')
  return { made, first, victim: first.node, attacker, address: first.node.addresses()[0] ?? '' }
}

describe('values at the edge of the schema, from a token holder', () => {
  it('a ballot at the old maximum, a 2^53 - 1 incarnation about another node and an out-of-range vote key crash nobody, before or after a restart', async () => {
    const { made, first, victim, attacker, address } = await loneNodeUnderAttack()
    const { keys, key: attackerKey } = attacker
    // The node gossiped about is another member-to-be, not the node receiving the gossip.
    const other = await generateKeyPair('Ed25519')
    const otherId = nodeKeyFromPrivateKey(other).nodeId
    try {
      const voteKey = `vote/2000000000/1.${attackerKey.nodeId}/${attackerKey.nodeId}`
      const refusedAtDecode = [
        frame({ kind: 'paxos/prepare', epoch: 1, ballot: { round: BALLOT_ROUND_MAX, proposer: attackerKey.nodeId } }),
        frame({ kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [{ nodeId: otherId, state: 'suspect', incarnation: Number.MAX_SAFE_INTEGER }] })
      ]
      const refusedByLedger = frame({
        kind: 'ledger/delta',
        entries: [signEntry(keys.clusterId, { key: voteKey, value: Uint8Array.of(1), stamp: { wallMs: Date.now(), counter: 0 } }, attackerKey)]
      })
      await sendFrames(attacker, address, [...refusedAtDecode, refusedByLedger])
      await waitFor(() => (victim.stats()?.framesRejected ?? 0) >= refusedAtDecode.length,
        { timeoutMs: 10_000, what: `node 0 to refuse ${refusedAtDecode.length} out-of-range frames` })
      await waitFor(() => first.errors.some(error => error.code === 'BOOTSTRAP_LEDGER_REJECTED' && error.message.includes('2000000000')),
        { timeoutMs: 10_000, what: 'node 0 to reject the out-of-range vote entry' })
    } finally {
      await attacker.overlay.stop()
    }
    expect(first.errors.filter(error => error.fatal)).toEqual([])

    // The fleet forms around the node that was attacked (it may well be the proposer). The attacker
    // holds the token, so it may be planned as a worker that never applies: wait on the three nodes.
    await made.start(1)
    await made.start(2)
    await waitFor(() => made.nodes.every(node => node.status().phase === 'applied'),
      { timeoutMs: 30_000, what: 'the three nodes to apply a plan' })
    const plan = victim.status().plan
    expect(plan).not.toBeNull()

    // And it starts again from what it persisted, with the same plan.
    await victim.stop()
    const again = await startWatched(made, 0)
    expect((await again.node.waitForPlan({ signal: AbortSignal.timeout(20_000) })).init).toBe(plan?.init)
    expect(again.errors.filter(error => error.fatal)).toEqual([])
  }, 90_000)

  it('a promise at the old maximum already in consensus.log is dropped with a notice, and the fleet still forms', async () => {
    const { made, first } = await loneNode()
    await first.node.stop()
    // What an earlier version persisted after promising the attacker's prepare.
    const state = await openStateDir(stateDirOf(made.dir, 0))
    await state.load()
    const attackerId = nodeKeyFromPrivateKey(await generateKeyPair('Ed25519')).nodeId
    const poisoned: AcceptorRecord = { kind: 'acceptor', state: { epoch: 1, promised: { round: BALLOT_ROUND_MAX, proposer: attackerId }, accepted: null } }
    await state.append({ records: [poisoned], sync: true })
    await state.close()

    const restarted = await startWatched(made, 0)
    await waitFor(() => restarted.notices.some(notice => notice.includes(`ballot round ${BALLOT_ROUND_MAX}`)),
      { timeoutMs: 10_000, what: 'a notice that the poisoned promise was dropped' })
    await made.start(1)
    await made.start(2)
    const signal = AbortSignal.timeout(30_000)
    await Promise.all(made.nodes.map(async node => { await node.waitForFleet('applied', { signal }) }))
    expect(restarted.errors.filter(error => error.fatal)).toEqual([])
  }, 90_000)

  it('a peer sending bad signatures is penalised: disconnected, refused, and its rejections logged a few at a time', async () => {
    const { first, attacker, address } = await loneNodeUnderAttack()
    const { key: attackerKey } = attacker
    try {
      const forgedDelta = badSignatureDeltas(attackerKey.nodeId, 200)
      for (let index = 0; index < 8; index++) {
        const stream = await attacker.overlay.libp2p.dialProtocol(multiaddr(address), attacker.protocol, { signal: AbortSignal.timeout(5_000) }).catch(() => null)
        if (stream === null) break // already refused
        stream.send(forgedDelta())
        await stream.close().catch(() => {})
      }
      await waitFor(() => first.errors.some(error => error.code === 'BOOTSTRAP_PEER_PENALISED' && error.message.includes(attackerKey.nodeId)),
        { timeoutMs: 10_000, what: 'node 0 to penalise the peer sending bad signatures' })
      await waitFor(() => attacker.overlay.libp2p.getConnections().length === 0, { timeoutMs: 10_000, what: 'the penalised peer to be disconnected' })
      await expect(attacker.overlay.libp2p.dialProtocol(multiaddr(address), attacker.protocol, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow()
    } finally {
      await attacker.overlay.stop()
    }
    // At most 8 × 200 entries were sent, a handful were verified, and fewer still were logged one by one.
    const rejections = first.errors.filter(error => error.code === 'BOOTSTRAP_LEDGER_REJECTED')
    expect(rejections.length).toBeLessThanOrEqual(10)
    expect(first.errors.filter(error => error.fatal)).toEqual([])
  }, 60_000)

  it('one identity cannot fill the ledger: its entries past its bound are refused, and the node restarts', async () => {
    const { made, first, victim, attacker, address } = await loneNodeUnderAttack()
    const { keys, key: attackerKey } = attacker
    const entriesBefore = victim.status().ledgerEntries
    const bytesBefore = victim.status().ledgerBytes
    try {
      const entry = (name: string, value: Uint8Array): unknown =>
        signEntry(keys.clusterId, { key: `node/${attackerKey.nodeId}/${name}`, value, stamp: { wallMs: Date.now(), counter: 0 } }, attackerKey)
      // Six entries of 500 KiB, one per frame (a frame holds at most 1 MiB), then 100 small ones.
      const frames = [
        ...Array.from({ length: 6 }, (_, index) => frame({ kind: 'ledger/delta', entries: [entry(`blob-${index}`, new Uint8Array(500 * 1024).fill(index))] })),
        frame({ kind: 'ledger/delta', entries: Array.from({ length: 100 }, (_, index) => entry(`small-${index}`, Uint8Array.of(index))) })
      ]
      await sendFrames(attacker, address, frames)
      // Node 0 is alone: every frame it reads is the attacker's.
      await waitFor(() => (victim.stats()?.framesIn ?? 0) >= frames.length, { timeoutMs: 15_000, what: 'node 0 to read every frame' })
      await waitFor(() => first.errors.some(error => error.message.includes('writer-full')), { timeoutMs: 15_000, what: 'entries past the bound to be refused' })
    } finally {
      await attacker.overlay.stop()
    }
    const held = (): { entries: number, bytes: number } => ({ entries: victim.status().ledgerEntries - entriesBefore, bytes: victim.status().ledgerBytes - bytesBefore })
    // At most 64 entries and 1 MiB of the attacker's (this node writes little of its own meanwhile).
    expect(held().bytes).toBeLessThanOrEqual(WRITER_NODE_BYTES_MAX + 16 * 1024)
    expect(held().entries).toBeLessThanOrEqual(WRITER_NODE_ENTRIES_MAX + 4)
    expect(first.errors.filter(error => error.fatal)).toEqual([])

    await victim.stop()
    const again = await startWatched(made, 0)
    expect(again.node.status().ledgerBytes - bytesBefore).toBeLessThanOrEqual(WRITER_NODE_BYTES_MAX + 16 * 1024)
    expect(again.errors.filter(error => error.fatal)).toEqual([])
  }, 60_000)
})

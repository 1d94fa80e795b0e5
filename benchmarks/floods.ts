// Memory under floods: the resident set of a node while a peer floods it, next to a node of an
// identical fleet that nobody floods. Two formed 3-node fleets (loopback, lan profile, `p2p-bootstrap
// run`); node 0 of the first is the victim, node 0 of the second the idle reference. An attacker in
// this process, built from the project's own overlay, runs each flood in turn for a fixed time:
//   digest-spam    token holder: `ledger/digest` frames with random roots on many sync streams whose
//                  answers it never reads (every answer is a 4 KiB bucket list queued for it);
//   bad-signatures token holder: `ledger/delta` frames of 200 entries with random signatures;
//   outsider       no token: 200 raw TCP connections writing random bytes as fast as they drain,
//                  each re-opened as soon as the victim closes it;
//   outsider-stall no token: 200 raw TCP connections that send a pnet nonce (any 24 bytes pass
//                  the nonce exchange) and then nothing, so each waits in the noise handshake
//                  until the victim drops it; re-opened likewise.
// RSS of both nodes is sampled every few seconds through each flood and for a quiet minute after
// it, so growth that stays is told from garbage that is collected. Not a test: nothing is asserted
// (run it on an idle machine: `npm run bench -- --only floods`; `--quick` shortens every phase,
// `--flood <name>` runs one flood, `--help` prints this).

import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import type { Overlay } from '@p2p-bootstrap/overlay'
import { badSignatureDeltas, frame, startAttacker } from '../test/helpers/attacker.js'
import { oursCliFleet } from './lib/baseline.js'
import { LoopbackFleet, checkBuilt } from './lib/loopback-fleet.js'
import { rssBytes } from './lib/node-cost.js'
import { isQuick, writeReport } from './lib/report.js'

if (process.argv.includes('--help')) {
  process.stdout.write([
    'usage: tsx --conditions=source benchmarks/floods.ts [--quick] [--flood <name>]',
    '  RSS of a node of a formed 3-node fleet under each flood, next to an idle node of another fleet.',
    '  --quick          20 s floods and 10 s quiet periods instead of 120 s and 60 s',
    '  --flood <name>   run only this flood: digest-spam, bad-signatures, outsider, outsider-stall',
    ''
  ].join('\n'))
  process.exit(0)
}

const quick = isQuick()
const SIZE = 3
const PROFILE = 'lan'
const FLOOD_MS = quick ? 20_000 : 120_000
const QUIET_MS = quick ? 10_000 : 60_000
const SAMPLE_MS = quick ? 2_000 : 5_000
const SETTLE_MS = 10_000
const STREAMS = 32
const OUTSIDER_CONNECTIONS = 200
const MB = 2 ** 20

type FloodName = 'digest-spam' | 'bad-signatures' | 'outsider' | 'outsider-stall'
const ALL_FLOODS: readonly FloodName[] = ['digest-spam', 'bad-signatures', 'outsider', 'outsider-stall']
const PNET_NONCE_BYTES = 24

/** The floods asked for with `--flood <name>`, or all of them. */
function floodsAsked (argv: readonly string[]): readonly FloodName[] {
  const index = argv.indexOf('--flood')
  if (index < 0) return ALL_FLOODS
  const name = argv[index + 1]
  const flood = ALL_FLOODS.find((candidate) => candidate === name)
  if (flood === undefined) throw new Error(`--flood takes one of ${ALL_FLOODS.join(', ')}, got ${JSON.stringify(name)}`)
  return [flood]
}
const FLOODS = floodsAsked(process.argv)
/** Outsider connections the victim closed, per outsider flood. */
const outsiderClosed = new Map<FloodName, number>()

interface Sample {
  readonly flood: FloodName
  /** Seconds since the flood started; past FLOOD_MS it is the quiet period after it. */
  readonly seconds: number
  readonly victimMB: number
  readonly idleMB: number
}

async function rssMB (fleet: LoopbackFleet, index: number): Promise<number> {
  const pid = fleet.pid(index)
  return ((pid === undefined ? null : await rssBytes(pid)) ?? Number.NaN) / MB
}

/** Writes frames from `next()` on `streams` until `signal`, waiting for drain as a fast honest peer would not. */
async function pump (streams: readonly Stream[], next: () => Uint8Array, signal: AbortSignal): Promise<void> {
  await Promise.all(streams.map(async (stream) => {
    while (!signal.aborted && stream.status === 'open') {
      if (!stream.send(next())) await stream.onDrain({ signal }).catch(() => {})
    }
  }))
}

async function openStreams (attacker: Overlay, address: string, protocol: string, count: number): Promise<Stream[]> {
  const streams: Stream[] = []
  for (let index = 0; index < count; index++) {
    const stream = await attacker.libp2p.dialProtocol(multiaddr(address), protocol, { signal: AbortSignal.timeout(10_000) }).catch(() => null)
    if (stream === null) continue
    // Never read: what the victim answers stays on its side.
    stream.pause()
    streams.push(stream)
  }
  return streams
}

async function flood (name: FloodName, fleet: LoopbackFleet, signal: AbortSignal): Promise<void> {
  const victim = fleet.nodes[0]
  if (victim === undefined) throw new Error('the fleet has no node 0')
  if (name === 'outsider' || name === 'outsider-stall') {
    const [host = '', port = ''] = victim.listen.split('/').filter((part, index) => index === 2 || index === 4)
    const sockets = new Set<Socket>()
    const chunk = randomBytes(64 * 1024)
    const open = (): void => {
      const socket = connect({ host, port: Number(port) })
      sockets.add(socket)
      socket.on('error', () => {})
      const write = (): void => {
        let more = true
        while (more && !signal.aborted && !socket.destroyed) more = socket.write(chunk)
      }
      if (name === 'outsider') {
        socket.on('connect', write)
        socket.on('drain', write)
      } else {
        socket.on('connect', () => { socket.write(randomBytes(PNET_NONCE_BYTES)) })
      }
      socket.on('close', () => {
        sockets.delete(socket)
        if (signal.aborted) return
        // The victim closed it: count it and keep the pressure on with a new one.
        outsiderClosed.set(name, (outsiderClosed.get(name) ?? 0) + 1)
        open()
      })
    }
    for (let index = 0; index < OUTSIDER_CONNECTIONS; index++) open()
    await new Promise<void>((resolve) => { signal.addEventListener('abort', () => { resolve() }, { once: true }) })
    for (const socket of sockets) socket.destroy()
    return
  }
  const attacker = await startAttacker(fleet.token, 'lan')
  try {
    const streams = await openStreams(attacker.overlay, victim.address, attacker.protocol, STREAMS)
    if (name === 'digest-spam') {
      await pump(streams, () => frame({ kind: 'ledger/digest', root: randomBytes(16) }), signal)
    } else {
      await pump(streams, badSignatureDeltas(attacker.key.nodeId, 200), signal)
    }
    for (const stream of streams) stream.abort(new Error('flood over'))
  } finally {
    await attacker.overlay.stop()
  }
}

const buildWarning = checkBuilt()
if (buildWarning !== null) throw new Error(buildWarning)
const flooded = await LoopbackFleet.create({ ...oursCliFleet(SIZE, PROFILE), subnet: 20 })
const idle = await LoopbackFleet.create({ ...oursCliFleet(SIZE, PROFILE), subnet: 21 })
const samples: Sample[] = []
try {
  for (const fleet of [flooded, idle]) {
    await fleet.startInBatches(SIZE, { timeoutMs: 60_000 })
    await fleet.waitFor('output applied on every node', current => current.everyHas('applied'), { timeoutMs: 120_000 })
  }
  await sleep(SETTLE_MS)
  for (const name of FLOODS) {
    process.stderr.write(`floods: ${name}\n`)
    const controller = new AbortController()
    const running = flood(name, flooded, controller.signal).catch((err: unknown) => {
      process.stderr.write(`floods: ${name} ended early: ${err instanceof Error ? err.message : String(err)}\n`)
    })
    const startMs = performance.now()
    for (let next = 0; next <= FLOOD_MS + QUIET_MS; next += SAMPLE_MS) {
      await sleep(Math.max(0, next - (performance.now() - startMs)))
      if (next >= FLOOD_MS && !controller.signal.aborted) controller.abort()
      samples.push({ flood: name, seconds: next / 1000, victimMB: await rssMB(flooded, 0), idleMB: await rssMB(idle, 0) })
    }
    controller.abort()
    await running
  }
} finally {
  await Promise.all([flooded, idle].map(async fleet => { await fleet.stop() }))
}

const round = (value: number): number => Math.round(value * 10) / 10
const rows = FLOODS.map((name) => {
  const of = samples.filter(sample => sample.flood === name)
  const during = of.filter(sample => sample.seconds * 1000 < FLOOD_MS)
  const after = of.filter(sample => sample.seconds * 1000 >= FLOOD_MS)
  const max = (values: number[]): number => values.reduce((most, value) => Math.max(most, value), Number.NEGATIVE_INFINITY)
  return {
    flood: name,
    'victim RSS before (MB)': round(of[0]?.victimMB ?? Number.NaN),
    'victim RSS max during (MB)': round(max(during.map(sample => sample.victimMB))),
    'victim RSS after quiet (MB)': round(after.at(-1)?.victimMB ?? Number.NaN),
    'idle node RSS max (MB)': round(max(of.map(sample => sample.idleMB))),
    'outsider connections closed by the victim': outsiderClosed.get(name) ?? null
  }
})

await writeReport({
  name: 'floods',
  title: 'Memory under floods',
  method: `RSS of node 0 of a formed ${SIZE}-node fleet (${PROFILE} profile, p2p-bootstrap run) sampled every ${SAMPLE_MS / 1000} s during ${FLOOD_MS / 1000} s of each flood and ${QUIET_MS / 1000} s after it, next to node 0 of an identical fleet nobody floods. Floods: a token holder sending ledger/digest frames with random roots on ${STREAMS} streams it never reads; a token holder sending ledger/delta frames of 200 entries with random signatures; an outsider without the token writing random bytes on ${OUTSIDER_CONNECTIONS} TCP connections; an outsider holding ${OUTSIDER_CONNECTIONS} TCP connections that send a pnet nonce and then stall in the noise handshake. Each outsider connection the victim closes is re-opened at once.`,
  columns: ['flood', 'victim RSS before (MB)', 'victim RSS max during (MB)', 'victim RSS after quiet (MB)', 'idle node RSS max (MB)', 'outsider connections closed by the victim'],
  rows,
  targets: [],
  notes: [],
  raw: { samples },
  quick
})

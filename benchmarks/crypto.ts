// What one Ed25519 signature costs the core: every ledger entry, vote, promise and certificate is
// signed once and checked by every node that receives it, so on a slow machine forming a fleet
// this is most of the core's CPU. Compares the JavaScript implementation the core used before
// (@noble/curves) with the native one it uses now (Node's crypto, OpenSSL), in one process, one
// after the other, on the same messages; the ratio is the number to read, not the absolute rate.
import { ed25519 } from '@noble/curves/ed25519.js'
import { nodeKeyFromSeed, verifyNodeSignature } from '@p2p-bootstrap/core'
import type { TopLevelSpec } from 'vega-lite'
import { isQuick, writeReport } from './lib/report.js'
import type { Cell } from './lib/report.js'
import { summarize } from './lib/stats.js'

const quick = isQuick()
const REPEATS = quick ? 3 : 7
const OPERATIONS = quick ? 200 : 1000
/** About the size of a signed vote or ledger entry. */
const MESSAGE_BYTES = 200

const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1)
const messages = Array.from({ length: OPERATIONS }, (_, i) => Uint8Array.from({ length: MESSAGE_BYTES }, (_, j) => (i + j * 31) & 0xff))
const key = nodeKeyFromSeed(seed)
const signatures = messages.map(message => key.sign(message))

/** Operations per second of `run` over every message, median of REPEATS. */
function rate (run: (message: Uint8Array, index: number) => void): number {
  const perSecond: number[] = []
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const started = performance.now()
    messages.forEach(run)
    perSecond.push(OPERATIONS / ((performance.now() - started) / 1000))
  }
  return summarize(perSecond).median
}

const signature = (index: number): Uint8Array => signatures[index] ?? new Uint8Array(64)
const measured = [
  { operation: 'sign', implementation: 'JavaScript (@noble/curves)', perSecond: rate((message) => { ed25519.sign(message, seed) }) },
  { operation: 'sign', implementation: 'native (node:crypto)', perSecond: rate((message) => { key.sign(message) }) },
  { operation: 'verify', implementation: 'JavaScript (@noble/curves)', perSecond: rate((message, index) => { ed25519.verify(signature(index), message, key.publicKey) }) },
  { operation: 'verify', implementation: 'native (node:crypto)', perSecond: rate((message, index) => { verifyNodeSignature(key.nodeId, message, signature(index)) }) }
]

const rows: Array<Record<string, Cell>> = measured.map((row) => {
  const js = measured.find(other => other.operation === row.operation && other.implementation.startsWith('JavaScript'))
  return {
    operation: row.operation,
    implementation: row.implementation,
    'ops/s': Math.round(row.perSecond),
    'µs each': Number((1e6 / row.perSecond).toFixed(1)),
    'vs JavaScript': js === undefined ? null : `${(row.perSecond / js.perSecond).toFixed(1)}×`
  }
})

const plot: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title: `Ed25519 operations per second (${MESSAGE_BYTES}-byte messages)`,
  width: 480,
  height: 160,
  data: { values: measured },
  mark: 'bar',
  encoding: {
    y: { field: 'operation', type: 'nominal', title: null },
    yOffset: { field: 'implementation', type: 'nominal' },
    x: { field: 'perSecond', type: 'quantitative', title: 'operations per second' },
    color: { field: 'implementation', type: 'nominal', title: null }
  }
}

await writeReport({
  name: 'crypto',
  title: 'Core crypto: Ed25519 sign and verify, JavaScript against native',
  method: `${OPERATIONS} distinct ${MESSAGE_BYTES}-byte messages signed and verified by one key, median rate of ${REPEATS} passes, both implementations in the same process one after the other. The native verify includes what the core does around it (the node id parsed to its key, the key object cached).`,
  columns: ['operation', 'implementation', 'ops/s', 'µs each', 'vs JavaScript'],
  rows,
  targets: [],
  notes: [
    'The core signs and verifies through node:crypto since this comparison; the seeded safety suites of the simulator, mostly signature work, ran about twice as fast with it.'
  ],
  raw: { measured, operations: OPERATIONS, repeats: REPEATS, nodeVersion: process.version },
  quick
}, plot)

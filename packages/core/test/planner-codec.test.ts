// Goal: a plan has exactly one encoding, bounded in size, and anything else is refused with a
// CodecError before it can reach consensus (S2 is decided on these bytes). Method: round trips;
// a 1,000-node plan and the largest plan the limits allow, measured against PLAN_BYTES_MAX; and a
// table of damaged or hand-made encodings (oversized, not CBOR, extra field, broken relations,
// non-canonical key order) that must each be refused.
import { createHash } from 'node:crypto'
import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { encodeCanonical } from '../src/codec.js'
import { CodecError } from '../src/errors.js'
import { nodeIdFromPublicKey } from '../src/identity.js'
import type { NodeId } from '../src/identity.js'
import { Prng } from '../src/prng.js'
import {
  CONTROL_PLANES_MAX, NOTE_CHARS_MAX, NOTES_MAX, PLAN_BYTES_MAX, PLAN_NODES_MAX,
  decodePlan, encodePlan, isListed, planHash, planSummary, roleOf
} from '../src/planner/index.js'
import { SEALED_AGENT_TOKEN_BYTES, SEALED_SERVER_TOKEN_BYTES } from '../src/secrets/index.js'
import type { Plan } from '../src/types.js'
import { EXPECT_MAX } from '../src/token/constants.js'

/** Well-formed ids without the cost of deriving keys: the codec checks the id format only. */
function nodeIds (count: number, seed: number): NodeId[] {
  const prng = new Prng(seed)
  return Array.from({ length: count }, () => nodeIdFromPublicKey(prng.bytes(32)))
}

function makePlan (nodeCount: number, controlPlaneCount: number, extra: Partial<Plan> = {}): Plan {
  const ids = nodeIds(nodeCount, nodeCount)
  const controlPlanes = ids.slice(0, controlPlaneCount)
  const prng = new Prng(7)
  return {
    clusterId: 'c0ffee',
    epoch: 1,
    decidedUnder: { expect: Math.min(nodeCount, EXPECT_MAX), controlPlanes: controlPlaneCount % 2 === 1 ? controlPlaneCount : 1 },
    init: controlPlanes[0] ?? 'missing',
    controlPlanes,
    workers: ids.slice(controlPlaneCount),
    secrets: {
      serverTokenHash: '1'.repeat(64),
      agentTokenHash: '2'.repeat(64),
      serverTokenSealed: Object.fromEntries(controlPlanes.map((nodeId) => [nodeId, prng.bytes(SEALED_SERVER_TOKEN_BYTES)])),
      agentTokenSealed: prng.bytes(SEALED_AGENT_TOKEN_BYTES)
    },
    notes: [],
    ...extra
  }
}

/** The plan's plain value, for hand-made encodings. */
function rawOf (plan: Plan): Record<string, unknown> {
  return { ...plan, secrets: { ...plan.secrets, serverTokenSealed: { ...plan.secrets.serverTokenSealed } } }
}

function expectCodecError (bytes: Uint8Array, code: CodecError['code'], message?: RegExp): void {
  let caught: unknown
  try {
    decodePlan(bytes)
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(CodecError)
  expect((caught as CodecError).code).toBe(code)
  if (message !== undefined) expect((caught as CodecError).message).toMatch(message)
}

describe('plan codec', () => {
  it.each([
    ['a single server', makePlan(1, 1)],
    ['3 + 2 with name and vip', makePlan(5, 3, { name: 'edge', vip: '10.0.0.100', notes: ['a note'] })],
    ['a later epoch whose init is no longer listed', makePlan(4, 3, { epoch: 4, init: nodeIds(1, 999)[0] ?? 'missing' })],
    ['an IPv6 vip', makePlan(3, 3, { vip: 'fd00::100' })]
  ])('round-trips %s, byte for byte', (_title, plan) => {
    const bytes = encodePlan(plan)
    const decoded = decodePlan(bytes)
    expect(decoded).toEqual(plan)
    expect(encodePlan(decoded)).toEqual(bytes)
  })

  it('encodes a plan for 1,000 nodes under 128 KiB', () => {
    const bytes = encodePlan(makePlan(1000, 5, { notes: ['5 control planes wanted'] }))
    expect(bytes.byteLength).toBeLessThan(128 * 1024)
    expect(decodePlan(bytes).workers).toHaveLength(995)
  })

  it('encodes the largest plan the limits allow within PLAN_BYTES_MAX', () => {
    const wide = (chars: number): string => '€'.repeat(chars) // 3 UTF-8 bytes per character
    const plan = makePlan(PLAN_NODES_MAX, CONTROL_PLANES_MAX, {
      clusterId: wide(128),
      name: 'n'.repeat(63),
      vip: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255',
      notes: Array.from({ length: NOTES_MAX }, () => wide(NOTE_CHARS_MAX)),
      epoch: Number.MAX_SAFE_INTEGER
    })
    const bytes = encodePlan(plan)
    expect(bytes.byteLength).toBeLessThanOrEqual(PLAN_BYTES_MAX)
    expect(decodePlan(bytes)).toEqual(plan)
  })

  it('summarises and hashes the encoding', () => {
    const plan = makePlan(5, 3)
    const bytes = encodePlan(plan)
    expect(planSummary(bytes)).toEqual({ epoch: 1, clusterId: 'c0ffee', init: plan.init, controlPlanes: plan.controlPlanes, decidedUnder: { expect: 5, controlPlanes: 3 }, members: [...plan.controlPlanes, ...plan.workers] })
    expect(planHash(plan)).toBe(createHash('sha256').update(bytes).digest('hex'))
    expect(planHash({ ...plan, epoch: 2 })).not.toBe(planHash(plan))
  })

  const good = makePlan(5, 3)
  const [first, second, third, fourth] = [...good.controlPlanes, ...good.workers] as [NodeId, NodeId, NodeId, NodeId]
  it.each<[string, Uint8Array, CodecError['code'], RegExp?]>([
    ['bytes over the limit', new Uint8Array(PLAN_BYTES_MAX + 1), 'CODEC_OVERSIZED'],
    ['bytes that are not CBOR', Uint8Array.of(0xff, 0x00), 'CODEC_MALFORMED'],
    ['a field the schema does not know', encodeCanonical({ ...rawOf(good), extra: 1 }), 'CODEC_INVALID'],
    ['a missing field', encodeCanonical(Object.fromEntries(Object.entries(rawOf(good)).filter(([key]) => key !== 'notes'))), 'CODEC_INVALID', /notes/],
    ['an even control-plane count', encodeCanonical(rawOf({ ...good, controlPlanes: [first, second], workers: [third, fourth], secrets: { ...good.secrets, serverTokenSealed: { [first]: new Uint8Array(SEALED_SERVER_TOKEN_BYTES), [second]: new Uint8Array(SEALED_SERVER_TOKEN_BYTES) } } })), 'CODEC_INVALID', /odd/],
    ['an epoch-1 init that is not the first control plane', encodeCanonical(rawOf({ ...good, init: second })), 'CODEC_INVALID', /init/],
    ['a node listed twice', encodeCanonical(rawOf({ ...good, workers: [first, fourth] })), 'CODEC_INVALID', /twice/],
    ['the server token sealed to a worker', encodeCanonical(rawOf({ ...good, secrets: { ...good.secrets, serverTokenSealed: { ...good.secrets.serverTokenSealed, [fourth]: new Uint8Array(SEALED_SERVER_TOKEN_BYTES) } } })), 'CODEC_INVALID', /sealed to exactly/],
    ['a box of the wrong size', encodeCanonical(rawOf({ ...good, secrets: { ...good.secrets, agentTokenSealed: new Uint8Array(3) } })), 'CODEC_INVALID'],
    ['a node id that is not one', encodeCanonical(rawOf({ ...good, workers: ['12D3KooWnope'] })), 'CODEC_INVALID'],
    ['epoch 0', encodeCanonical(rawOf({ ...good, epoch: 0 })), 'CODEC_INVALID'],
    ['map keys out of canonical order', encode(rawOf(good), { mapSorter: (left: unknown, right: unknown) => -compareKeys(left, right) }), 'CODEC_INVALID', /canonical/]
  ])('refuses %s', (_title, bytes, code, message) => {
    expectCodecError(bytes, code, message)
  })
})

/** Reverses cborg's own map order (length first, then bytes), to make a non-canonical encoding. */
function compareKeys (left: unknown, right: unknown): number {
  const text = (entry: unknown): string => String((entry as Array<{ value: unknown }>)[0]?.value)
  const [a, b] = [text(left), text(right)]
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
}

describe('roleOf', () => {
  const plan = makePlan(5, 3)
  const stranger = nodeIds(1, 4242)[0] ?? 'missing'
  it.each<[string, Plan | null, NodeId, 'control-plane' | 'worker' | null, boolean | null]>([
    ['no plan yet', null, plan.init, null, null],
    ['the init node', plan, plan.init, 'control-plane', true],
    ['another control plane', plan, plan.controlPlanes[2] ?? 'missing', 'control-plane', true],
    ['a listed worker', plan, plan.workers[0] ?? 'missing', 'worker', true],
    ['a node the plan does not list: a worker-to-be', plan, stranger, 'worker', false]
  ])('%s', (_title, target, nodeId, role, listed) => {
    expect(roleOf(target, nodeId)).toBe(role)
    if (target !== null) expect(isListed(target, nodeId)).toBe(listed)
  })
})

// Goal: the record log gives back exactly what was appended, in order; refuses what it could not
// give back; cuts off an unfinished last write; and tells damage mid-file apart from a torn tail.
// Method: real files in a fresh temporary dir per test for appends and loads; `scanFrames` on
// hand-made bytes for the damage rules (torn header, torn payload, zero tail, flipped bytes, a
// damaged length that runs past the end, a valid-checksum payload that is not a plain record).
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { encode } from 'cborg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { PersistRecord } from '@p2p-bootstrap/core'
import { StateDirError } from '../src/state/errors.js'
import { RECORD_BYTES_MAX, RECORD_DEPTH_MAX } from '../src/state/limits.js'
import { encodeFrames, loadRecordLog, RecordLog, scanFrames } from '../src/state/record-log.js'

let dir: string
let path: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2pb-record-log-'))
  path = join(dir, 'test.log')
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A record literal: PersistRecord declares only `kind`; the other fields are the module's. */
const rec = (fields: { readonly kind: string, readonly [field: string]: unknown }): PersistRecord => fields

const view = new Uint8Array([9, 8, 7, 6, 5, 4]).subarray(2, 5)

/** A record with every kind of value a record may hold. */
const zoo = rec({
  kind: 'acceptor',
  integers: [0, 1, -1, 23, 24, 255, 256, 65_536, 2 ** 32, -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
  fractions: [0.1, -2.5, 1 / 3, 1e300, 5e-324, 3.4e38],
  strings: ['', 'plain', 'ünïcødé ✓ 🚀', 'a'.repeat(1000)],
  flags: { yes: true, no: false, nothing: null },
  bytes: { empty: new Uint8Array(0), some: new Uint8Array([0, 1, 254, 255]), view },
  nested: { a: { b: { c: [[1, [2, [3]]], { d: null }] } } },
  empty: { object: {}, array: [] }
})

function frame (payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(8 + payload.byteLength)
  const header = new DataView(bytes.buffer)
  header.setUint32(0, payload.byteLength)
  header.setUint32(4, crc32(payload))
  bytes.set(payload, 8)
  return bytes
}

function concat (...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

const records = (count: number): PersistRecord[] =>
  Array.from({ length: count }, (_, index) => rec({ kind: 'acceptor', index, value: new Uint8Array([index, index + 1]) }))

async function appendFailure (log: RecordLog, batch: readonly PersistRecord[]): Promise<StateDirError> {
  const failure = await log.append(batch, { sync: true }).then(() => undefined, (err: unknown) => err)
  expect(failure).toBeInstanceOf(StateDirError)
  return failure as StateDirError
}

describe('record log: exact round trip', () => {
  it('gives back deep-equal plain records, Uint8Arrays included', async () => {
    const log = await RecordLog.open(path)
    await log.append([zoo, rec({ kind: 'node/boot', count: 1 })], { sync: true })
    await log.close()
    const loaded = await loadRecordLog(path)
    expect(loaded.cut).toBeNull()
    expect(loaded.corrupt).toBeNull()
    expect(loaded.records).toEqual([zoo, rec({ kind: 'node/boot', count: 1 })])
    const [first] = loaded.records
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype)
    const bytes = (first as unknown as { bytes: Record<string, unknown> }).bytes
    expect(bytes.view).toBeInstanceOf(Uint8Array)
    expect(bytes.view).toEqual(new Uint8Array([7, 6, 5]))
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('keeps appends in call order when many are in flight at once', async () => {
    const log = await RecordLog.open(path)
    const all = records(50)
    await Promise.all(all.map(async (record, index) => { await log.append([record], { sync: index % 7 === 0 }) }))
    await log.close()
    expect((await loadRecordLog(path)).records).toEqual(all)
  })

  it('reads a missing file as an empty log', async () => {
    expect(await loadRecordLog(join(dir, 'absent.log'))).toEqual({ records: [], cut: null, corrupt: null })
  })
})

describe('record log: what it refuses to store', () => {
  class Ballot { round = 1 }
  const unstorable: Array<[string, unknown]> = [
    ['a Map', new Map([['a', 1]])],
    ['a class instance', new Ballot()],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a bigint', 10n],
    ['undefined in an array', [1, undefined]],
    ['a Uint16Array', new Uint16Array([1])],
    ['a function', () => 1],
    ['deep nesting', Array.from({ length: RECORD_DEPTH_MAX + 2 }).reduce<unknown>((inner) => [inner], 1)]
  ]

  for (const [name, value] of unstorable) {
    it(`refuses ${name} and writes nothing`, async () => {
      const log = await RecordLog.open(path)
      const failure = await appendFailure(log, [{ kind: 'acceptor' }, { kind: 'acceptor', value } as PersistRecord])
      expect(failure.code).toBe('STATE_RECORD_INVALID')
      expect(failure.path).toBe(path)
      // Not poisoned: the refusal wrote nothing, so later appends go on.
      await log.append([rec({ kind: 'node/boot', count: 1 })], { sync: true })
      await log.close()
      expect((await loadRecordLog(path)).records).toEqual([rec({ kind: 'node/boot', count: 1 })])
    })
  }

  it('refuses an own __proto__ key, which could not be read back as written', async () => {
    const record = JSON.parse('{"kind":"acceptor","__proto__":{"x":1}}') as PersistRecord
    expect(() => encodeFrames(path, [record])).toThrow(/__proto__/)
  })

  it('refuses a record without a string kind', () => {
    expect(() => encodeFrames(path, [{ count: 1 } as unknown as PersistRecord])).toThrow(/kind/)
  })

  it('refuses a record over the size limit, naming the limit, and writes nothing', async () => {
    const log = await RecordLog.open(path)
    const huge = { kind: 'ledger/entry', entry: new Uint8Array(RECORD_BYTES_MAX) }
    const failure = await appendFailure(log, [{ kind: 'acceptor' }, huge])
    expect(failure.code).toBe('STATE_RECORD_INVALID')
    expect(failure.message).toContain(String(RECORD_BYTES_MAX))
    await log.close()
    expect((await stat(path)).size).toBe(0)
  })

  it('drops undefined object properties, as JSON does', async () => {
    const log = await RecordLog.open(path)
    await log.append([{ kind: 'acceptor', kept: 1, dropped: undefined } as PersistRecord], { sync: false })
    await log.close()
    const [record] = (await loadRecordLog(path)).records
    expect(Object.keys(record ?? {}).sort()).toEqual(['kept', 'kind'])
  })
})

describe('record log: damage', () => {
  const good = encodeFrames('mem', records(3))
  const firstFrameBytes = 8 + new DataView(good.buffer).getUint32(0)

  it('reads good frames to the end', () => {
    expect(scanFrames(good)).toEqual({ records: records(3), validBytes: good.byteLength, torn: null, corrupt: null })
  })

  it('calls a partial header at the end torn', () => {
    const scanned = scanFrames(concat(good, new Uint8Array([0, 0, 1])))
    expect(scanned.records).toEqual(records(3))
    expect(scanned.torn).toMatchObject({ offset: good.byteLength })
    expect(scanned.corrupt).toBeNull()
  })

  it('calls a payload shorter than its header says torn, when nothing valid follows', () => {
    const next = encodeFrames('mem', [rec({ kind: 'acceptor', text: 'x'.repeat(100) })])
    const scanned = scanFrames(concat(good, next.subarray(0, 60)))
    expect(scanned.records).toEqual(records(3))
    expect(scanned.validBytes).toBe(good.byteLength)
    expect(scanned.torn).not.toBeNull()
    expect(scanned.corrupt).toBeNull()
  })

  it('calls a tail of zeros torn (a file extended by a crash but never written)', () => {
    const scanned = scanFrames(concat(good, new Uint8Array(4096)))
    expect(scanned.records).toEqual(records(3))
    expect(scanned.torn).not.toBeNull()
    expect(scanned.corrupt).toBeNull()
  })

  it('calls a flipped payload byte mid-file corrupt and keeps the frames before it', () => {
    const damaged = new Uint8Array(good)
    damaged[firstFrameBytes + 10] = (damaged[firstFrameBytes + 10] ?? 0) ^ 0x01
    const scanned = scanFrames(damaged)
    expect(scanned.records).toEqual(records(1))
    expect(scanned.corrupt).toMatchObject({ offset: firstFrameBytes, problem: expect.stringContaining('checksum') as unknown })
    expect(scanned.torn).toBeNull()
  })

  it('calls a length that grew past the end corrupt when good frames follow it', () => {
    const damaged = new Uint8Array(good)
    damaged[firstFrameBytes + 1] = 0x10 // the length's second byte: now about a megabyte, past the end
    const scanned = scanFrames(damaged)
    expect(scanned.records).toEqual(records(1))
    expect(scanned.corrupt).toMatchObject({ offset: firstFrameBytes })
    expect(scanned.torn).toBeNull()
  })

  it('calls a length over the limit corrupt', () => {
    const damaged = new Uint8Array(good)
    damaged[firstFrameBytes] = 0xff
    const scanned = scanFrames(damaged)
    expect(scanned.corrupt?.problem).toContain('over the limit')
  })

  it('calls a payload with a good checksum that is not a plain record corrupt', () => {
    const notCbor = frame(new Uint8Array([0xff, 0xfe]))
    expect(scanFrames(concat(good, notCbor, good)).corrupt?.problem).toContain('CBOR')
    const polluted = frame(encode({ kind: 'acceptor', ['__proto__']: { x: 1 } }))
    const scanned = scanFrames(concat(good, polluted))
    expect(scanned.records).toEqual(records(3))
    expect(scanned.corrupt?.problem).toContain('not a plain object')
  })

  it('cuts a torn tail off the file and says so; leaves a corrupt file byte for byte', async () => {
    await writeFile(path, concat(good, good.subarray(0, firstFrameBytes - 3)))
    const loaded = await loadRecordLog(path)
    expect(loaded.records).toEqual(records(3))
    expect(loaded.cut).toContain(`at byte ${good.byteLength}`)
    expect(new Uint8Array(await readFile(path))).toEqual(good)

    const damaged = new Uint8Array(good)
    damaged[firstFrameBytes + 12] = (damaged[firstFrameBytes + 12] ?? 0) ^ 0x80
    await writeFile(path, damaged)
    const corrupt = await loadRecordLog(path)
    expect(corrupt.corrupt).not.toBeNull()
    expect(corrupt.cut).toBeNull()
    expect(new Uint8Array(await readFile(path))).toEqual(damaged)
  })

  it('appends after a cut tail land where the good frames end', async () => {
    await writeFile(path, concat(good, new Uint8Array([0, 0, 0, 40, 1])))
    await loadRecordLog(path)
    const log = await RecordLog.open(path)
    await log.append([rec({ kind: 'node/boot', count: 2 })], { sync: true })
    await log.close()
    const loaded = await loadRecordLog(path)
    expect(loaded.corrupt).toBeNull()
    expect(loaded.records).toEqual([...records(3), rec({ kind: 'node/boot', count: 2 })])
  })
})

describe('record log: rewrite', () => {
  it('replaces the content atomically and keeps appending to the new file', async () => {
    const log = await RecordLog.open(path)
    await log.append(records(5), { sync: true })
    await log.rewrite(records(2))
    await log.append([rec({ kind: 'node/boot', count: 9 })], { sync: true })
    await log.close()
    expect((await loadRecordLog(path)).records).toEqual([...records(2), rec({ kind: 'node/boot', count: 9 })])
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })
})

describe.skipIf(!existsSync('/dev/full'))('record log: a failed write', () => {
  it('is STATE_WRITE_FAILED naming the file, and every later write is refused', async () => {
    // /dev/full accepts the open and fails every write with ENOSPC, like a full disk.
    const log = await RecordLog.open('/dev/full')
    const failure = await appendFailure(log, records(1))
    expect(failure).toMatchObject({ code: 'STATE_WRITE_FAILED', path: '/dev/full' })
    expect(failure.message).toContain('ENOSPC')
    const refused = await appendFailure(log, records(1))
    expect(refused.code).toBe('STATE_WRITE_FAILED')
    expect(refused.message).toContain('earlier failure')
    await log.close()
  })
})

// Goal: the state dir keeps what a node voted across restarts (S6), cuts only what was never
// synced, never touches a damaged consensus.log, repairs a damaged ledger.log without deleting
// anything, admits one agent at a time, and keeps its files private.
// Method: a fresh temporary dir per test (removed afterwards). Real records come from a real core
// node (one node, expect 1, so it boots, votes and commits a plan); damage is made by flipping a
// byte inside a known frame; the stale lock holds the pid of a child process that has exited.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCoreNode, deriveKeys, generateToken, nodeKeyFromSeed, Prng, testProfile } from '@p2p-bootstrap/core'
import type { CoreNode, CoreNodeInit, PersistBatch, PersistRecord } from '@p2p-bootstrap/core'
import { StateDirError } from '../src/state/errors.js'
import { RECORD_BYTES_MAX } from '../src/state/limits.js'
import { loadRecordLog } from '../src/state/record-log.js'
import { openStateDir } from '../src/state/state-dir.js'
import type { StateDir } from '../src/state/state-dir.js'

let parent: string
let dir: string
const opened: StateDir[] = []

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'p2pb-state-'))
  dir = join(parent, 'state')
})

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map(async (state) => { await state.close() }))
  await rm(parent, { recursive: true, force: true })
})

async function open (path = dir): Promise<StateDir> {
  const state = await openStateDir(path)
  opened.push(state)
  return state
}

async function failure (promise: Promise<unknown>): Promise<StateDirError> {
  const err = await promise.then(() => undefined, (error: unknown) => error)
  expect(err).toBeInstanceOf(StateDirError)
  return err as StateDirError
}

/** A record literal: PersistRecord declares only `kind`; the other fields are the module's. */
const rec = (fields: { readonly kind: string, readonly [field: string]: unknown }): PersistRecord => fields
const acceptor = (round: number): PersistRecord => rec({ kind: 'acceptor', state: { epoch: 1, promised: { round, proposer: 'n1' }, accepted: null } })
const entry = (index: number): PersistRecord => rec({ kind: 'ledger/entry', entry: new Uint8Array([index, 1, 2, 3, index]) })

/** Byte offsets of the frames in a log file. */
function frameOffsets (bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const offsets: number[] = []
  for (let offset = 0; offset + 8 <= bytes.byteLength; offset += 8 + view.getUint32(offset)) offsets.push(offset)
  return offsets
}

/** Flips one payload byte of frame `index` and returns the frame's offset. */
async function flipByteInFrame (path: string, index: number): Promise<number> {
  const bytes = new Uint8Array(await readFile(path))
  const offset = frameOffsets(bytes)[index]
  if (offset === undefined) throw new Error(`${path} has no frame ${index}`)
  bytes[offset + 9] = (bytes[offset + 9] ?? 0) ^ 0x20
  await writeFile(path, bytes)
  return offset
}

function coreInit (restored: readonly PersistRecord[], seed: Uint8Array, sealingKey: Uint8Array, clusterId: string): CoreNodeInit {
  return {
    key: nodeKeyFromSeed(seed),
    clusterId,
    sealingKey,
    shape: { expect: 1, controlPlanes: 1 },
    facts: { labels: { zone: 'a' }, hostname: 'node-a', nodeIp: '127.0.0.1' },
    profile: testProfile(),
    prng: new Prng(11),
    entropy: (length) => new Uint8Array(randomBytes(length)),
    restored,
    nowMs: 1_700_000_000_000
  }
}

/** Runs a node until it has committed, persisting each batch before acting on it, as the agent does. */
async function runUntilCommitted (node: CoreNode, state: StateDir, nowMs: number): Promise<PersistBatch[]> {
  const batches: PersistBatch[] = []
  for (let step = 0; step < 500; step++) {
    const ready = node.ready()
    if (ready.persist.records.length > 0) {
      await state.append(ready.persist)
      batches.push(ready.persist)
    }
    node.advance(ready)
    // The ready handed out after the commit is persisted too; then stop.
    if (node.status().phase === 'committed' && ready.persist.records.length === 0) break
    node.tick(nowMs + step * 100)
  }
  expect(node.status().phase).toBe('committed')
  return batches
}

describe('state dir: records across restarts', () => {
  it('gives back a real node\'s records, deep-equal, and the node restarts from them', async () => {
    const keys = deriveKeys(generateToken())
    const seed = new Uint8Array(randomBytes(32))
    const init = coreInit([], seed, keys.sealingKey, keys.clusterId)
    const state = await open()
    expect((await state.load()).records).toEqual([])
    const node = createCoreNode(init)
    const batches = await runUntilCommitted(node, state, init.nowMs)
    const written = batches.flatMap((batch) => batch.records)
    const kinds = new Set(written.map((record) => record.kind))
    expect(kinds).toEqual(new Set(['node/boot', 'acceptor', 'ledger/entry']))
    await state.close()

    const reopened = await open()
    const loaded = await reopened.load()
    expect(loaded.notices).toEqual([])
    const consensus = written.filter((record) => record.kind !== 'ledger/entry')
    const ledger = written.filter((record) => record.kind === 'ledger/entry')
    expect(loaded.records).toEqual([...consensus, ...ledger])
    expect(loaded.records.find((record) => record.kind === 'ledger/entry')).toMatchObject({ entry: expect.any(Uint8Array) as unknown })

    // The restarted node holds the plan it committed and counts its second boot.
    const restarted = createCoreNode(coreInit(loaded.records, seed, keys.sealingKey, keys.clusterId))
    expect(restarted.status().phase).toBe('committed')
    expect(restarted.ready().persist.records[0]).toEqual({ kind: 'node/boot', count: 2 })
  })

  it('routes records to their logs: ledger entries to ledger.log, everything else to consensus.log', async () => {
    const state = await open()
    await state.load()
    await state.append({ records: [rec({ kind: 'node/boot', count: 1 }), entry(1), acceptor(1), entry(2)], sync: true })
    await state.close()
    expect((await loadRecordLog(join(dir, 'consensus.log'))).records).toEqual([rec({ kind: 'node/boot', count: 1 }), acceptor(1)])
    expect((await loadRecordLog(join(dir, 'ledger.log'))).records).toEqual([entry(1), entry(2)])
    expect((await stat(join(dir, 'consensus.log'))).mode & 0o777).toBe(0o600)
  })

  it('keeps synced records across close and reopen, in order', async () => {
    const state = await open()
    await state.load()
    for (let round = 1; round <= 20; round++) await state.append({ records: [acceptor(round), entry(round)], sync: true })
    await state.close()
    const loaded = await (await open()).load()
    const rounds = Array.from({ length: 20 }, (_, index) => index + 1)
    expect(loaded.records).toEqual([...rounds.map(acceptor), ...rounds.map(entry)])
  })

  it('refuses an oversized record with a clear error and writes nothing of its batch', async () => {
    const state = await open()
    await state.load()
    const huge = rec({ kind: 'ledger/entry', entry: new Uint8Array(RECORD_BYTES_MAX + 1) })
    const refused = await failure(state.append({ records: [acceptor(1), huge], sync: true }))
    expect(refused.code).toBe('STATE_RECORD_INVALID')
    expect(refused.message).toContain('over the limit')
    expect(refused.path).toBe(join(dir, 'ledger.log'))
    expect((await stat(join(dir, 'consensus.log'))).size).toBe(0)
    expect((await stat(join(dir, 'ledger.log'))).size).toBe(0)
  })

  it('compacts ledger.log to the given entries and never touches consensus.log', async () => {
    const state = await open()
    await state.load()
    await state.append({ records: [acceptor(1), entry(1), entry(2), entry(3), entry(4)], sync: true })
    const consensusBefore = await readFile(join(dir, 'consensus.log'))
    await state.compact([entry(2), entry(4)])
    await state.append({ records: [entry(5)], sync: true })
    await state.close()
    expect(await readFile(join(dir, 'consensus.log'))).toEqual(consensusBefore)
    expect((await (await open()).load()).records).toEqual([acceptor(1), entry(2), entry(4), entry(5)])
  })

  it('keeps the log as it was aside before compacting when the restore refused entries (S8)', async () => {
    const state = await open()
    await state.load()
    await state.append({ records: [entry(1), entry(2), entry(3)], sync: true })
    const before = await readFile(join(dir, 'ledger.log'))
    const notice = await state.compact([entry(2)], { keepAsideBecause: 'the restore refused 2 ledger entries (first: plan/1 …)' })
    expect(notice?.path).toBe(join(dir, 'ledger.log.rejected-1'))
    expect(notice?.message).toMatch(/^the restore refused 2 ledger entries .*kept at .*ledger\.log\.rejected-1 \(nothing was deleted\)/)
    expect(await readFile(join(dir, 'ledger.log.rejected-1'))).toEqual(before)
    expect((await stat(join(dir, 'ledger.log.rejected-1'))).mode & 0o777).toBe(0o600)
    // A second time gets its own copy; a compaction with nothing refused keeps none.
    expect((await state.compact([entry(2)], { keepAsideBecause: 'again' }))?.path).toBe(join(dir, 'ledger.log.rejected-2'))
    expect(await state.compact([entry(2)])).toBeNull()
    expect((await readdir(dir)).filter((name) => name.startsWith('ledger.log.rejected-')).sort()).toEqual(['ledger.log.rejected-1', 'ledger.log.rejected-2'])
    await expect(state.writeFile('ledger.log.rejected-3', 'x')).rejects.toThrow(/kept by the state dir itself/)
  })
})

describe('state dir: damage', () => {
  it('cuts a torn tail off consensus.log with a notice and keeps the records before it', async () => {
    const state = await open()
    await state.load()
    await state.append({ records: [acceptor(1), acceptor(2)], sync: true })
    await state.close()
    const path = join(dir, 'consensus.log')
    const good = await readFile(path)
    await writeFile(path, Buffer.concat([good, good.subarray(0, 12)]))
    const loaded = await (await open()).load()
    expect(loaded.records).toEqual([acceptor(1), acceptor(2)])
    expect(loaded.notices).toHaveLength(1)
    expect(loaded.notices[0]?.path).toBe(path)
    expect(loaded.notices[0]?.message).toContain('unfinished write')
    expect(await readFile(path)).toEqual(good)
  })

  it('moves a damaged ledger.log aside, keeps the entries before the damage, and says so', async () => {
    const state = await open()
    await state.load()
    await state.append({ records: [acceptor(1), entry(1), entry(2), entry(3)], sync: true })
    await state.close()
    const path = join(dir, 'ledger.log')
    const offset = await flipByteInFrame(path, 1)
    const damaged = await readFile(path)

    const reopened = await open()
    const loaded = await reopened.load()
    expect(loaded.records).toEqual([acceptor(1), entry(1)])
    const asidePath = `${path}.corrupt-1`
    expect(await readFile(asidePath)).toEqual(damaged)
    expect(loaded.notices).toHaveLength(1)
    expect(loaded.notices[0]?.path).toBe(asidePath)
    expect(loaded.notices[0]?.message).toContain(asidePath)
    expect(loaded.notices[0]?.message).toContain(`byte ${offset}`)
    expect(loaded.notices[0]?.message).toContain('fetched again from peers')

    // The rewritten log is clean and takes appends; a second damage gets the next free name.
    await reopened.append({ records: [entry(9)], sync: true })
    await reopened.close()
    await flipByteInFrame(path, 0)
    const again = await (await open()).load()
    expect(again.records).toEqual([acceptor(1)])
    expect(again.notices[0]?.path).toBe(`${path}.corrupt-2`)
    expect((await readdir(dir)).filter((name) => name.startsWith('ledger.log')).sort())
      .toEqual(['ledger.log', 'ledger.log.corrupt-1', 'ledger.log.corrupt-2'])
  })

  it('refuses a damaged consensus.log with STATE_VOTES_CORRUPT and leaves it byte for byte', async () => {
    const state = await open()
    await state.load()
    await state.append({ records: [acceptor(1), acceptor(2), acceptor(3), entry(1)], sync: true })
    await state.close()
    const path = join(dir, 'consensus.log')
    const offset = await flipByteInFrame(path, 1)
    const damaged = await readFile(path)
    const ledgerBefore = await readFile(join(dir, 'ledger.log'))

    const refused = await failure((await open()).load())
    expect(refused.code).toBe('STATE_VOTES_CORRUPT')
    expect(refused.path).toBe(path)
    expect(refused.message).toContain(path)
    expect(refused.message).toContain(`byte ${offset}`)
    expect(refused.message).toContain('vote twice')
    expect(refused.message).toContain('p2p-bootstrap status')
    expect(await readFile(path)).toEqual(damaged)
    expect(await readFile(join(dir, 'ledger.log'))).toEqual(ledgerBefore)
    expect((await readdir(dir)).filter((name) => name.startsWith('consensus.log'))).toEqual(['consensus.log'])
  })
})

describe('state dir: lock', () => {
  it('refuses a second open while the first is open, and allows it after close', async () => {
    const first = await open()
    const lockPath = join(dir, 'agent.lock')
    expect((await readFile(lockPath, 'utf8')).split('\n')[0]).toBe(String(process.pid))
    const refused = await failure(openStateDir(dir))
    expect(refused.code).toBe('STATE_LOCKED')
    expect(refused.path).toBe(lockPath)
    expect(refused.message).toContain('--state-dir')
    await first.close()
    await first.close()
    await expect(stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' })
    await open()
  })

  it('takes over the lock of a process that has exited', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await once(child, 'exit')
    expect(child.pid).toBeTypeOf('number')
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await writeFile(join(dir, 'agent.lock'), `${child.pid}\n`)
    await open()
    expect((await readFile(join(dir, 'agent.lock'), 'utf8')).split('\n')[0]).toBe(String(process.pid))
  })

  it('refuses the lock of a live process of this boot, naming its pid; takes it over from an earlier boot', async () => {
    const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim()
    await mkdir(dir, { recursive: true, mode: 0o700 })
    // pid 1 always exists.
    await writeFile(join(dir, 'agent.lock'), `1\n${bootId}\nnonce\n`)
    const refused = await failure(openStateDir(dir))
    expect(refused.code).toBe('STATE_LOCKED')
    expect(refused.message).toContain('process 1')
    if (bootId === '') return
    await writeFile(join(dir, 'agent.lock'), '1\nsome-earlier-boot\nnonce\n')
    await open()
  })

  it('takes over a lock with our own pid that this process does not hold (an agent restarted as the same pid)', async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    // In a container the agent is pid 1 on every start: its old lock names our pid.
    await writeFile(join(dir, 'agent.lock'), `${process.pid}\n\nnonce-of-an-earlier-run\n`)
    await open()
    expect(await readFile(join(dir, 'agent.lock'), 'utf8')).not.toContain('nonce-of-an-earlier-run')
  })

  it('takes over an unreadable lock, and close leaves a lock that is no longer ours', async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await writeFile(join(dir, 'agent.lock'), 'not a pid')
    const state = await open()
    await writeFile(join(dir, 'agent.lock'), '1\nother\nnonce\n')
    await state.close()
    expect(await readFile(join(dir, 'agent.lock'), 'utf8')).toBe('1\nother\nnonce\n')
  })
})

describe('state dir: the directory', () => {
  it('creates a missing dir (and its parents) with mode 0700', async () => {
    const nested = join(parent, 'a', 'b', 'state')
    const state = await open(nested)
    expect(state.path).toBe(nested)
    expect((await stat(nested)).mode & 0o777).toBe(0o700)
    expect((await state.load()).notices).toEqual([])
  })

  it('tightens a dir open to others to 0700, with a notice', async () => {
    await mkdir(dir)
    await chmod(dir, 0o755)
    const state = await open()
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    const { notices } = await state.load()
    expect(notices).toHaveLength(1)
    expect(notices[0]).toMatchObject({ path: dir, message: expect.stringContaining('0755') as unknown })
  })

  it('refuses a path that is a regular file with STATE_DIR_UNUSABLE, naming the path and the fix', async () => {
    await writeFile(dir, 'not a dir')
    const refused = await failure(openStateDir(dir))
    expect(refused.code).toBe('STATE_DIR_UNUSABLE')
    expect(refused.path).toBe(dir)
    expect(refused.message).toContain(dir)
    expect(refused.message).toContain('--state-dir')
    const below = await failure(openStateDir(join(dir, 'state')))
    expect(below.code).toBe('STATE_DIR_UNUSABLE')
  })

  it('loads or creates the identity in the dir', async () => {
    const state = await open()
    const first = await state.identity()
    expect(first.created).toBe(true)
    expect((await stat(join(dir, 'identity.key'))).mode & 0o777).toBe(0o600)
    expect((await state.identity()).peerId).toBe(first.peerId)
  })
})

describe('state dir: files', () => {
  it('writes a file atomically, mode 0600, and names files inside the dir', async () => {
    const state = await open()
    await state.writeFile('plan.json', '{"epoch":1}')
    expect(await readFile(state.file('plan.json'), 'utf8')).toBe('{"epoch":1}')
    expect(state.file('plan.json')).toBe(join(dir, 'plan.json'))
    expect((await stat(join(dir, 'plan.json'))).mode & 0o777).toBe(0o600)
    await state.writeFile('token', new Uint8Array([1, 2]), 0o400)
    expect((await stat(join(dir, 'token'))).mode & 0o777).toBe(0o400)
  })

  it('refuses names that are not plain file names, and the names the dir keeps for itself', async () => {
    const state = await open()
    for (const name of ['', '.', '..', '../escape', 'a/b', '/etc/passwd', '.hidden', 'nul\0byte', 'x'.repeat(256)]) {
      expect(() => state.file(name), name).toThrow(StateDirError)
      const refused = await failure(state.writeFile(name, 'x'))
      expect(refused.code, name).toBe('STATE_BAD_NAME')
    }
    for (const name of ['consensus.log', 'ledger.log', 'agent.lock', 'identity.key', 'ledger.log.corrupt-1']) {
      expect((await failure(state.writeFile(name, 'x'))).code, name).toBe('STATE_BAD_NAME')
    }
    expect(await readdir(dir)).toEqual(['agent.lock'])
  })
})

import { lstat, readFile, rename } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { assert, LEDGER_ENTRY_RECORD } from '@p2p-bootstrap/core'
import type { PersistBatch, PersistRecord } from '@p2p-bootstrap/core'
import { loadOrCreateIdentity } from '@p2p-bootstrap/overlay'
import type { LoadedIdentity } from '@p2p-bootstrap/overlay'
import { writeFileAtomic } from './atomic-write.js'
import { prepareStateDirectory } from './directory.js'
import type { StateNotice } from './directory.js'
import { errnoCode, StateDirError } from './errors.js'
import {
  CONSENSUS_LOG_NAME, CORRUPT_COPIES_MAX, FILE_NAME_BYTES_MAX, IDENTITY_FILE_NAME, LEDGER_LOG_NAME, LOCK_FILE_NAME,
  STATE_FILE_MODE
} from './limits.js'
import { acquireLock, releaseLock } from './lock.js'
import type { StateLock } from './lock.js'
import { encodeFrames, loadRecordLog, RecordLog, writeRecordLog } from './record-log.js'
import type { LoadedLog, LogDamage } from './record-log.js'

/** What a previous run left: the records to hand to the core as `restored`, and what was repaired. */
export interface LoadedState {
  /** consensus.log's records in order, then ledger.log's in order. */
  readonly records: PersistRecord[]
  readonly notices: StateNotice[]
}

export interface StateDirOptions {
  readonly signal?: AbortSignal
}

export interface CompactOptions extends StateDirOptions {
  /** Why the log as it was must be kept: the restore refused some of its entries. */
  readonly keepAsideBecause?: string
}

/**
 * The agent's durable state, one directory (0700) owned by one agent at a time:
 *
 *   agent.lock      the owner's pid; a second agent on the same dir is refused
 *   identity.key    the node's libp2p identity (written by @p2p-bootstrap/overlay)
 *   consensus.log   every record that is not a ledger entry: promises, accepts, the boot count.
 *                   Never lost, never compacted, never repaired by guessing (S1, S2)
 *   ledger.log      ledger entries: peers hold them too, so damage is cut out and refetched
 *
 * Use: `openStateDir`, then `load()` once and hand its records to the core as `restored`, then
 * `append(ready.persist)` before sending `ready.send` (S6), and `close()` at the end.
 */
export interface StateDir {
  /** The dir, as an absolute path. */
  readonly path: string
  /** The absolute path of a file inside the dir; 'STATE_BAD_NAME' unless `name` is a plain file name. */
  file: (name: string) => string
  /** Loads this node's identity from identity.key, creating it on first start. */
  identity: (options?: StateDirOptions) => Promise<LoadedIdentity>
  /**
   * Reads both logs, once. A torn tail (a write a crash interrupted) is cut off; damage inside
   * ledger.log is moved aside and the entries before it kept; damage inside consensus.log is
   * 'STATE_VOTES_CORRUPT' and the file is left untouched. Notices say what was done.
   */
  load: (options?: StateDirOptions) => Promise<LoadedState>
  /**
   * Appends a batch, each record to its log in order; with `batch.sync` everything is fsynced
   * before this resolves. A rejection ('STATE_WRITE_FAILED', 'STATE_RECORD_INVALID') is fatal: the
   * node must not send what this batch was to make durable. Only after `load()`.
   */
  append: (batch: PersistBatch) => Promise<void>
  /**
   * Rewrites ledger.log atomically to exactly `records` (all of kind 'ledger/entry', e.g. the
   * replica's live entries at start), so the log does not grow forever. consensus.log is never
   * compacted. With `keepAsideBecause` (the restore refused some entries), the log as it was is
   * first copied to ledger.log.rejected-<n>, so nothing is dropped silently (S8), and the notice
   * returned says where and why. Only after `load()`.
   */
  compact: (records: readonly PersistRecord[], options?: CompactOptions) => Promise<StateNotice | null>
  /** Atomically writes a file of the dir (temp file, fsync, rename), mode 0600 unless given. */
  writeFile: (name: string, data: Uint8Array | string, mode?: number) => Promise<void>
  /** Waits for pending writes, closes the logs and removes the lock; idempotent. */
  close: () => Promise<void>
}

/**
 * Opens (creating if missing) the state dir at `dir`: tightens its mode to 0700, takes its lock.
 * Throws 'STATE_DIR_UNUSABLE' for a path that is not a writable directory and 'STATE_LOCKED'
 * while another agent holds it. Notices about the dir itself come with `load()`'s.
 */
export async function openStateDir (dir: string, options: StateDirOptions = {}): Promise<StateDir> {
  const { signal } = options
  signal?.throwIfAborted()
  const path = resolve(dir)
  const notices = await prepareStateDirectory(path)
  signal?.throwIfAborted()
  const lock = await acquireLock(join(path, LOCK_FILE_NAME))
  if (signal?.aborted === true) {
    await releaseLock(lock)
    signal.throwIfAborted()
  }
  return new DiskStateDir(path, lock, notices)
}

/** Files the dir writes itself; `writeFile` may not replace them. */
const RESERVED_NAMES = new Set([LOCK_FILE_NAME, IDENTITY_FILE_NAME, CONSENSUS_LOG_NAME, LEDGER_LOG_NAME])

class DiskStateDir implements StateDir {
  readonly path: string
  private readonly lock: StateLock
  private readonly openNotices: StateNotice[]
  private logs: { readonly consensus: RecordLog, readonly ledger: RecordLog } | null = null
  private loading: Promise<LoadedState> | null = null
  private closing: Promise<void> | null = null

  constructor (path: string, lock: StateLock, openNotices: StateNotice[]) {
    this.path = path
    this.lock = lock
    this.openNotices = openNotices
  }

  file (name: string): string {
    if (!isPlainFileName(name)) {
      throw new StateDirError('STATE_BAD_NAME', this.path,
        `${JSON.stringify(name)} is not a plain file name: use 1 to ${FILE_NAME_BYTES_MAX} bytes with no '/', no NUL ` +
        "and no leading '.' (kept for temp files)")
    }
    return join(this.path, name)
  }

  async identity (options: StateDirOptions = {}): Promise<LoadedIdentity> {
    this.assertOpen()
    return await loadOrCreateIdentity(this.path, options)
  }

  async load (options: StateDirOptions = {}): Promise<LoadedState> {
    this.assertOpen()
    assert(this.loading === null, 'the state is loaded once per open')
    this.loading = this.loadLogs(options)
    return await this.loading
  }

  async append (batch: PersistBatch): Promise<void> {
    const logs = this.openLogs()
    const consensus = batch.records.filter((record) => record.kind !== LEDGER_ENTRY_RECORD)
    const ledger = batch.records.filter((record) => record.kind === LEDGER_ENTRY_RECORD)
    // Both are encoded before either is written, so a bad record leaves both logs untouched.
    const consensusFrames = encodeFrames(logs.consensus.path, consensus)
    const ledgerFrames = encodeFrames(logs.ledger.path, ledger)
    const writes: Array<Promise<void>> = []
    for (const [log, frames] of [[logs.consensus, consensusFrames], [logs.ledger, ledgerFrames]] as const) {
      if (frames.byteLength > 0) writes.push(log.appendFrames(frames, { sync: batch.sync }))
      // A sync makes every earlier write durable, in the other log too (a no-op if it has none).
      else if (batch.sync) writes.push(log.sync())
    }
    await Promise.all(writes)
  }

  async compact (records: readonly PersistRecord[], options: CompactOptions = {}): Promise<StateNotice | null> {
    const logs = this.openLogs()
    assert(records.every((record) => record.kind === LEDGER_ENTRY_RECORD), 'only ledger entries are compacted')
    let notice: StateNotice | null = null
    if (options.keepAsideBecause !== undefined) {
      const path = logs.ledger.path
      const asidePath = await freeCopyPath(path, 'rejected')
      try {
        await writeFileAtomic(asidePath, await readFile(path), { mode: STATE_FILE_MODE })
      } catch (err) {
        throw new StateDirError('STATE_WRITE_FAILED', path, `cannot keep a copy of ${path} at ${asidePath}: ${(err as Error).message}; check the disk`, { cause: err })
      }
      notice = {
        path: asidePath,
        message: `${options.keepAsideBecause}. The ledger log as it was is kept at ${asidePath} (nothing was deleted); ` +
          'compare it with a peer\'s, and remove it once the cause is understood'
      }
    }
    await logs.ledger.rewrite(records, options)
    return notice
  }

  async writeFile (name: string, data: Uint8Array | string, mode: number = STATE_FILE_MODE): Promise<void> {
    this.assertOpen()
    const path = this.file(name)
    if (RESERVED_NAMES.has(name) || name.startsWith(`${LEDGER_LOG_NAME}.corrupt-`) || name.startsWith(`${LEDGER_LOG_NAME}.rejected-`)) {
      throw new StateDirError('STATE_BAD_NAME', this.path, `${name} is kept by the state dir itself; write under another name`)
    }
    await writeFileAtomic(path, data, { mode })
  }

  async close (): Promise<void> {
    this.closing ??= this.closeAll()
    await this.closing
  }

  private async closeAll (): Promise<void> {
    await this.loading?.catch(() => undefined)
    const logs = this.logs
    this.logs = null
    const closed = await Promise.allSettled([logs?.consensus.close(), logs?.ledger.close()])
    await releaseLock(this.lock)
    for (const result of closed) {
      if (result.status === 'rejected') throw result.reason
    }
  }

  private async loadLogs (options: StateDirOptions): Promise<LoadedState> {
    const notices = [...this.openNotices]
    const consensusPath = join(this.path, CONSENSUS_LOG_NAME)
    const consensus = await loadRecordLog(consensusPath, options)
    if (consensus.corrupt !== null) throw votesCorrupt(consensusPath, consensus.corrupt)
    if (consensus.cut !== null) notices.push({ path: consensusPath, message: `${consensusPath}: ${consensus.cut}` })
    const ledgerPath = join(this.path, LEDGER_LOG_NAME)
    const ledger = await loadRecordLog(ledgerPath, options)
    if (ledger.cut !== null) notices.push({ path: ledgerPath, message: `${ledgerPath}: ${ledger.cut}` })
    if (ledger.corrupt !== null) notices.push(await this.setLedgerAside(ledgerPath, ledger, ledger.corrupt, options))
    const consensusLog = await RecordLog.open(consensusPath)
    const ledgerLog = await RecordLog.open(ledgerPath).catch(async (err: unknown) => {
      await consensusLog.close()
      throw err
    })
    this.logs = { consensus: consensusLog, ledger: ledgerLog }
    return { records: [...consensus.records, ...ledger.records], notices }
  }

  /** Keeps the damaged ledger.log as ledger.log.corrupt-<n> and rewrites it with the good records. */
  private async setLedgerAside (path: string, ledger: LoadedLog, damage: LogDamage, options: StateDirOptions): Promise<StateNotice> {
    const asidePath = await freeCorruptPath(path)
    try {
      await rename(path, asidePath)
    } catch (err) {
      throw new StateDirError('STATE_WRITE_FAILED', path,
        `cannot move the damaged ${path} to ${asidePath}: ${(err as Error).message}; check the disk, or move it away by hand`,
        { cause: err })
    }
    // The atomic write syncs the dir, which makes the rename durable too.
    await writeRecordLog(path, ledger.records, options)
    return {
      path: asidePath,
      message: `${path} was damaged at byte ${damage.offset} (${damage.problem}). Kept the ${ledger.records.length} ` +
        `entries before the damage and moved the damaged file to ${asidePath} (nothing was deleted); ` +
        'entries after the damage will be fetched again from peers'
    }
  }

  private openLogs (): { readonly consensus: RecordLog, readonly ledger: RecordLog } {
    this.assertOpen()
    assert(this.logs !== null, 'the state is loaded before it is written')
    return this.logs
  }

  private assertOpen (): void {
    assert(this.closing === null, 'a closed state dir is not used')
  }
}

function isPlainFileName (name: string): boolean {
  return name.length > 0 &&
    Buffer.byteLength(name) <= FILE_NAME_BYTES_MAX &&
    !name.startsWith('.') &&
    !/[/\\\0]/.test(name)
}

/** The first `<path>.corrupt-<n>` that does not exist. */
async function freeCorruptPath (path: string): Promise<string> {
  return await freeCopyPath(path, 'corrupt')
}

/** The first `<path>.<kind>-<n>` that does not exist. */
async function freeCopyPath (path: string, kind: 'corrupt' | 'rejected'): Promise<string> {
  for (let copy = 1; copy <= CORRUPT_COPIES_MAX; copy++) {
    const candidate = `${path}.${kind}-${copy}`
    try {
      await lstat(candidate)
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return candidate
      throw new StateDirError('STATE_READ_FAILED', candidate, `cannot check ${candidate}: ${(err as Error).message}; check the disk`, { cause: err })
    }
  }
  throw new StateDirError('STATE_WRITE_FAILED', path,
    `${CORRUPT_COPIES_MAX} ${kind} copies of ${path} are already kept beside it; ` +
    `remove old ${path}.${kind}-* files once understood (and check the disk if this keeps happening)`)
}

function votesCorrupt (path: string, damage: LogDamage): StateDirError {
  return new StateDirError('STATE_VOTES_CORRUPT', path,
    `${path} is damaged at byte ${damage.offset} (${damage.problem}); it was left as it is. ` +
    "This file holds this node's promises and votes; starting without them could let it vote twice. " +
    'Restore it from a backup. If the cluster has already committed its plan (check `p2p-bootstrap status` on ' +
    'another node), move the file away and start again: the node learns the plan from its peers.')
}

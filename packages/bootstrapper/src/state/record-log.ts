import { constants as fsConstants } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { open } from 'node:fs/promises'
import { dirname } from 'node:path'
import { crc32 } from 'node:zlib'
import { assert } from '@p2p-bootstrap/core'
import type { PersistRecord } from '@p2p-bootstrap/core'
import { writeFileAtomic, syncDirectory } from './atomic-write.js'
import { errnoCode, StateDirError } from './errors.js'
import { FRAME_HEADER_BYTES, LOG_FILE_BYTES_MAX, RECORD_BYTES_MAX, STATE_FILE_MODE } from './limits.js'
import { decodeRecord, encodeRecord } from './record-codec.js'

/**
 * An append-only file of records, one frame each:
 *
 *   [u32 BE payload length][u32 BE CRC-32 of payload][payload: the record as CBOR]
 *
 * After a crash the last frame may be unfinished: it was never fsynced, so nothing acted on it,
 * and it is cut off ("torn"). Anything else that fails its checks is damage ("corrupt"), which
 * the owner of the log decides about: frames after it may hold records that were acted on.
 */

/** A place in a log where the frames stop making sense. */
export interface LogDamage {
  /** Byte offset of the first bad frame: every frame before it is good. */
  readonly offset: number
  readonly problem: string
}

/** What a log's bytes hold. */
export interface ScannedLog {
  /** The records of the good frames, in order. */
  readonly records: PersistRecord[]
  /** Bytes of the good frames; the file is cut here when its tail is torn. */
  readonly validBytes: number
  /** An unfinished last write, safe to cut off; null if none. */
  readonly torn: LogDamage | null
  /** Damage before the end, where cutting could lose acted-on records; null if none. */
  readonly corrupt: LogDamage | null
}

/** A log read back: its good records, and what was found past them. */
export interface LoadedLog {
  readonly records: PersistRecord[]
  /** Set when a torn tail was cut off: says how many bytes and where. */
  readonly cut: string | null
  /** Damage found mid-file; the file was left as it is. */
  readonly corrupt: LogDamage | null
}

/** Frames `records`, or throws 'STATE_RECORD_INVALID' naming the log: then nothing is written. */
export function encodeFrames (path: string, records: readonly PersistRecord[]): Uint8Array {
  const payloads = records.map((record) => {
    const encoded = encodeRecord(record)
    if (!encoded.ok) {
      throw new StateDirError('STATE_RECORD_INVALID', path,
        `cannot store a record in ${path}: ${encoded.problem}. Nothing was written; this is a bug in the node, ` +
        'and the agent must stop rather than act on state it cannot persist')
    }
    return encoded.payload
  })
  const total = payloads.reduce((sum, payload) => sum + FRAME_HEADER_BYTES + payload.byteLength, 0)
  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  let offset = 0
  for (const payload of payloads) {
    view.setUint32(offset, payload.byteLength)
    view.setUint32(offset + 4, crc32(payload))
    bytes.set(payload, offset + FRAME_HEADER_BYTES)
    offset += FRAME_HEADER_BYTES + payload.byteLength
  }
  assert(offset === total, 'frames fill the buffer exactly')
  return bytes
}

/** Reads the frames of a log's bytes; pure, so the damage rules can be tested on plain bytes. */
export function scanFrames (bytes: Uint8Array): ScannedLog {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const records: PersistRecord[] = []
  let offset = 0
  while (offset < bytes.byteLength) {
    const frame = readFrame(bytes, view, offset)
    if (frame.ok) {
      records.push(frame.record)
      offset = frame.next
      continue
    }
    const damage = { offset, problem: frame.problem }
    const torn = frame.unfinished || isAllZero(bytes, offset)
    return { records, validBytes: offset, torn: torn ? damage : null, corrupt: torn ? null : damage }
  }
  return { records, validBytes: offset, torn: null, corrupt: null }
}

type FrameRead =
  | { readonly ok: true, readonly record: PersistRecord, readonly next: number }
  | { readonly ok: false, readonly problem: string, readonly unfinished: boolean }

function readFrame (bytes: Uint8Array, view: DataView, offset: number): FrameRead {
  const remaining = bytes.byteLength - offset
  if (remaining < FRAME_HEADER_BYTES) {
    return { ok: false, problem: `a partial frame header of ${remaining} bytes`, unfinished: true }
  }
  const length = view.getUint32(offset)
  if (length > RECORD_BYTES_MAX) {
    return { ok: false, problem: `a frame length of ${length} bytes, over the limit of ${RECORD_BYTES_MAX}`, unfinished: false }
  }
  if (length === 0) return { ok: false, problem: 'an empty frame', unfinished: false }
  if (remaining - FRAME_HEADER_BYTES < length) {
    const problem = `a frame of ${length} bytes with only ${remaining - FRAME_HEADER_BYTES} left in the file`
    // A damaged length mid-file also runs past the end; a good frame further on tells the two apart.
    if (hasValidFrameAfter(bytes, view, offset + 1)) {
      return { ok: false, problem: `${problem}, yet good frames follow: its length is damaged`, unfinished: false }
    }
    return { ok: false, problem, unfinished: true }
  }
  const payload = bytes.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length)
  if (crc32(payload) !== view.getUint32(offset + 4)) {
    return { ok: false, problem: 'a frame whose checksum does not match its payload', unfinished: false }
  }
  const decoded = decodeRecord(payload)
  if (!decoded.ok) return { ok: false, problem: `a frame that holds no record (${decoded.problem})`, unfinished: false }
  return { ok: true, record: decoded.record, next: offset + FRAME_HEADER_BYTES + length }
}

/**
 * True if a complete frame with a matching checksum and a decodable record starts anywhere at or
 * after `from`. Only called on a frame running past the end, so the bytes searched are fewer than
 * one record's limit; a chance match makes us stricter (corrupt rather than torn), never looser.
 */
function hasValidFrameAfter (bytes: Uint8Array, view: DataView, from: number): boolean {
  for (let start = from; start + FRAME_HEADER_BYTES < bytes.byteLength; start++) {
    const length = view.getUint32(start)
    if (length === 0 || length > RECORD_BYTES_MAX || start + FRAME_HEADER_BYTES + length > bytes.byteLength) continue
    const payload = bytes.subarray(start + FRAME_HEADER_BYTES, start + FRAME_HEADER_BYTES + length)
    if (crc32(payload) === view.getUint32(start + 4) && decodeRecord(payload).ok) return true
  }
  return false
}

/** A tail of zeros: a file system extended the file in a crash but never wrote its data. */
function isAllZero (bytes: Uint8Array, from: number): boolean {
  for (let index = from; index < bytes.byteLength; index++) {
    if (bytes[index] !== 0) return false
  }
  return true
}

/**
 * Reads the log at `path` (a missing file is an empty log). A torn tail is cut off and the cut
 * fsynced; damage mid-file is reported and the file left byte for byte as it was.
 */
export async function loadRecordLog (path: string, options: { signal?: AbortSignal } = {}): Promise<LoadedLog> {
  const bytes = await readLogBytes(path, options.signal)
  const scanned = scanFrames(bytes)
  if (scanned.corrupt !== null) return { records: scanned.records, cut: null, corrupt: scanned.corrupt }
  if (scanned.torn === null) return { records: scanned.records, cut: null, corrupt: null }
  await truncateLog(path, scanned.validBytes)
  const cutBytes = bytes.byteLength - scanned.validBytes
  const cut = `cut ${cutBytes} bytes of an unfinished write at byte ${scanned.validBytes} (${scanned.torn.problem}); ` +
    'a crash interrupted it before it was synced, so nothing had acted on it'
  return { records: scanned.records, cut, corrupt: null }
}

async function readLogBytes (path: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
  signal?.throwIfAborted()
  let file: FileHandle
  try {
    file = await open(path, fsConstants.O_RDONLY)
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return new Uint8Array(0)
    throw readFailed(path, err)
  }
  try {
    const { size } = await file.stat()
    if (size > LOG_FILE_BYTES_MAX) {
      throw new StateDirError('STATE_READ_FAILED', path,
        `${path} is ${size} bytes, more than the ${LOG_FILE_BYTES_MAX} a state log can reach: it is not one of ours. ` +
        'Move it away and point --state-dir at the right directory')
    }
    return new Uint8Array(await file.readFile(signal === undefined ? {} : { signal }))
  } catch (err) {
    if (err instanceof StateDirError || signal?.aborted === true) throw err
    throw readFailed(path, err)
  } finally {
    await file.close()
  }
}

async function truncateLog (path: string, bytes: number): Promise<void> {
  try {
    const file = await open(path, fsConstants.O_RDWR)
    try {
      await file.truncate(bytes)
      await file.sync()
    } finally {
      await file.close()
    }
  } catch (err) {
    throw writeFailed(path, err)
  }
}

/** Replaces the whole log with `records` atomically (temp file, fsync, rename). */
export async function writeRecordLog (path: string, records: readonly PersistRecord[], options: { signal?: AbortSignal } = {}): Promise<void> {
  const frames = encodeFrames(path, records)
  await writeFileAtomic(path, frames, { mode: STATE_FILE_MODE, ...options })
}

/**
 * The writing end of a log. Appends and rewrites run one at a time in call order. After a failed
 * write or fsync the log refuses every later write: the file may end in a partial frame, and after
 * a failed fsync the kernel may have dropped the dirty pages, so retrying could hide a lost record.
 */
export class RecordLog {
  readonly path: string
  private file: FileHandle | null
  private queue: Promise<void> = Promise.resolve()
  private failure: StateDirError | null = null
  private closed = false
  private unsynced = false

  private constructor (path: string, file: FileHandle) {
    this.path = path
    this.file = file
  }

  /** Opens `path` for appending, creating it (0600, and its name fsynced into the dir) if missing. */
  static async open (path: string): Promise<RecordLog> {
    return new RecordLog(path, await openForAppend(path))
  }

  /** Appends `records` in order; with `sync`, they are on disk when this resolves. */
  async append (records: readonly PersistRecord[], options: { sync: boolean }): Promise<void> {
    await this.appendFrames(encodeFrames(this.path, records), options)
  }

  /** Appends frames made by `encodeFrames` (so a caller can check several batches before writing any). */
  async appendFrames (frames: Uint8Array, options: { sync: boolean }): Promise<void> {
    return await this.enqueue(async (file) => {
      let written = 0
      while (written < frames.byteLength) {
        const { bytesWritten } = await file.write(frames, written, frames.byteLength - written)
        assert(bytesWritten > 0, 'a write to a regular file makes progress or fails')
        written += bytesWritten
      }
      this.unsynced = this.unsynced || written > 0
      if (options.sync) await this.syncFile(file)
    })
  }

  /**
   * Makes every earlier append durable, once they are written; no fsync if all are synced already.
   * Queued like a write, so it covers appends called before it that are still in flight.
   */
  async sync (): Promise<void> {
    return await this.enqueue(async (file) => { await this.syncFile(file) })
  }

  /** Replaces the log's content with exactly `records`, atomically. */
  async rewrite (records: readonly PersistRecord[], options: { signal?: AbortSignal } = {}): Promise<void> {
    const frames = encodeFrames(this.path, records)
    return await this.enqueue(async (file) => {
      // The open handle points at the old file once the new one is renamed in: close, replace, reopen.
      await file.close()
      this.file = null
      const replaced = await writeFileAtomic(this.path, frames, { mode: STATE_FILE_MODE, ...options })
        .then(() => null, (err: unknown) => ({ err }))
      try {
        this.file = await openForAppend(this.path)
      } catch (err) {
        this.failure = err as StateDirError
        throw err
      }
      if (replaced === null) this.unsynced = false
      // A failed rewrite left the old file in place, still whole: appends may go on.
      if (replaced !== null) throw replaced.err
    }, false)
  }

  /** Waits for pending writes, then closes the file; idempotent. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue
    await this.file?.close()
    this.file = null
  }

  private async syncFile (file: FileHandle): Promise<void> {
    if (!this.unsynced) return
    await file.sync()
    this.unsynced = false
  }

  private async enqueue (job: (file: FileHandle) => Promise<void>, poisonOnFailure = true): Promise<void> {
    assert(!this.closed, 'no write to a closed log')
    const run = this.queue.then(async () => {
      if (this.failure !== null) {
        throw new StateDirError('STATE_WRITE_FAILED', this.path,
          `${this.path} refuses writes after an earlier failure (${this.failure.message})`, { cause: this.failure })
      }
      assert(this.file !== null, 'an open log has a file')
      try {
        await job(this.file)
      } catch (err) {
        if (err instanceof StateDirError || !poisonOnFailure) throw err
        this.failure = writeFailed(this.path, err)
        throw this.failure
      }
    })
    this.queue = run.catch(() => undefined)
    return await run
  }
}

async function openForAppend (path: string): Promise<FileHandle> {
  const flags = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT
  try {
    try {
      const file = await open(path, flags | fsConstants.O_EXCL, STATE_FILE_MODE)
      // A new file's name is durable only once its directory is synced.
      await syncDirectory(dirname(path)).catch(async (err: unknown) => {
        await file.close()
        throw err
      })
      return file
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err
      return await open(path, flags, STATE_FILE_MODE)
    }
  } catch (err) {
    throw writeFailed(path, err)
  }
}

function writeFailed (path: string, err: unknown): StateDirError {
  return new StateDirError('STATE_WRITE_FAILED', path,
    `cannot write ${path}: ${(err as Error).message}. The agent must stop: records it could not persist must not be acted on. ` +
    'Free space or repair the disk, then restart it; writes that were never synced were never acted on',
    { cause: err })
}

function readFailed (path: string, err: unknown): StateDirError {
  return new StateDirError('STATE_READ_FAILED', path,
    `cannot read ${path}: ${(err as Error).message}; check the disk and the state dir's permissions`, { cause: err })
}

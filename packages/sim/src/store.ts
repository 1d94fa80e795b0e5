import { assert } from '@p2p-bootstrap/core'
import type { PersistBatch, PersistRecord } from './core-types.js'

/** How records become bytes on the simulated disk; the default is the wire codec's CBOR. */
export interface RecordCodec {
  encode: (record: PersistRecord) => Uint8Array
  decode: (bytes: Uint8Array) => PersistRecord
}

/**
 * One node's state directory in memory. Records are stored encoded, as a disk would hold them, so
 * a restart gets fresh objects and a record that does not survive encoding shows up. A batch with
 * `sync: true` is fsynced, which also makes every earlier write durable; a process crash keeps
 * everything (the OS page cache survives), a power loss keeps only what was fsynced.
 */
export class MemoryStore {
  private readonly records: Uint8Array[] = []
  private durableCount = 0
  /** False once `writeOnly()`: records are still encoded and counted, but not kept. */
  private keeping = true
  bytesWritten = 0
  recordsWritten = 0
  syncs = 0

  constructor (private readonly codec: RecordCodec) {}

  /**
   * Keep nothing from now on: for a run in which no node can crash, so nothing is ever read
   * back. Every record is still encoded (a record that cannot be encoded still fails the run) and
   * counted; only the bytes are not held, which at thousands of nodes is gigabytes.
   */
  writeOnly (): void {
    assert(this.records.length === 0, 'a store stops keeping records before the first write')
    this.keeping = false
  }

  append (batch: PersistBatch): void {
    for (const record of batch.records) {
      const bytes = this.codec.encode(record)
      if (this.keeping) this.records.push(bytes)
      this.recordsWritten += 1
      this.bytesWritten += bytes.byteLength
    }
    if (batch.sync) {
      this.durableCount = this.records.length
      this.syncs += 1
    }
  }

  /** The node stops; with `loseUnsynced`, writes since the last fsync are gone. Returns how many were lost. */
  crash (loseUnsynced: boolean): number {
    assert(this.keeping, 'a write-only store belongs to a node that never crashes')
    assert(this.durableCount <= this.records.length, 'durable records are a prefix of the log')
    if (!loseUnsynced) return 0
    const lost = this.records.length - this.durableCount
    this.records.length = this.durableCount
    return lost
  }

  /** Everything on disk, decoded, in write order: `CoreNodeInit.restored`. */
  restore (): PersistRecord[] {
    assert(this.keeping || this.recordsWritten === 0, 'a write-only store has nothing to restore from')
    return this.records.map((bytes) => this.codec.decode(bytes))
  }

  get recordCount (): number {
    return this.records.length
  }

  get unsyncedCount (): number {
    return this.records.length - this.durableCount
  }
}

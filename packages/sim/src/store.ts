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
  bytesWritten = 0
  syncs = 0

  constructor (private readonly codec: RecordCodec) {}

  append (batch: PersistBatch): void {
    for (const record of batch.records) {
      const bytes = this.codec.encode(record)
      this.records.push(bytes)
      this.bytesWritten += bytes.byteLength
    }
    if (batch.sync) {
      this.durableCount = this.records.length
      this.syncs += 1
    }
  }

  /** The node stops; with `loseUnsynced`, writes since the last fsync are gone. Returns how many were lost. */
  crash (loseUnsynced: boolean): number {
    assert(this.durableCount <= this.records.length, 'durable records are a prefix of the log')
    if (!loseUnsynced) return 0
    const lost = this.records.length - this.durableCount
    this.records.length = this.durableCount
    return lost
  }

  /** Everything on disk, decoded, in write order: `CoreNodeInit.restored`. */
  restore (): PersistRecord[] {
    return this.records.map((bytes) => this.codec.decode(bytes))
  }

  get recordCount (): number {
    return this.records.length
  }

  get unsyncedCount (): number {
    return this.records.length - this.durableCount
  }
}

import { decodeStrict, encodeCanonical } from '../codec.js'
import { ENTRY_ENCODED_BYTES_MAX, FRAME_BYTES_MAX } from '../limits.js'
import { entryObject } from './entry.js'
import { entrySchema, ledgerMessageSchema } from './messages.js'
import type { Entry } from './entry.js'
import type { LedgerMessage } from './messages.js'

/** Canonical bytes of an entry (the persist record and snapshot form). */
export function encodeEntry (entry: Entry): Uint8Array {
  return encodeCanonical(entryObject(entry))
}

/** Decodes an entry from outside; throws `CodecError` for anything malformed or oversized. */
export function decodeEntry (bytes: Uint8Array): Entry {
  return decodeStrict(bytes, entrySchema, { maxBytes: ENTRY_ENCODED_BYTES_MAX, what: 'ledger entry' })
}

/** Canonical bytes of a ledger message (one frame). */
export function encodeLedgerMessage (message: LedgerMessage): Uint8Array {
  return encodeCanonical(message)
}

/** Decodes one ledger frame; throws `CodecError` for anything malformed or oversized. */
export function decodeLedgerMessage (bytes: Uint8Array): LedgerMessage {
  return decodeStrict(bytes, ledgerMessageSchema, { maxBytes: FRAME_BYTES_MAX, what: 'ledger message' })
}

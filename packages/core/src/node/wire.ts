import { z } from 'zod'
import { decodeStrict, encodeCanonical } from '../codec.js'
import { consensusMessageSchema } from '../consensus/messages.js'
import type { ConsensusMessage } from '../consensus/messages.js'
import { ledgerMessageSchema } from '../ledger/messages.js'
import type { LedgerMessage } from '../ledger/messages.js'
import { FRAME_BYTES_MAX } from '../limits.js'
import { membershipMessageSchema } from '../membership/messages.js'
import type { MembershipMessage } from '../membership/messages.js'

/** Every message one core node sends another: membership, ledger sync, consensus. */
export type CoreMessage = MembershipMessage | LedgerMessage | ConsensusMessage

const kindSchema = z.looseObject({ kind: z.string().max(64) })

/** Encodes one message as the bytes of one frame (canonical CBOR). */
export function encodeWireMessage (message: CoreMessage): Uint8Array {
  return encodeCanonical(message)
}

/**
 * Decodes one frame from a peer into a message, or throws a `CodecError` naming the problem.
 * The `kind` prefix picks the one schema that applies, so a bad frame is reported against the
 * shape it claimed to have.
 */
export function decodeWireMessage (bytes: Uint8Array): CoreMessage {
  const { kind } = decodeStrict(bytes, kindSchema, { maxBytes: FRAME_BYTES_MAX, what: 'frame' })
  const options = { maxBytes: FRAME_BYTES_MAX, what: `${kind.slice(0, 32)} frame` }
  if (kind.startsWith('swim/')) return decodeStrict(bytes, membershipMessageSchema, options)
  if (kind.startsWith('ledger/')) return decodeStrict(bytes, ledgerMessageSchema, options)
  return decodeStrict(bytes, consensusMessageSchema, options)
}

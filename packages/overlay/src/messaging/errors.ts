import { P2pBootstrapError } from '@p2p-bootstrap/core'

/** Why a received frame was refused; its stream is aborted, the connection is kept. */
export type FrameRejectionCode =
  | 'FRAME_OVERSIZED'
  | 'FRAME_BAD_LENGTH'
  | 'FRAME_TRUNCATED'
  | 'FRAME_UNDECODABLE'

/**
 * A frame from a peer that cannot be used: a length above the limit, a length prefix that is not a
 * varint, a stream that ended inside a frame, or bytes the injected decoder refused (`cause`).
 * Never thrown to the messenger's caller: it becomes a `frame:rejected` event and a counter.
 */
export class FrameRejection extends P2pBootstrapError<FrameRejectionCode> {}

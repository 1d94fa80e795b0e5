/** Why a frame we meant to send never left. */
export type DropReason =
  /** The peer's queue was full; the oldest frame made room. */
  | 'queueFull'
  /** No connection and no address in the peer store: nothing to dial. */
  | 'noRoute'
  /** The dial or the stream open failed, or the peer is in its redial back-off. */
  | 'unreachable'
  /** The encoded frame was above `maxFrameBytes`; refused at `send`. */
  | 'oversized'
  /** The stream failed while the frame was being written. */
  | 'streamError'
  /** The messenger was stopped (or not started) with the frame still queued. */
  | 'stopped'
  /** `to` is not a peer id, or is this node's own. */
  | 'badPeer'
  /** Frames already wait for `PEER_WRITERS_MAX` other peers; a new peer gets none until some go idle. */
  | 'tooManyPeers'

/** Counters of one messenger since it was built; a plain object, copied on each `stats()`. */
export interface MessengerStats {
  /** Frames received, decoded and handed to 'message' listeners. */
  framesIn: number
  /** Frames handed to an outbound stream. */
  framesOut: number
  /** Bytes received on inbound streams of the protocol (prefixes included). */
  bytesIn: number
  /** Bytes handed to outbound streams (prefixes included). */
  bytesOut: number
  /** Frames we meant to send that never left, all reasons together (see `framesDroppedBy`). */
  framesDropped: number
  framesDroppedBy: Record<DropReason, number>
  /** Received frames refused (oversized, bad length, truncated, undecodable); each aborted its stream. */
  framesRejected: number
  /** Outbound streams opened. */
  streamsOpened: number
  /** Inbound streams accepted by the handler. */
  streamsAccepted: number
  /** Streams that failed under us: reset by the peer, write timeout, connection lost. */
  streamErrors: number
  /** Inbound streams aborted because they delivered no frame within `idleStreamTimeoutMs`. */
  streamsIdleClosed: number
  /** Dials to a peer without a connection that failed. */
  dialFailures: number
  /** 'message' (or other) listeners that threw; caught so the reader goes on. */
  listenerErrors: number
  /** Addresses refused by `addPeerAddresses` (malformed, not TCP, another peer's id). */
  addressesSkipped: number
}

export function emptyStats (): MessengerStats {
  return {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesDropped: 0,
    framesDroppedBy: { queueFull: 0, noRoute: 0, unreachable: 0, oversized: 0, streamError: 0, stopped: 0, badPeer: 0, tooManyPeers: 0 },
    framesRejected: 0,
    streamsOpened: 0,
    streamsAccepted: 0,
    streamErrors: 0,
    streamsIdleClosed: 0,
    dialFailures: 0,
    listenerErrors: 0,
    addressesSkipped: 0
  }
}

/** Counts `count` dropped frames under `reason`, keeping the total in step. */
export function countDropped (stats: MessengerStats, reason: DropReason, count = 1): void {
  stats.framesDropped += count
  stats.framesDroppedBy[reason] += count
}

export function copyStats (stats: MessengerStats): MessengerStats {
  return { ...stats, framesDroppedBy: { ...stats.framesDroppedBy } }
}

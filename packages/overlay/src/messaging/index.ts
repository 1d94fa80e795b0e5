/**
 * The sync protocol messenger: one long-lived length-prefixed stream per peer carrying the core's
 * messages, with bounded queues, idle and write timeouts, and strict frame limits.
 */
export { PeerMessenger } from './peer-messenger.js'
export type {
  MessengerEvents, MessageDetail, FrameRejectedDetail, PeerUnreachableDetail, PeerAddressesResult
} from './peer-messenger.js'
export type { MessengerOptions } from './options.js'
export type { MessengerStats, DropReason } from './stats.js'
export { FrameRejection } from './errors.js'
export type { FrameRejectionCode } from './errors.js'

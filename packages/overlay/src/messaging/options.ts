import { OverlayError } from '../errors.js'
import { DIAL_TIMEOUT_MS_MIN, DURATION_MS_MAX } from '../limits.js'
import {
  DIAL_TIMEOUT_MS_DEFAULT, FRAME_PREFIX_BYTES_MAX, IDLE_STREAM_TIMEOUT_MS_DEFAULT, INBOUND_STREAMS_DEFAULT,
  INBOUND_STREAMS_LIMIT, MESSENGER_FRAME_BYTES_LIMIT, MESSENGER_TIMEOUT_MS_MIN, PROTOCOL_CHARS_MAX,
  QUEUE_BYTES_DEFAULT, QUEUE_BYTES_GLOBAL_DEFAULT, QUEUE_BYTES_LIMIT, QUEUE_FRAMES_DEFAULT, QUEUE_FRAMES_LIMIT, REDIAL_BACKOFF_MS_DEFAULT,
  WRITE_TIMEOUT_MS_DEFAULT
} from './limits.js'

/** What a `PeerMessenger` takes. Only `protocol`, `encode`, `decode` and `maxFrameBytes` are required. */
export interface MessengerOptions<Message> {
  /** The stream protocol id, e.g. `${keys.syncProtocolPrefix}/1.0.0` (token-derived, so strangers never match). */
  protocol: string
  /** Turns a message into one frame's bytes. A throw is our bug and reaches the caller of `send`. */
  encode: (message: Message) => Uint8Array
  /** Turns one received frame into a message; may throw on bad bytes (the frame is rejected). */
  decode: (bytes: Uint8Array) => Message
  /** Largest frame body sent or accepted; the core's is `FRAME_BYTES_MAX`. Above it a send is refused and a received length aborts its stream. */
  maxFrameBytes: number
  /**
   * Frames waiting per peer. Beyond it the oldest is dropped (and counted): the protocols above
   * tolerate loss and prefer fresh state. Higher rides out longer stalls; lower bounds memory.
   */
  queueFramesMax?: number
  /** Bytes waiting per peer, with the same drop-oldest rule; at least one largest frame. */
  queueBytesMax?: number
  /** Bytes waiting for all peers together; at least `queueBytesMax`. */
  queueBytesGlobalMax?: number
  /** A frame the stream has not taken within this (no drain) aborts the stream; the next frame opens another. */
  writeTimeoutMs?: number
  /**
   * An outbound stream with no frame for this long is closed, and an inbound stream that delivers
   * no frame for this long is aborted. Lower frees streams sooner; higher saves re-opening them.
   */
  idleStreamTimeoutMs?: number
  /** Budget of a dial to a peer we have no connection to. */
  dialTimeoutMs?: number
  /**
   * After a failed dial or stream open to a peer, its frames are dropped without trying again
   * until this passes, so a dead peer costs one attempt per period rather than one per frame.
   */
  redialBackoffMs?: number
  /** Inbound streams of the protocol allowed per connection; a well-behaved peer holds one. */
  maxInboundStreams?: number
}

/** Options after validation, every default filled in. */
export interface ResolvedMessengerOptions<Message> {
  readonly protocol: string
  readonly encode: (message: Message) => Uint8Array
  readonly decode: (bytes: Uint8Array) => Message
  readonly maxFrameBytes: number
  readonly queueFramesMax: number
  readonly queueBytesMax: number
  readonly queueBytesGlobalMax: number
  readonly writeTimeoutMs: number
  readonly idleStreamTimeoutMs: number
  readonly dialTimeoutMs: number
  readonly redialBackoffMs: number
  readonly maxInboundStreams: number
}

const PROTOCOL_PATTERN = /^(\/[A-Za-z0-9_.-]+)+$/

function badOption (option: string, problem: string): OverlayError {
  return new OverlayError('OVERLAY_BAD_OPTION', `messenger option ${option}: ${problem}`)
}

function integerOption (option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badOption(option, `must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

function checkFunction (option: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw badOption(option, `must be a function, got ${typeof value}; pass the core's ${option}WireMessage or your own codec`)
  }
}

/** Validates every option once, before anything runs, naming the option at fault and its range. */
export function resolveMessengerOptions<Message> (options: MessengerOptions<Message>): ResolvedMessengerOptions<Message> {
  if (typeof options !== 'object' || options === null) {
    throw badOption('options', `must be an object with protocol, encode, decode and maxFrameBytes, got ${String(options)}`)
  }
  const protocol: unknown = options.protocol
  if (typeof protocol !== 'string' || protocol.length > PROTOCOL_CHARS_MAX || !PROTOCOL_PATTERN.test(protocol)) {
    throw badOption('protocol', `must be a protocol id like /p2pb-sync/<hex>/1.0.0 of at most ${PROTOCOL_CHARS_MAX} characters, got ${JSON.stringify(protocol)}; build it from keys.syncProtocolPrefix`)
  }
  checkFunction('encode', options.encode)
  checkFunction('decode', options.decode)
  if (options.maxFrameBytes === undefined) {
    throw badOption('maxFrameBytes', 'is required; pass the core\'s FRAME_BYTES_MAX')
  }
  const maxFrameBytes = integerOption('maxFrameBytes', options.maxFrameBytes, 0, 1, MESSENGER_FRAME_BYTES_LIMIT)
  // A queue must hold one largest frame with its prefix, or such a frame could never be sent.
  const queueBytesMin = maxFrameBytes + FRAME_PREFIX_BYTES_MAX
  const timeoutMin = MESSENGER_TIMEOUT_MS_MIN
  const queueBytesMax = integerOption('queueBytesMax', options.queueBytesMax, Math.max(QUEUE_BYTES_DEFAULT, queueBytesMin), queueBytesMin, QUEUE_BYTES_LIMIT)
  return {
    protocol,
    encode: options.encode,
    decode: options.decode,
    maxFrameBytes,
    queueFramesMax: integerOption('queueFramesMax', options.queueFramesMax, QUEUE_FRAMES_DEFAULT, 1, QUEUE_FRAMES_LIMIT),
    queueBytesMax,
    queueBytesGlobalMax: integerOption('queueBytesGlobalMax', options.queueBytesGlobalMax, Math.max(QUEUE_BYTES_GLOBAL_DEFAULT, queueBytesMax), queueBytesMax, QUEUE_BYTES_LIMIT),
    writeTimeoutMs: integerOption('writeTimeoutMs', options.writeTimeoutMs, WRITE_TIMEOUT_MS_DEFAULT, timeoutMin, DURATION_MS_MAX),
    idleStreamTimeoutMs: integerOption('idleStreamTimeoutMs', options.idleStreamTimeoutMs, IDLE_STREAM_TIMEOUT_MS_DEFAULT, timeoutMin, DURATION_MS_MAX),
    dialTimeoutMs: integerOption('dialTimeoutMs', options.dialTimeoutMs, DIAL_TIMEOUT_MS_DEFAULT, DIAL_TIMEOUT_MS_MIN, DURATION_MS_MAX),
    redialBackoffMs: integerOption('redialBackoffMs', options.redialBackoffMs, REDIAL_BACKOFF_MS_DEFAULT, 0, DURATION_MS_MAX),
    maxInboundStreams: integerOption('maxInboundStreams', options.maxInboundStreams, INBOUND_STREAMS_DEFAULT, 1, INBOUND_STREAMS_LIMIT)
  }
}

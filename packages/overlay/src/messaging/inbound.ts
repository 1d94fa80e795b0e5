import type { Logger, Stream } from '@libp2p/interface'
import { FrameDecoder } from './frame-codec.js'
import { FrameRejection } from './errors.js'
import type { MessengerStats } from './stats.js'

/** What one inbound stream reader needs from its messenger. */
export interface InboundContext<Message> {
  readonly maxFrameBytes: number
  readonly idleStreamTimeoutMs: number
  /** Budget of our half-close after the peer has closed its end. */
  readonly closeTimeoutMs: number
  readonly decode: (bytes: Uint8Array) => Message
  readonly stats: MessengerStats
  readonly log: Logger
  /** Aborted when the messenger stops: a stream it aborts is not counted as a failure. */
  readonly signal: AbortSignal
  deliver: (from: string, message: Message) => void
  reject: (from: string, rejection: FrameRejection) => void
}

/** Why a reader aborted its own stream for idleness; told apart from the peer's errors. */
class IdleStreamError extends Error {
  override readonly name = 'IdleStreamError'
}

/**
 * Reads frames from one inbound stream until the peer closes it, handing each decoded message to
 * `deliver` with `from` = the authenticated remote peer (the connection's, never the frame's). A
 * bad frame rejects and aborts this stream only; the connection and the node carry on. Never
 * throws, and the stream is closed or aborted before it returns: a leaked stream would count
 * against the protocol's inbound stream limit for the life of the connection.
 */
export async function readInboundStream<Message> (stream: Stream, from: string, context: InboundContext<Message>): Promise<void> {
  const decoder = new FrameDecoder(context.maxFrameBytes)
  let idle = false
  const onIdle = (): void => {
    idle = true
    stream.abort(new IdleStreamError(`no frame from ${from} within ${context.idleStreamTimeoutMs} ms`))
  }
  let timer = setTimeout(onIdle, context.idleStreamTimeoutMs)
  try {
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      context.stats.bytesIn += bytes.byteLength
      for (const frame of decoder.frames(bytes)) {
        const message = decodeFrame(frame, context.decode)
        context.stats.framesIn += 1
        clearTimeout(timer)
        timer = setTimeout(onIdle, context.idleStreamTimeoutMs)
        context.deliver(from, message)
      }
    }
    if (decoder.midFrame) {
      throw new FrameRejection('FRAME_TRUNCATED', 'the stream ended inside a frame')
    }
    // The peer closed its end between frames: close ours, so the stream ends on both sides.
    await stream.close({ signal: AbortSignal.timeout(context.closeTimeoutMs) })
  } catch (err) {
    if (err instanceof FrameRejection) {
      context.reject(from, err)
      stream.abort(err)
    } else if (idle) {
      context.stats.streamsIdleClosed += 1
    } else if (!context.signal.aborted) {
      // Reset by the peer, connection lost, or our close timed out: nothing to reject, just count.
      context.stats.streamErrors += 1
      context.log('inbound stream from %s failed: %s', from, err instanceof Error ? err.message : String(err))
    }
  } finally {
    clearTimeout(timer)
    if (stream.status === 'open' || stream.status === 'closing') {
      stream.abort(new Error('inbound stream reader finished'))
    }
  }
}

function decodeFrame<Message> (frame: Uint8Array, decode: (bytes: Uint8Array) => Message): Message {
  try {
    return decode(frame)
  } catch (err) {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    throw new FrameRejection('FRAME_UNDECODABLE', `frame of ${frame.byteLength} bytes could not be decoded (${detail})`, { cause: err })
  }
}

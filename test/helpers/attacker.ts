// A token holder that misbehaves, for the hostile-peer tests and the flood benchmark: a raw
// overlay node holding the fleet's token, and the sync frames it writes by hand (a varint length,
// then the body, as the messenger frames them), so that bytes no honest encoder would send reach
// a node over a real connection.
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { deriveKeys, encodeWireMessage, parseToken } from '@p2p-bootstrap/core'
import type { CoreMessage, DerivedKeys, NodeKey } from '@p2p-bootstrap/core'
import { createOverlay, nodeKeyFromPrivateKey } from '@p2p-bootstrap/overlay'
import type { Overlay, OverlayProfileName } from '@p2p-bootstrap/overlay'

/** An unsigned LEB128 varint: the length prefix of a sync frame. */
export function varint (value: number): Uint8Array {
  const bytes: number[] = []
  let rest = value
  do {
    let byte = rest & 0x7f
    rest = Math.floor(rest / 128)
    if (rest > 0) byte |= 0x80
    bytes.push(byte)
  } while (rest > 0)
  return Uint8Array.from(bytes)
}

export function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0))
  let offset = 0
  for (const part of parts) { out.set(part, offset); offset += part.byteLength }
  return out
}

/** One sync frame, built from a message no honest encoder would send. */
export function frame (message: unknown): Uint8Array {
  const body = encodeWireMessage(message as CoreMessage)
  return concat(varint(body.byteLength), body)
}

/** `ledger/delta` frames of `entries` entries owned by `writer` (so every cheap check passes) with random signatures. */
export function badSignatureDeltas (writer: string, entries: number): () => Uint8Array {
  let serial = 0
  return () => frame({
    kind: 'ledger/delta',
    entries: Array.from({ length: entries }, () => ({
      key: `node/${writer}/junk-${serial++}`, value: Uint8Array.of(1), stamp: { wallMs: Date.now(), counter: 0 }, writer, signature: randomBytes(64)
    }))
  })
}

export interface Attacker {
  readonly overlay: Overlay
  /** Its node key, for entries it signs as their writer. */
  readonly key: NodeKey
  /** The fleet's keys, derived from the token it holds. */
  readonly keys: DerivedKeys
  /** The sync protocol, on which it writes its frames. */
  readonly protocol: string
}

/** A fresh identity holding `token`, listening on loopback only, with mDNS and the DHT off. */
export async function startAttacker (token: string, profile: OverlayProfileName): Promise<Attacker> {
  const keys = deriveKeys(parseToken(token))
  const identity = await generateKeyPair('Ed25519')
  const overlay = await createOverlay({ keys, identity, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false, profile })
  return { overlay, key: nodeKeyFromPrivateKey(identity), keys, protocol: `${keys.syncProtocolPrefix}/1.0.0` }
}

/** Opens one sync stream to `address` per frame, writes the frame and closes the stream. */
export async function sendFrames (attacker: Attacker, address: string, frames: readonly Uint8Array[]): Promise<void> {
  for (const bytes of frames) {
    const stream = await attacker.overlay.libp2p.dialProtocol(multiaddr(address), attacker.protocol, { signal: AbortSignal.timeout(5_000) })
    stream.send(bytes)
    await stream.close().catch(() => {})
  }
}

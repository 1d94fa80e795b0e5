/**
 * A parsed network token: the one shared secret every key derives from, plus the optional cluster
 * shape that every node must agree on (carried in the token so they agree by construction).
 */
export interface NetworkToken {
  readonly version: 1
  /** 32 bytes from a CSPRNG; never logged, never shown. */
  readonly secret: Uint8Array
  /** When the token was generated (Unix ms); informational only. */
  readonly createdMs?: number
  /** Nodes expected at first boot; a majority of it is the bootstrap quorum (S1). */
  readonly expect?: number
  /** Control-plane nodes wanted: 1, 3, 5 or 7. */
  readonly controlPlanes?: number
  /** The kube-vip virtual IP (IPv4 or IPv6). */
  readonly vip?: string
  /** A human cluster name (one lower-case DNS label). */
  readonly name?: string
  /** 'kairos' when imported from a Kairos/EdgeVPN token; formatting always writes a native token. */
  readonly origin: 'native' | 'kairos'
}

/** The optional shape fields of a token. */
export interface TokenShape {
  readonly expect?: number
  readonly controlPlanes?: number
  readonly vip?: string
  readonly name?: string
}

export interface GenerateTokenOptions extends TokenShape {
  /** Stamped by the caller (the core has no clock). */
  readonly createdMs?: number
  /** A CSPRNG; defaults to globalThis.crypto through @noble/hashes. */
  readonly randomBytes?: (length: number) => Uint8Array
}

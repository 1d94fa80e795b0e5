/**
 * @packageDocumentation
 *
 * The pure, deterministic core of p2p-bootstrap. Nothing in this package touches the clock, the
 * network, the disk or the operating system's randomness: time arrives as `nowMs`, randomness from
 * an injected seeded `Prng` (or the caller's CSPRNG for key material), and the results leave as
 * plain values (state to persist, messages to send, events). The adapters do the I/O.
 *
 * @example
 * ```ts
 * import { generateToken, formatToken, parseToken, deriveKeys } from '@p2p-bootstrap/core'
 *
 * const text = formatToken(generateToken({ expect: 5, controlPlanes: 3 }))
 * const keys = deriveKeys(parseToken(text))
 * console.log(keys.clusterId)
 * ```
 */
export { P2pBootstrapError, CodecError, IdentityError, PathError } from './errors.js'
export type { CodecErrorCode, IdentityErrorCode } from './errors.js'
export { InvariantError, assert } from './assert.js'
export { Prng } from './prng.js'
export { encodeCanonical, decodeStrict, STRICT_CBOR_DECODE_OPTIONS } from './codec.js'
export {
  nodeIdFromPublicKey, publicKeyFromNodeId, isNodeId, nodeKeyFromSeed, verifyNodeSignature
} from './identity.js'
export type { NodeId, NodeKey } from './identity.js'
export {
  TokenError, generateToken, formatToken, parseToken, deriveKeys, rendezvousSlots,
  TOKEN_PREFIX, TOKEN_VERSION_CURRENT, TOKEN_VERSIONS_KNOWN, SECRET_BYTES, EXPECT_MAX,
  CONTROL_PLANES_ALLOWED, NAME_CHARS_MAX, CREATED_MS_MAX, RENDEZVOUS_SLOT_MS_DEFAULT
} from './token/index.js'
export type {
  TokenErrorCode, NetworkToken, TokenShape, GenerateTokenOptions, DerivedKeys
} from './token/index.js'
export type {
  Role, NodeFacts, ClusterShape, DecidedShape, PlanSecrets, Plan
} from './types.js'
export {
  lanProfile, wanProfile, testProfile, simProfile, profileByName, validateProfile
} from './profiles.js'
export type { TimingProfile } from './profiles.js'
export * from './limits.js'
export * from './ledger/index.js'
export * from './membership/index.js'
export * from './consensus/index.js'
export * from './planner/index.js'
export * from './secrets/index.js'
export type {
  Envelope, WireMessage, PersistRecord, PersistBatch, Ready, Phase, CoreEvent, CoreNodeInit,
  MemberStatus, NodeStatus, NodeInspection, CoreNode, NodeLedgerAccess, EpochRecord
} from './node/contract.js'
export { createCoreNode, CoreNodeMachine, LEAVING_KEY_NAME, SERVER_READY_KEY_NAME } from './node/node.js'
export { encodeWireMessage, decodeWireMessage } from './node/wire.js'
export type { CoreMessage } from './node/wire.js'
export { encodeFacts, decodeFacts } from './node/facts.js'

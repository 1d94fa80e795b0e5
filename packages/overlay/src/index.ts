/**
 * @packageDocumentation
 *
 * The private libp2p overlay of p2p-bootstrap. A node built here speaks TCP + pnet + noise + yamux;
 * the pnet pre-shared key comes from the network token, so a machine without the token cannot
 * finish a connection. Peers are found by mDNS (service name from the token), a private kad-dht
 * (protocol prefix from the token, no public bootstrap peers) and static peers; libp2p v3 does not
 * dial what it discovers, so a reconcile loop dials discovered and static peers with back-off,
 * up to a bounded number of connections (never a full mesh). Timing comes from one profile
 * (`lan`, `wan`, `test`). The node's Ed25519 identity lives in the state dir (mode 0600).
 *
 * The pnet layer is our own protector on `@noble/ciphers`' XSalsa20 with libp2p pnet's wire format
 * (the `xsalsa20` package under `@libp2p/pnet` throws after one large chunk; see `src/pnet/`).
 *
 * mDNS is off unless asked for (`mdns: true`): multicast leaves the machine, so it is a choice.
 *
 * @example
 * ```ts
 * import { createOverlay, loadOrCreateIdentity } from '@p2p-bootstrap/overlay'
 *
 * const { privateKey } = await loadOrCreateIdentity('/var/lib/p2p-bootstrap')
 * const overlay = await createOverlay({
 *   token: process.env.P2PB_TOKEN ?? '',
 *   identity: privateKey,
 *   listen: ['/ip4/0.0.0.0/tcp/4001'],
 *   peers: ['/ip4/192.168.1.10/tcp/4001/p2p/12D3KooW…'],
 *   mdns: true,
 *   profile: 'lan'
 * })
 * overlay.addEventListener('peer:connect', (event) => { console.log('connected to', event.detail) })
 * console.log(overlay.peerId, overlay.addresses())
 * await overlay.stop()
 * ```
 */
export { createOverlay } from './create-overlay.js'
export type { Overlay, OverlayEvents, AbortOptions } from './overlay.js'
export type { OverlayServices } from './libp2p-config.js'
export type { OverlayOptions, OverlayLimits, StaticPeer, OverlayTuningProblem } from './options.js'
export { overlayTuningProblem } from './options.js'
export { STATIC_PEER_FORMS, STATIC_PEER_PORT_DEFAULT, staticPeerMultiaddr } from './static-peer-address.js'
export type { OverlayKeys } from './keys.js'
export { isSwarmKey } from './keys.js'
export { lanProfile, wanProfile, testProfile, profileByName } from './profiles.js'
export type { OverlayProfile, OverlayProfileName } from './profiles.js'
export { OverlayError, IdentityFileError } from './errors.js'
export type { OverlayErrorCode, IdentityFileErrorCode } from './errors.js'
export { loadOrCreateIdentity, nodeKeyFromPrivateKey } from './identity-file.js'
export type { LoadedIdentity } from './identity-file.js'
export { redialDelayMs } from './backoff.js'
export * from './messaging/index.js'
export type { OverlayDiscoveryStats } from './overlay.js'
export { InboundHandshakes } from './inbound-handshakes.js'
export type { InboundHandshakeStats } from './inbound-handshakes.js'
export { INBOUND_HANDSHAKES_MAX, INBOUND_REFUSAL_DELAY_MS, PEER_STORE_OTHERS_MAX } from './limits.js'
export type { PeerStoreBoundStats } from './peer-store-bound.js'
export { mdnsServiceTag } from './keys.js'
export { mdnsDiscovery, MdnsDiscovery } from './discovery/mdns-discovery.js'
export type { MdnsDiscoveryInit, MdnsDiscoveryComponents, MdnsDiscoveryStats } from './discovery/mdns-discovery.js'
export { RendezvousDiscovery, routingTableOf } from './discovery/rendezvous.js'
export type { RendezvousInit, RendezvousComponents, RendezvousStats, RoutingTableView } from './discovery/rendezvous.js'
export { rendezvousCid } from './discovery/rendezvous-cid.js'
export { nextQueryDelayMs, nextQueryIntervalMs, jitteredMs } from './discovery/query-schedule.js'
export type { QuerySchedule, QueryDelay } from './discovery/query-schedule.js'

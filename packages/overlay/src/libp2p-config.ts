import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import type { Libp2pOptions } from 'libp2p'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { KadDHT } from '@libp2p/kad-dht'
import type { ResolvedOverlayOptions } from './options.js'
import { mdnsServiceTag } from './keys.js'
import { privateNetwork } from './pnet/protector.js'
import { PeerBlockList } from './peer-block-list.js'
import { InboundHandshakes } from './inbound-handshakes.js'
import { INBOUND_HANDSHAKES_MAX } from './limits.js'
import { mdnsDiscovery } from './discovery/mdns-discovery.js'
import type { MdnsDiscovery } from './discovery/mdns-discovery.js'

/** Loopback ranges accepted above the connection limits (single-host runs; see the profile). */
const LOOPBACK_ALLOW_LIST = ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']

/** Version suffix of our kad-dht protocol, after the token-derived prefix. */
const DHT_PROTOCOL_SUFFIX = '/kad/1.0.0'

/** The libp2p services an overlay runs; `mdns` and `dht` are absent when turned off. */
export interface OverlayServices extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  mdns?: MdnsDiscovery
  dht?: KadDHT
}

/**
 * Every libp2p option that matters, passed explicitly rather than trusted to defaults. Async only
 * because the kad-dht stack is loaded when the DHT is on: it is the largest single dependency
 * (tens of MB resident), and a node run with `--no-dht` never needs it.
 */
export async function libp2pOptions (
  options: ResolvedOverlayOptions,
  blocked: PeerBlockList = new PeerBlockList(),
  handshakes: InboundHandshakes = new InboundHandshakes(INBOUND_HANDSHAKES_MAX)
): Promise<Libp2pOptions<OverlayServices>> {
  const { profile, keys } = options
  const dht = options.dhtEnabled ? await import('@libp2p/kad-dht') : undefined
  return {
    connectionGater: {
      // Handshakes in progress are bounded for every address (loopback included).
      denyInboundConnection: (connection) => handshakes.deny(connection),
      // Peers the core penalised (bad signatures) are neither dialled nor let in until their time is up.
      denyDialPeer: (peerId) => blocked.isBlocked(peerId.toString()),
      denyInboundEncryptedConnection: (peerId) => blocked.isBlocked(peerId.toString()),
      denyOutboundEncryptedConnection: (peerId) => blocked.isBlocked(peerId.toString()),
      denyInboundUpgradedConnection: (peerId, connection) => {
        handshakes.upgraded(connection)
        return blocked.isBlocked(peerId.toString())
      }
    },
    privateKey: options.identity,
    start: false,
    addresses: { listen: [...options.listen] },
    transports: [tcp({
      // Every connection the node may keep plus every handshake it may run: sockets past it are
      // closed by the listener before libp2p spends anything on them (loopback included).
      maxConnections: profile.maxConnections + INBOUND_HANDSHAKES_MAX,
      // Not `closeServerOnMaxConnections`: @libp2p/tcp 11 tests it only once a socket finished its
      // upgrade and listens again only when an upgraded socket closes, so outsiders (who never
      // upgrade) never pause the listener, and a pause closes the listening socket (new SYNs are
      // refused, not queued). Measured under a stalled-outsider flood: the same churn and RSS.
      // Idle sockets are the muxer's business; these only reap half-dead handshakes.
      inboundSocketInactivityTimeout: profile.inboundUpgradeTimeoutMs * 2,
      outboundSocketInactivityTimeout: profile.dialTimeoutMs * 2,
      dialOpts: { noDelay: true, keepAlive: true },
      listenOpts: { noDelay: true, keepAlive: true }
    })],
    // pnet's wire format on @noble/ciphers: @libp2p/pnet's cipher package throws after one large chunk.
    connectionProtector: privateNetwork({ psk: keys.pnetKey, timeout: profile.pnetHandshakeTimeoutMs }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Our mDNS is a service (below), so the overlay can read its counters; libp2p still treats it
    // as peer discovery through its peerDiscoverySymbol.
    peerDiscovery: [],
    connectionManager: {
      maxConnections: profile.maxConnections,
      maxIncomingPendingConnections: profile.maxIncomingPendingConnections,
      maxParallelDials: profile.discoveryDialConcurrency * 2,
      dialTimeout: profile.dialTimeoutMs,
      // Bounded so a dial to a node with another token fails fast (see LIBP2P-NOTES).
      addressDialTimeout: profile.addressDialTimeoutMs,
      inboundUpgradeTimeout: profile.inboundUpgradeTimeoutMs,
      inboundConnectionThreshold: profile.inboundConnectionsPerHostPerSecond,
      allow: profile.allowLoopback ? [...LOOPBACK_ALLOW_LIST] : [],
      // Our reconcile loop owns re-dialling, with its own back-off; libp2p's would double it.
      reconnectRetries: 0
    },
    connectionMonitor: {
      enabled: true,
      pingInterval: profile.connectionPingIntervalMs,
      abortConnectionOnPingFailure: true
    },
    services: {
      identify: identify({ timeout: profile.dialTimeoutMs }),
      ping: ping(),
      ...(options.mdnsEnabled
        ? {
            mdns: mdnsDiscovery({
              serviceTag: mdnsServiceTag(keys.mdnsServiceName),
              queryIntervalInitialMs: profile.mdnsIntervalInitialMs,
              queryIntervalMaxMs: profile.mdnsIntervalMaxMs
            })
          }
        : {}),
      ...(dht !== undefined
        ? {
            dht: dht.kadDHT({
              protocol: `${keys.dhtProtocolPrefix}${DHT_PROTOCOL_SUFFIX}`,
              // Server mode: on a LAN every node should answer, or routing tables stay empty.
              clientMode: false,
              // The default mapper strips private addresses, which are all a LAN has.
              peerInfoMapper: dht.removePublicAddressesMapper,
              allowQueryWithZeroPeers: false
            })
          }
        : {})
    }
  }
}

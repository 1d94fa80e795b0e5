// Whether a node has any way to find the others: said at start by `run` and by `config check`.
import type { ResolvedOptions } from '@p2p-bootstrap/bootstrapper'

/**
 * Why this node can find nobody, or undefined: mDNS and the DHT off and no static peer, while the
 * cluster needs more than this node. Not refused (another node may list this one and dial it),
 * but logged as an error, or it would wait for peers forever without a word.
 */
export function noDiscoveryProblem (options: Pick<ResolvedOptions, 'mdns' | 'dht' | 'peers' | 'shape'>): string | undefined {
  if (options.mdns || options.dht || options.peers.length > 0 || options.shape.expect === 1) return undefined
  return 'no way to find other nodes: mDNS and the DHT are off and no static peer is given, so this node waits until another dials it; ' +
    'give --peer ADDRESS (or peers: in the config), or turn mDNS or the DHT back on'
}

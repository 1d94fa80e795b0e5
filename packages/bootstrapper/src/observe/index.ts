/**
 * The optional HTTP listener for operators (`observe.listen`): Prometheus metrics, a health check
 * and a status page that draws the cluster. See docs/observe.md.
 */
export { ObserveServer, OBSERVE_PATHS } from './observe-server.js'
export { ObserveMetrics } from './metrics.js'
export { AgentSources, HEALTH_PROBE_FILE } from './agent-sources.js'
export type { AgentParts } from './agent-sources.js'
export { OBSERVE_LISTEN_WANTS, formatObserveListen, parseObserveListen } from './listen-address.js'
export type { ObserveListen } from './listen-address.js'
export type { HealthReport, Libp2pCounts, ObserveSources } from './sources.js'

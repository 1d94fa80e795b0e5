// The V8 options the agent runs with for its whole life: the single executable carries them
// (build-binary.mjs puts them in the blob's execArgv) and the systemd unit sets them for a Node
// install (examples/systemd/p2p-bootstrap.service, NODE_OPTIONS; a test keeps the two equal).
// benchmarks/footprint.ts measures the agent with and without them.
//
// --max-semi-space-size=1: V8's young generation is two semi-spaces that grow up to 16 MiB each
// (Node 24, 64-bit) under allocation bursts such as start-up and then stay committed. An agent
// allocates little once formed, so a 1 MiB semi-space costs a few more scavenges and keeps over
// 20 MB less resident (footprint.ts: the `run` rows with and without it).
//
// No heap limit (--max-old-space-size): the agent's data is bounded by the core's limits, and a
// limit below what a large cluster legitimately needs would turn growth into a crash loop (a
// long-lived agent must keep serving); V8's default limit is far above anything it reaches.
// Both options are allowed in NODE_OPTIONS (Node's CLI docs), which children of the unit inherit:
// a semi-space size is harmless to a Node hook, a heap limit might not be.
//
// Considered and left out (footprint.ts measures each): --lite-mode and --jitless turn WebAssembly
// off, which the noise cipher needs, so the agent cannot run with them (and lite mode runs the
// pnet cipher about a hundred times slower); --single-threaded-gc was not smaller. --optimize-for-size
// keeps several MB less resident with no loss on the warmed-up hot loops, but Node refuses it in
// NODE_OPTIONS, so the unit could not carry it for a Node install the way it carries this
// profile, and its cost while a loaded fleet forms is not measured: a candidate, not adopted.

/** @type {readonly string[]} */
export const RUNTIME_V8_OPTIONS = Object.freeze(['--max-semi-space-size=1'])

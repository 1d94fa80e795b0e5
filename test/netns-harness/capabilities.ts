// What this machine lets the harness do, probed once per process in a throwaway namespace: test
// hosts need root, iproute2's `ip netns`, bridges and veth pairs; link impairment needs the
// kernel's netem qdisc (module sch_netem), which many CI kernels and VMs lack. Each answer is a
// reason to skip, in words, or undefined when the capability is there.
import { randomBytes } from 'node:crypto'
import { runCommandSync } from './command.js'

let netnsReason: string | undefined | null = null
let netemReason: string | undefined | null = null

function probeName (): string {
  return `p2pb-probe-${process.pid}-${randomBytes(3).toString('hex')}`
}

function firstLine (text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

/** Runs `probe` inside a namespace that exists only for it; returns its answer. */
function withProbeNamespace (probe: (name: string) => string | undefined): string | undefined {
  const name = probeName()
  const added = runCommandSync('ip', ['netns', 'add', name])
  if (added.status !== 0) return `cannot create a network namespace (ip netns add: ${firstLine(added.stderr)})`
  try {
    return probe(name)
  } finally {
    runCommandSync('ip', ['netns', 'delete', name])
  }
}

function probeNetns (): string | undefined {
  if (process.platform !== 'linux') return 'real-network tests need Linux network namespaces (this is ' + process.platform + ')'
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'real-network tests need root to create network namespaces (run them as root, as CI does)'
  const list = runCommandSync('ip', ['netns', 'list'])
  if (list.status !== 0) return `iproute2 \`ip netns\` is unavailable (${firstLine(list.stderr)}); install iproute2`
  return withProbeNamespace((name) => {
    const bridge = runCommandSync('ip', ['-n', name, 'link', 'add', 'br0', 'type', 'bridge'])
    if (bridge.status !== 0) return `the kernel cannot make a bridge (${firstLine(bridge.stderr)})`
    const veth = runCommandSync('ip', ['-n', name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb'])
    if (veth.status !== 0) return `the kernel cannot make veth pairs (${firstLine(veth.stderr)})`
    return undefined
  })
}

function probeNetem (): string | undefined {
  const base = netnsSkipReason()
  if (base !== undefined) return base
  const tc = runCommandSync('tc', ['-V'])
  if (tc.status !== 0) return 'the `tc` tool (iproute2) is missing, so links cannot be given latency or loss'
  return withProbeNamespace((name) => {
    const netem = runCommandSync('ip', ['netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'])
    if (netem.status !== 0) return `tc netem is unavailable on this kernel (${firstLine(netem.stderr)}; needs sch_netem), so latency and loss cannot be emulated`
    return undefined
  })
}

/** Why test hosts cannot be made here, or undefined if they can. */
export function netnsSkipReason (): string | undefined {
  if (netnsReason === null) netnsReason = probeNetns()
  return netnsReason
}

/** Why links cannot be given latency, loss or reordering here, or undefined if they can. */
export function netemSkipReason (): string | undefined {
  if (netemReason === null) netemReason = probeNetem()
  return netemReason
}

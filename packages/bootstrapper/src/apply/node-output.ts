import { openAgentToken, openServerToken, roleOf } from '@p2p-bootstrap/core'
import type { NodeFacts, NodeId, Plan, Role } from '@p2p-bootstrap/core'
import { RenderError, renderNode } from '@p2p-bootstrap/k3s'
import type { NodeSecrets, RenderedOutput } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import { localOnly } from './apply-context.js'
import type { ApplierInit, ApplyContext, JoinDecision } from './apply-context.js'
import type { NodeOutput } from './apply-options.js'
import { hostNetwork } from './host-network.js'
import { pathUnder, writeOutputFiles } from './output-files.js'

/**
 * This node's k3s output: the plan's tokens opened with this node's keys, the files rendered for
 * its role and join decision, and their delivery, written under the root or handed to an
 * installer's callback. Nothing here starts anything.
 */

export function openSecrets (init: ApplierInit, plan: Plan, role: Role): NodeSecrets {
  try {
    const agentToken = openAgentToken(plan.secrets, init.sealingKey)
    if (role !== 'control-plane') return { agentToken }
    return { agentToken, serverToken: openServerToken(plan.secrets, init.nodeKey) }
  } catch (err) {
    throw new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `cannot open the plan's k3s tokens: ${(err as Error).message}`, { cause: err })
  }
}

/** The rendered files, or undefined after a problem was reported (nothing is written then). */
export function renderOutput (ctx: ApplyContext, plan: Plan, join: JoinDecision, caHash: string | undefined, secrets: NodeSecrets): RenderedOutput | undefined {
  const { nodeId, ledger, blocks, node } = ctx.init
  const facts = new Map<NodeId, NodeFacts>()
  // Retired nodes too: a server handing its role over may be the join target.
  for (const id of new Set([...plan.controlPlanes, ...plan.workers, ...(plan.retired ?? []), nodeId])) {
    const known = ledger.factsOf(id)
    if (known !== undefined) facts.set(id, known)
  }
  // This node's bytes depend on its own facts and its join target only; another node's facts
  // serve cross-checks (the VIP is nobody's node-ip). A node whose facts have not reached this one
  // (it died right after writing them, or they are still on their way) is rendered around; a
  // join target without a known node-ip was already waited for.
  const goneNodes = new Set([...plan.controlPlanes, ...plan.workers].filter(id => id !== nodeId && !facts.has(id)))
  const nodeIp = facts.get(nodeId)?.nodeIp ?? node.nodeIp
  if (nodeIp === undefined) {
    ctx.problem(new BootstrapperError('BOOTSTRAP_BAD_OPTION', 'this node has no node-ip: set node.ip (--node-ip) or node.interface (--interface) to an interface with an IPv4 address'))
    return undefined
  }
  const role = roleOf(plan, nodeId) ?? 'worker'
  const local = localOnly(ctx.init)
  try {
    return renderNode({
      plan,
      nodeId,
      facts,
      secrets,
      ...(caHash === undefined ? {} : { caHash }),
      ...(join.kind === 'join' ? { joinAddress: join.server, vipAnswers: join.viaVip } : {}),
      network: hostNetwork({ nodeIp, localOnly: local, ...optional('interface', node.interface), ...optional('subnet', node.subnet) }),
      localOnly: local,
      ...(blocks.kubeVip === undefined ? {} : { kubeVip: blocks.kubeVip }),
      ...(goneNodes.size === 0 ? {} : { goneNodes }),
      clusterK3s: blocks.clusterK3s,
      userK3s: blocks.nodeK3s,
      kairosK3sArgs: role === 'control-plane' ? blocks.kairosArgs.server : blocks.kairosArgs.agent
    })
  } catch (err) {
    if (!(err instanceof RenderError)) throw err
    ctx.problem(new BootstrapperError('BOOTSTRAP_RENDER_FAILED', `nothing written: ${err.message}`, { cause: err }))
    return undefined
  }
}

/**
 * Writes the files under the root, or hands them to the installer's callback; returns their
 * paths, or undefined when the callback failed (reported; `retry` is then scheduled).
 */
export async function deliverOutput (ctx: ApplyContext, plan: Plan, output: RenderedOutput, secrets: NodeSecrets, join: JoinDecision, retry: () => void): Promise<string[] | undefined> {
  const { onOutput } = ctx.init.apply
  if (onOutput === undefined) {
    const written = await writeOutputFiles(ctx.init.root, output.files, ctx.signal)
    return written.paths
  }
  const handed: NodeOutput = {
    plan,
    nodeId: ctx.init.nodeId,
    role: output.role,
    init: output.init,
    service: output.service,
    nodeName: output.nodeName,
    files: output.files,
    secrets,
    join,
    notes: output.notes
  }
  try {
    await onOutput(handed, { signal: ctx.signal })
  } catch (err) {
    if (ctx.signal.aborted) throw err
    ctx.problem(new BootstrapperError('BOOTSTRAP_HOOK_FAILED', `the onOutput callback failed: ${(err as Error).message}; retrying`, { cause: err }))
    retry()
    return undefined
  }
  return output.files.map(file => file.path)
}

/** Where the files are: under the root, or (handed to an installer) their paths on the node. */
export function pathsOf (init: ApplierInit, output: RenderedOutput): string[] {
  return output.files.map(file => init.apply.onOutput === undefined ? pathUnder(init.root, file) : file.path)
}

export function optional<K extends string> (key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>)
}

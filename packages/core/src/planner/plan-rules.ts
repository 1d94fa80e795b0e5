import type { Plan } from '../types.js'
import { CONTROL_PLANES_MAX, PLAN_NODES_MAX } from './limits.js'

/**
 * The relations every plan must keep, beyond the shape of its fields: checked by the strict
 * decoder on plans from outside, and asserted on plans we build. Returns one sentence per broken
 * rule (empty when the plan is sound).
 */
export function planProblems (plan: Plan): string[] {
  const problems: string[] = []
  const count = plan.controlPlanes.length
  if (count % 2 !== 1 || count > CONTROL_PLANES_MAX) {
    problems.push(`the plan has ${count} control planes; it must be odd and at most ${CONTROL_PLANES_MAX}`)
  }
  const listed = [...plan.controlPlanes, ...plan.workers]
  if (listed.length > PLAN_NODES_MAX) {
    problems.push(`the plan lists ${listed.length} nodes, over the limit of ${PLAN_NODES_MAX}`)
  }
  if (new Set(listed).size !== listed.length) {
    problems.push('a node is listed twice: every node has exactly one role')
  }
  const replaced = plan.replaced ?? []
  const retired = plan.retired ?? []
  const roles = new Set(listed)
  if (new Set([...replaced, ...retired]).size !== replaced.length + retired.length) {
    problems.push('a node is both replaced and retired, or named twice there')
  }
  if (replaced.some((id) => plan.controlPlanes.includes(id)) || retired.some((id) => roles.has(id))) {
    problems.push('a replaced node cannot be a control plane, and a retired node has no role')
  }
  if (plan.epoch === 1 && (replaced.length > 0 || retired.length > 0)) {
    problems.push('the bootstrap plan replaces and retires nobody')
  }
  // S1: at the bootstrap the initialiser is the first control plane; later epochs carry it unchanged.
  if (plan.epoch === 1 && plan.init !== plan.controlPlanes[0]) {
    problems.push('at epoch 1 the init node must be the first control plane')
  }
  // S1: a node initialises in place of the init node only after an epoch replaced the init node.
  if (plan.reinit !== undefined) {
    if (plan.epoch === 1 || plan.reinit === plan.init || !(replaced.includes(plan.init) || retired.includes(plan.init))) {
      problems.push('a node initialises in place of the init node only in a later epoch that replaced the init node')
    }
    if (!plan.controlPlanes.includes(plan.reinit) && !replaced.includes(plan.reinit) && !retired.includes(plan.reinit)) {
      problems.push('the node that initialises in place of the init node is a control plane, or was replaced or retired since')
    }
  }
  const recipients = Object.keys(plan.secrets.serverTokenSealed)
  const sameRecipients = recipients.length === count && plan.controlPlanes.every((id) => Object.hasOwn(plan.secrets.serverTokenSealed, id))
  if (!sameRecipients) {
    problems.push('the server token must be sealed to exactly the control-plane nodes')
  }
  if (plan.secrets.serverTokenHash === plan.secrets.agentTokenHash) {
    problems.push('the server and agent tokens must differ')
  }
  return problems
}

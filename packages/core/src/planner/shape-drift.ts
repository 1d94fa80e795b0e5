import type { ClusterShape, Plan } from '../types.js'

/**
 * S8: a committed plan outlives local settings. When this node's config no longer matches the
 * shape the plan was decided under (an operator raised `expect`, renamed the cluster, changed the
 * VIP), the plan stays as committed and the difference is reported, one sentence per setting,
 * saying what the edit does to the formed cluster. Pure: the agent logs it, shows it in `status`
 * and counts it in a metric.
 */
export function shapeDrift (plan: Plan, shape: ClusterShape): string[] {
  const drift: string[] = []
  const decided = plan.decidedUnder
  const describe = (value: number | string | undefined): string => (value === undefined ? 'not set' : String(value))
  if (shape.expect !== decided.expect) {
    drift.push(`expect is ${describe(shape.expect)} in this node's config but plan epoch ${plan.epoch} was decided under expect ${describe(decided.expect)}: ` +
      'expect only counts at the first bootstrap, so the edit has no effect on this formed cluster')
  }
  // Growth and shrinking happen through committed epochs; once the plan has the count, all is said.
  if (shape.controlPlanes !== decided.controlPlanes && shape.controlPlanes !== plan.controlPlanes.length) {
    drift.push(`controlPlanes is ${shape.controlPlanes} in this node's config but plan epoch ${plan.epoch} has ${plan.controlPlanes.length} (decided under ${decided.controlPlanes}): ` +
      'the control-plane set changes only through a committed epoch, proposed once the control planes hold the same config')
  }
  if (shape.name !== plan.name) {
    drift.push(`name is ${describe(shape.name)} in this node's config but the committed plan says ${describe(plan.name)}: the plan's name stays`)
  }
  if (shape.vip !== plan.vip) {
    drift.push(`vip is ${describe(shape.vip)} in this node's config but the committed plan says ${describe(plan.vip)}: ` +
      'the plan\'s VIP stays (every server certificate carries it); restore the old setting')
  }
  return drift
}

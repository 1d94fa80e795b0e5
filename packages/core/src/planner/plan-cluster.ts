import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import type { ClusterShape, Plan, PlanSecrets } from '../types.js'
import { assignRoles } from './assign-roles.js'
import { PlannerError } from './errors.js'
import { planProblems } from './plan-rules.js'
import { clusterIdSchema, planNameSchema, planSchema, vipSchema } from './plan-schema.js'
import type { PlannerMember } from './rank.js'

export interface PlanClusterInput {
  /** Public cluster id from the network token. */
  readonly clusterId: string
  /** The bootstrap is epoch 1; later epochs come from `planNextEpoch`. */
  readonly epoch: 1
  readonly shape: ClusterShape
  /** Members that take part in the bootstrap, in any order. */
  readonly members: ReadonlyArray<PlannerMember>
  /**
   * The sealed secrets (S3: generated once by the proposer), or a function that seals them once
   * the control planes are known, since the server token is sealed to exactly those nodes.
   */
  readonly secrets: PlanSecrets | ((controlPlanes: readonly NodeId[]) => PlanSecrets)
}

/** A plan and the notes that explain it (the same notes the plan carries). */
export interface PlanResult {
  readonly plan: Plan
  readonly notes: string[]
}

/**
 * The bootstrap plan (epoch 1). Pure and deterministic: the same members, in any order, and the
 * same secrets give the same plan. S1: exactly one init node, the first control plane.
 */
export function planCluster (input: PlanClusterInput): PlanResult {
  assert(input.epoch === 1, 'planCluster makes the bootstrap plan, epoch 1')
  checkClusterId(input.clusterId)
  checkShapeTexts(input.shape)
  const roles = assignRoles(input.shape, input.members)
  const secrets = typeof input.secrets === 'function' ? input.secrets(roles.controlPlanes) : input.secrets
  const init = roles.controlPlanes[0]
  assert(init !== undefined, 'S1: a plan has an initialiser')
  const plan: Plan = {
    clusterId: input.clusterId,
    epoch: 1,
    ...(input.shape.name !== undefined && { name: input.shape.name }),
    init,
    controlPlanes: roles.controlPlanes,
    workers: roles.workers,
    ...(input.shape.vip !== undefined && { vip: input.shape.vip }),
    // S8: the plan says under which shape it was decided; it is checked against that, not a later config.
    decidedUnder: {
      ...(input.shape.expect !== undefined && { expect: input.shape.expect }),
      controlPlanes: input.shape.controlPlanes
    },
    secrets,
    notes: roles.notes
  }
  checkSecrets(plan)
  return { plan, notes: [...roles.notes] }
}

function checkClusterId (clusterId: string): void {
  if (!clusterIdSchema.safeParse(clusterId).success) {
    throw new PlannerError('PLANNER_BAD_CLUSTER_ID', `cluster id ${JSON.stringify(clusterId.slice(0, 64))} is empty or too long: pass the id derived from the network token`)
  }
}

function checkShapeTexts (shape: ClusterShape): void {
  if (shape.name !== undefined && !planNameSchema.safeParse(shape.name).success) {
    throw new PlannerError('PLANNER_BAD_SHAPE', `cluster name ${JSON.stringify(shape.name.slice(0, 64))} is not one DNS label: use lower-case letters, digits and '-'`)
  }
  if (shape.vip !== undefined && !vipSchema.safeParse(shape.vip).success) {
    throw new PlannerError('PLANNER_BAD_SHAPE', `vip ${JSON.stringify(shape.vip.slice(0, 64))} is not an IPv4 or IPv6 address`)
  }
}

/** The roles are sound by construction, so a problem left can only come from the secrets. */
function checkSecrets (plan: Plan): void {
  const parsed = planSchema.safeParse(plan)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue !== undefined && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
    throw new PlannerError('PLANNER_BAD_SECRETS', `the plan's secrets are unusable${where}: ${issue?.message ?? 'unknown problem'}; seal them with sealPlanSecrets for the chosen control planes`)
  }
  assert(planProblems(plan).length === 0, 'the bootstrap plan is sound')
}

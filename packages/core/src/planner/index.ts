/**
 * The planner: membership, shape and node facts in, the plan of an epoch out. Pure and
 * deterministic, so every node that runs it on the same input proposes the same bytes.
 */
export { PlannerError } from './errors.js'
export type { PlannerErrorCode } from './errors.js'
export { planCluster } from './plan-cluster.js'
export type { PlanClusterInput, PlanResult } from './plan-cluster.js'
export { planNextEpoch } from './next-epoch.js'
export type { EpochChange } from './next-epoch.js'
export { assignRoles } from './assign-roles.js'
export type { RoleAssignment } from './assign-roles.js'
export {
  CONTROL_PLANE_LABEL, CONTROL_PLANE_LABEL_VALUE, compareForControlPlane, rankForControlPlane, largestOddAtMost
} from './rank.js'
export type { PlannerMember } from './rank.js'
export { encodePlan, decodePlan, planSummary, planHash } from './plan-codec.js'
export type { PlanSummary } from './plan-codec.js'
export { planSchema } from './plan-schema.js'
export { planProblems } from './plan-rules.js'
export { shapeDrift } from './shape-drift.js'
export { roleOf, isListed, isRetired, wasReplaced } from './role.js'
export { clusterOriginOf, initialiserOf, joinGraphProblems, joinTargets } from './join-graph.js'
export { nextRoleChange, planFromChange } from './reconfigure.js'
export type { ReconfigureInput, RoleChange, RoleChangeKind } from './reconfigure.js'
export { PLAN_BYTES_MAX, PLAN_NODES_MAX, CONTROL_PLANES_MAX, NOTES_MAX, NOTE_CHARS_MAX } from './limits.js'

import { P2pBootstrapError } from '../errors.js'

/** Codes of errors raised by the planner on input it cannot make a safe plan from. */
export type PlannerErrorCode =
  | 'PLANNER_NO_MEMBERS' // nothing to plan for
  | 'PLANNER_TOO_MANY_MEMBERS' // more nodes than a plan may list
  | 'PLANNER_BAD_MEMBER' // a member id that is not a node id, or listed twice
  | 'PLANNER_BAD_SHAPE' // controlPlanes, name or vip out of range
  | 'PLANNER_BAD_CLUSTER_ID' // empty or oversized cluster id
  | 'PLANNER_BAD_SECRETS' // secrets not sealed to exactly the chosen control planes, or malformed
  | 'PLANNER_NO_CHANGE' // a next epoch that would change nothing

/** Input the planner refuses; the message names the offending part and the fix. */
export class PlannerError extends P2pBootstrapError<PlannerErrorCode> {}

import { z } from 'zod'
import { isNodeId } from '../identity.js'
import { SEALED_AGENT_TOKEN_BYTES, SEALED_SERVER_TOKEN_BYTES } from '../secrets/limits.js'
import {
  CLUSTER_ID_CHARS_MAX, CONTROL_PLANES_MAX, NODE_ID_CHARS_MAX, NOTE_CHARS_MAX, NOTES_MAX,
  PLAN_NAME_CHARS_MAX, PLAN_NODES_MAX
} from './limits.js'
import { planProblems } from './plan-rules.js'
import { EXPECT_MAX } from '../token/constants.js'

/** Strict schemas of a plan and its parts, shared by the decoder and the planner's input checks. */

export const nodeIdSchema = z.string().max(NODE_ID_CHARS_MAX).refine(isNodeId, 'not an Ed25519 node id')

export const clusterIdSchema = z.string().min(1).max(CLUSTER_ID_CHARS_MAX)

/** One DNS label, as the token allows for a cluster name. */
export const planNameSchema = z.string().max(PLAN_NAME_CHARS_MAX).regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/)

export const vipSchema = z.union([z.ipv4(), z.ipv6()])

const hashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'not a hex SHA-256')

const bytesOfLength = (length: number): z.ZodType<Uint8Array> =>
  z.instanceof(Uint8Array).refine((bytes) => bytes.byteLength === length, `not a box of ${length} bytes`)

const planSecretsSchema = z.strictObject({
  serverTokenHash: hashSchema,
  agentTokenHash: hashSchema,
  serverTokenSealed: z.record(nodeIdSchema, bytesOfLength(SEALED_SERVER_TOKEN_BYTES)),
  agentTokenSealed: bytesOfLength(SEALED_AGENT_TOKEN_BYTES)
})

/** The shape a plan was decided under (S8); the ranges are the token's. */
export const decidedShapeSchema = z.strictObject({
  expect: z.int().min(1).max(EXPECT_MAX).optional(),
  controlPlanes: z.int().min(1).max(CONTROL_PLANES_MAX)
})

export const planSchema = z.strictObject({
  clusterId: clusterIdSchema,
  epoch: z.int().min(1),
  name: planNameSchema.optional(),
  init: nodeIdSchema,
  controlPlanes: z.array(nodeIdSchema).min(1).max(CONTROL_PLANES_MAX),
  workers: z.array(nodeIdSchema).max(PLAN_NODES_MAX),
  vip: vipSchema.optional(),
  decidedUnder: decidedShapeSchema,
  replaced: z.array(nodeIdSchema).min(1).max(PLAN_NODES_MAX).optional(),
  retired: z.array(nodeIdSchema).min(1).max(PLAN_NODES_MAX).optional(),
  reinit: nodeIdSchema.optional(),
  secrets: planSecretsSchema,
  notes: z.array(z.string().max(NOTE_CHARS_MAX)).max(NOTES_MAX)
}).superRefine((plan, context) => {
  for (const problem of planProblems(plan)) context.addIssue({ code: 'custom', message: problem })
})

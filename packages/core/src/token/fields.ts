import { z } from 'zod'
import {
  CONTROL_PLANES_ALLOWED, CREATED_MS_MAX, EXPECT_MAX, NAME_CHARS_MAX, SECRET_BYTES
} from './constants.js'
import { TokenError } from './errors.js'
import type { TokenShape } from './types.js'

const ipAddressSchema = z.union([z.ipv4(), z.ipv6()])
const dnsLabelPattern = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/

/**
 * Checks the shape fields and the secret; throws `TOKEN_FIELD` naming the field and the rule.
 *
 * `expect` may be below `controlPlanes` on purpose: a fleet may start with one node and still want
 * three control planes, which the planner fills by promoting later joiners (L2). So the two are
 * checked independently.
 */
export function validateTokenFields (fields: TokenShape & { secret: Uint8Array, createdMs?: number }): void {
  const { secret, createdMs, expect, controlPlanes, vip, name } = fields
  if (secret.byteLength !== SECRET_BYTES) {
    throw new TokenError('TOKEN_FIELD', `token secret is ${secret.byteLength} bytes; it must be ${SECRET_BYTES}`)
  }
  if (createdMs !== undefined && !(Number.isSafeInteger(createdMs) && createdMs >= 0 && createdMs <= CREATED_MS_MAX)) {
    throw new TokenError('TOKEN_FIELD', `token createdMs ${String(createdMs)} is invalid: use whole Unix milliseconds from 0 to ${CREATED_MS_MAX}`)
  }
  const expectWrong = expectProblem(expect)
  if (expectWrong !== null) throw new TokenError('TOKEN_FIELD', `token ${expectWrong}`)
  const controlPlanesWrong = controlPlanesProblem(controlPlanes)
  if (controlPlanesWrong !== null) throw new TokenError('TOKEN_FIELD', `token ${controlPlanesWrong}`)
  if (vip !== undefined && !ipAddressSchema.safeParse(vip).success) {
    throw new TokenError('TOKEN_FIELD', `token vip ${JSON.stringify(vip)} is not an IPv4 or IPv6 address`)
  }
  if (name !== undefined && !(name.length <= NAME_CHARS_MAX && dnsLabelPattern.test(name))) {
    throw new TokenError('TOKEN_FIELD', `token name ${JSON.stringify(name.slice(0, NAME_CHARS_MAX + 1))} is invalid: use 1 to ${NAME_CHARS_MAX} lower-case letters, digits or '-', not starting or ending with '-'`)
  }
}

/** What is wrong with a shape's `expect` (absent is fine), or null; shared by tokens and hand-built shapes. */
export function expectProblem (expect: number | undefined): string | null {
  if (expect === undefined || (Number.isSafeInteger(expect) && expect >= 1 && expect <= EXPECT_MAX)) return null
  return `expect ${String(expect)} is invalid: use a whole number of nodes from 1 to ${EXPECT_MAX}`
}

/** What is wrong with a shape's control-plane count (absent is fine), or null. */
export function controlPlanesProblem (controlPlanes: number | undefined): string | null {
  if (controlPlanes === undefined || CONTROL_PLANES_ALLOWED.includes(controlPlanes)) return null
  return `controlPlanes ${String(controlPlanes)} is invalid: use one of ${CONTROL_PLANES_ALLOWED.join(', ')} (an odd count keeps an etcd majority)`
}

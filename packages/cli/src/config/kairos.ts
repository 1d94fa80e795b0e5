/**
 * The Kairos spelling: a Kairos cloud-config, read unchanged, for the coordination part. A
 * document is read this way when it has a top-level `p2p:` block; its other top-level keys
 * (users, install, stages, hostname, …) are Kairos' business and are ignored. Read:
 *
 *   p2p.network_token            → token
 *   p2p.network_id               → cluster name (one lower-case DNS label)
 *   p2p.role                     → master: control-plane request, worker: worker request,
 *                                  auto or absent: no request
 *   p2p.minimum_nodes            → expect (0 is Kairos' "not set")
 *   p2p.disable_dht              → dht (true turns the DHT off)
 *   p2p.auto.enable[d]           → false: roles are assigned by hand, so p2p.role must be
 *                                  master or worker, and p2p.auto.ha is not read (as in Kairos)
 *   p2p.auto.ha.enable[d]        → HA on (also on when absent and master_nodes is given)
 *   p2p.auto.ha.master_nodes     → control planes = master_nodes + 1: Kairos counts the masters
 *                                  beside the init node; the sum must be 1, 3, 5 or 7
 *   kubevip.eip                  → VIP, unless kubevip.enable[d] is false (then no VIP)
 *   kubevip.interface            → node interface
 *   k3s.args                     → k3s flags for servers (a list of text, such as --disable=traefik);
 *                                  critical ones (cluster-cidr, disable, …) are cluster-wide
 *   k3s-agent.args               → k3s flags for workers (a list of text)
 *
 * `enable` is Kairos' deprecated spelling of `enabled`; both at once is an error, as in Kairos.
 * Booleans also take the YAML 1.1 words Kairos takes (yes, no, on, off).
 *
 * An empty text (`role: ""`, `network_token: ""`, `network_id: ""`) is not set, as in Kairos.
 *
 * Accepted and not acted on, each with a warning naming the key and what to provide instead
 * (kairos-warnings.ts), when it asks for something: p2p.vpn.create and p2p.vpn.use (EdgeVPN's
 * data plane: k3s then needs direct reachability), p2p.vpn.env, p2p.dns, p2p.loglevel,
 * p2p.dynamic_roles, p2p.hybrid, every other kubevip key (manifest_url, static_pod, version,
 * args, image: set the native kube-vip.image instead), and every other key of the k3s and
 * k3s-agent blocks (env, replace_args, replace_env, embedded_registry, …). k3s.enabled and
 * k3s-agent.enabled are not read, even when false: the committed plan, not the file, decides
 * whether this node runs k3s (a server) or k3s-agent (a worker). p2p.ha, which Kairos' parser
 * ignores, is ignored too. p2p.auto.ha.external_db is refused when HA is on: p2p-bootstrap runs
 * k3s with embedded etcd.
 * Unknown keys inside p2p, p2p.auto and p2p.auto.ha are errors (they are most likely typos).
 *
 * A cloud-config may also carry the native keys (kube-vip, apply, admin-keys, node.subnet, …; see
 * native.ts), except `k3s`, which here is Kairos' block.
 */
import { CONTROL_PLANES_ALLOWED } from '@p2p-bootstrap/core'
import type { Role } from '@p2p-bootstrap/core'
import { z } from 'zod'
import type { ConfigError } from './errors.js'
import { nativeFields } from './native.js'
import { KAIROS_ARGS_MAX } from './limits.js'
import {
  controlPlanesRule, interfaceRule, ipAddressRule, kairosArgRule, kairosRoleRule, listOr,
  masterNodesRule, minimumNodesRule, networkIdRule, tokenTextRule
} from './rules.js'
import { choice, emptyIsUnset, kairosFlag, list, text, wholeNumber } from './schema-kit.js'
import { formatPath, setting } from './settings.js'
import type { Setting, Settings } from './settings.js'
import type { KeyPath } from './yaml-source.js'

const enableKeys = { enable: kairosFlag().optional(), enabled: kairosFlag().optional() }
const ignored = z.unknown().optional()

const p2pSchema = z.strictObject({
  network_token: emptyIsUnset(text(tokenTextRule)),
  network_id: emptyIsUnset(text(networkIdRule)),
  role: emptyIsUnset(choice(kairosRoleRule)),
  minimum_nodes: wholeNumber(minimumNodesRule).optional(),
  disable_dht: kairosFlag().optional(),
  auto: z.strictObject({
    ...enableKeys,
    ha: z.strictObject({
      ...enableKeys,
      master_nodes: wholeNumber(masterNodesRule).optional(),
      external_db: ignored
    }).optional()
  }).optional(),
  // Shown in Kairos' installation docs, ignored by Kairos' parser: ignored here too, with a warning.
  ha: ignored,
  dns: ignored,
  vpn: ignored,
  loglevel: ignored,
  dynamic_roles: ignored,
  hybrid: ignored
})

const kubevipSchema = z.looseObject({
  ...enableKeys,
  eip: text(ipAddressRule).optional(),
  interface: text(interfaceRule).optional()
})

/** Kairos' k3s or k3s-agent block: only `args` is read; `enabled`, `env` and the rest are ignored. */
const k3sBlockSchema = z.looseObject({
  args: list(kairosArgRule, KAIROS_ARGS_MAX).nullable().optional()
})

/** A cloud-config: native keys may sit beside the Kairos blocks; anything else is ignored. */
export const kairosDocumentSchema = z.looseObject({
  ...nativeFields,
  p2p: p2pSchema.nullable(),
  kubevip: kubevipSchema.nullable().optional(),
  k3s: k3sBlockSchema.nullable().optional(),
  'k3s-agent': k3sBlockSchema.nullable().optional()
})

export type KairosDocument = z.output<typeof kairosDocumentSchema>

/** Builds a positioned error for the key at `path`; supplied by the reader, which knows lines. */
export type Fail = (path: KeyPath, message: string) => ConfigError

/** What the Kairos blocks of a cloud-config say. */
export interface KairosReading {
  readonly settings: Settings
  /** Set when kubevip is turned off explicitly: the key that did it. */
  readonly vipOff?: KeyPath
}

export function kairosSettings (document: KairosDocument, fail: Fail): KairosReading {
  const p2p = document.p2p ?? {}
  const role = roleOf(p2p.role)
  const autoOn = enabledOf(p2p.auto, ['p2p', 'auto'], fail)
  if (autoOn?.value === false && role === undefined) {
    throw fail(autoOn.path, 'is false, so Kairos leaves roles to you, but p2p.role is not master or worker: set p2p.role, or drop this key to let the nodes decide')
  }
  const kubevip = document.kubevip ?? {}
  const kubevipOn = enabledOf(kubevip, ['kubevip'], fail)
  const minimumNodes = p2p.minimum_nodes === 0 ? undefined : p2p.minimum_nodes
  const reading: KairosReading = {
    settings: {
      token: setting(p2p.network_token, ['p2p', 'network_token']),
      name: setting(p2p.network_id, ['p2p', 'network_id']),
      role: setting(role, ['p2p', 'role']),
      expect: setting(minimumNodes, ['p2p', 'minimum_nodes']),
      dht: setting(p2p.disable_dht === undefined ? undefined : !p2p.disable_dht, ['p2p', 'disable_dht']),
      controlPlanes: autoOn?.value === false ? undefined : controlPlanesOf(p2p.auto?.ha, fail),
      vip: kubevipOn?.value === false ? undefined : setting(kubevip.eip, ['kubevip', 'eip']),
      interface: setting(kubevip.interface, ['kubevip', 'interface']),
      kairosServerArgs: setting(document.k3s?.args ?? undefined, ['k3s', 'args']),
      kairosAgentArgs: setting(document['k3s-agent']?.args ?? undefined, ['k3s-agent', 'args'])
    },
    ...(kubevipOn?.value === false ? { vipOff: kubevipOn.path } : {})
  }
  return reading
}

function roleOf (kairosRole: 'master' | 'worker' | 'auto' | undefined): Role | undefined {
  if (kairosRole === 'master') return 'control-plane'
  if (kairosRole === 'worker') return 'worker'
  return undefined
}

/** `enabled`, or its deprecated spelling `enable`; both at once is refused, as Kairos does. */
function enabledOf (block: { enable?: boolean, enabled?: boolean } | undefined, path: KeyPath, fail: Fail): Setting<boolean> | undefined {
  if (block?.enable !== undefined && block.enabled !== undefined) {
    throw fail([...path, 'enable'], `and ${formatPath([...path, 'enabled'])} are both set: keep only ${formatPath([...path, 'enabled'])} (enable is its deprecated spelling)`)
  }
  if (block?.enabled !== undefined) return { value: block.enabled, path: [...path, 'enabled'] }
  if (block?.enable !== undefined) return { value: block.enable, path: [...path, 'enable'] }
  return undefined
}

type HaBlock = NonNullable<NonNullable<NonNullable<KairosDocument['p2p']>['auto']>['ha']>

/** Kairos HA: master_nodes masters beside the init node, so master_nodes + 1 control planes. */
function controlPlanesOf (ha: HaBlock | undefined, fail: Fail): Setting<number> | undefined {
  const haPath: KeyPath = ['p2p', 'auto', 'ha']
  const haOn = enabledOf(ha, haPath, fail)
  const masterNodes = ha?.master_nodes
  if (!(haOn?.value === true || (haOn === undefined && masterNodes !== undefined))) return undefined
  if (ha?.external_db !== undefined) {
    throw fail([...haPath, 'external_db'], 'is not supported: p2p-bootstrap runs k3s with embedded etcd; remove external_db or turn p2p.auto.ha off')
  }
  if (masterNodes === undefined) {
    throw fail(haOn?.path ?? haPath, 'turns HA on but p2p.auto.ha.master_nodes is not set: set it to the number of masters beside the init node (2 gives 3 control planes)')
  }
  const path: KeyPath = [...haPath, 'master_nodes']
  const controlPlanes = masterNodes + 1
  if (!controlPlanesRule.accepts(controlPlanes)) {
    const fixes = CONTROL_PLANES_ALLOWED.map((count) => count - 1)
    throw fail(path, `is ${masterNodes}: Kairos counts the masters beside the init node, so that asks for ${controlPlanes} control planes, but the count must be ${controlPlanesRule.wants} (an odd count keeps an etcd majority): set master_nodes to ${listOr(fixes)}`)
  }
  return { value: controlPlanes, path }
}

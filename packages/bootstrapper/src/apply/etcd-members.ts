import { join } from 'node:path'
import { z } from 'zod'
import type { CommandLine } from './apply-options.js'

/**
 * etcd's member list, read and changed through k3s' own etcd client certificates. Deleting a
 * server's Node is how k3s drops its etcd member (its member controller works from the Node's etcd
 * annotations), but a server that died after it joined etcd and before it registered its Node
 * leaves a member with no Node: `kubectl delete node --ignore-not-found` then "succeeds" while the
 * member still counts toward the quorum, and etcd (3.5, as k3s v1.33 embeds it) refuses to add a
 * member while a voting member is unreachable, so the successor's join would be retried for ever.
 * So a removal counts as done only once the member list no longer holds the node, and a member
 * left without a Node is removed by its id.
 *
 * Paths: k3s v1.33 writes its etcd client certificate and the etcd server CA under its data dir at
 * `server/tls/etcd/client.crt`, `client.key` and `server-ca.crt` (pkg/daemons/control/deps); its
 * embedded etcd serves clients on 127.0.0.1:2379. k3s ships no etcdctl: install one (Debian's
 * `etcd-client`), or point `apply.etcdctl` at it.
 */

export const ETCD_CLIENT_ENDPOINT = 'https://127.0.0.1:2379'
export const ETCD_CLIENT_CERT_SUBPATH = 'server/tls/etcd/client.crt'
export const ETCD_CLIENT_KEY_SUBPATH = 'server/tls/etcd/client.key'
export const ETCD_SERVER_CA_SUBPATH = 'server/tls/etcd/server-ca.crt'
const MEMBERS_MAX = 64

export interface EtcdMember {
  /** The member id in hex, as `etcdctl member remove` takes it. */
  readonly id: string
  /** k3s names a member `<node name>-<8 hex digits>`; empty while a new member has not started. */
  readonly name: string
  readonly peerUrls: readonly string[]
}

/** etcdctl with k3s' client certificates (paths under `root`); `--hex` keeps 64-bit ids exact. */
export function etcdctlArgv (etcdctl: CommandLine, root: string, dataDir: string, args: readonly string[]): string[] {
  const under = (subpath: string): string => join(root, dataDir, subpath)
  return [
    ...etcdctl,
    `--endpoints=${ETCD_CLIENT_ENDPOINT}`,
    `--cacert=${under(ETCD_SERVER_CA_SUBPATH)}`,
    `--cert=${under(ETCD_CLIENT_CERT_SUBPATH)}`,
    `--key=${under(ETCD_CLIENT_KEY_SUBPATH)}`,
    '--hex',
    ...args
  ]
}

const memberListSchema = z.object({
  members: z.array(z.object({
    ID: z.string().regex(/^[0-9a-f]{1,16}$/i),
    name: z.string().max(256).optional(),
    peerURLs: z.array(z.string().max(256)).max(16).optional()
  })).max(MEMBERS_MAX).optional()
})

/**
 * The members in `etcdctl member list -w json --hex` output; throws on anything else. etcdctl 3.4
 * (Debian's etcd-client) prints the 64-bit ids as JSON numbers even with --hex, which JSON.parse
 * would round: an id written as a number is read from the text, as a decimal, before parsing.
 */
export function parseMemberList (stdout: string): EtcdMember[] {
  let value: unknown
  try {
    value = JSON.parse(stdout.replace(/"ID":\s*([0-9]{1,20})\b/g, (_match, decimal: string) => `"ID":"${BigInt(decimal).toString(16)}"`))
  } catch (err) {
    throw new Error(`etcdctl member list printed no JSON (${(err as Error).message})`, { cause: err })
  }
  const parsed = memberListSchema.safeParse(value)
  if (!parsed.success) throw new Error(`etcdctl member list printed an unexpected shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
  return (parsed.data.members ?? []).map(member => ({ id: member.ID.toLowerCase(), name: member.name ?? '', peerUrls: member.peerURLs ?? [] }))
}

/**
 * The members that are `node`'s: named after its k3s node name (k3s appends `-<8 hex digits>`), or
 * with a peer URL on its node-ip (k3s advertises etcd peers on the node-ip, port 2380); the latter
 * also finds a member that never started under its name.
 */
export function membersOfNode (members: readonly EtcdMember[], node: { readonly nodeName: string, readonly nodeIp?: string }): EtcdMember[] {
  const peerHost = node.nodeIp === undefined ? undefined : (node.nodeIp.includes(':') ? `[${node.nodeIp}]` : node.nodeIp)
  const named = (member: EtcdMember): boolean =>
    member.name.startsWith(`${node.nodeName}-`) && /^[0-9a-f]{8}$/.test(member.name.slice(node.nodeName.length + 1))
  const peered = (member: EtcdMember): boolean =>
    peerHost !== undefined && member.peerUrls.some(url => url === `https://${peerHost}:2380` || url === `http://${peerHost}:2380`)
  return members.filter(member => named(member) || peered(member))
}

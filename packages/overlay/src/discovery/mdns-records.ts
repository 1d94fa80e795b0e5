/**
 * The mDNS records of our discovery, as plain functions: which addresses to advertise, the query
 * and answer we send, and a strict reader of what others send. A received packet is untrusted
 * input (anyone on the LAN can multicast), so every field is checked at run time and bounded; a
 * packet that fails a check is ignored, never thrown on.
 *
 * Shape (close to the libp2p mDNS spec): a query asks for PTR `<tag>`; an answer holds one PTR
 * `<tag>` → `<peer id>.<tag>` and one TXT `<peer id>.<tag>` per address, `dnsaddr=<multiaddr>`,
 * each multiaddr ending in `/p2p/<peer id>`.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerInfo } from '@libp2p/interface'
import type MulticastDns from 'multicast-dns'
import {
  DNS_LABEL_BYTES_MAX, MDNS_ADDRESSES_MAX, MDNS_QUESTIONS_MAX, MDNS_RECORDS_MAX, MDNS_TXT_BYTES_MAX
} from '../limits.js'

/** Seconds a receiver may cache our records (the libp2p mDNS value). */
const RECORD_TTL_S = 120
const DNSADDR_PREFIX = 'dnsaddr='

/** What a received response turned out to be. */
export type ParsedAnswer =
  | { readonly kind: 'peer', readonly peer: PeerInfo }
  /** Not about our service tag: another service on the LAN, or another token's nodes. */
  | { readonly kind: 'foreign' }
  /** About our tag, or too big to tell, but broken; `reason` is for logs and tests. */
  | { readonly kind: 'malformed', readonly reason: string }

type AnswerRecords = MulticastDns.ResponseOutgoingPacket['answers']

/** DNS names compare without regard to ASCII case. */
function sameName (left: string, right: string): boolean {
  return left.toLowerCase() === right.toLowerCase()
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function isLoopback (ipName: string, ip: string): boolean {
  return ipName === 'ip4' ? ip.startsWith('127.') : ip === '::1'
}

/** Addresses another host cannot dial whatever we prefer: unspecified, or IPv6 link-local (no zone). */
function isUndialable (ipName: string, ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::' || (ipName === 'ip6' && /^fe[89ab]/i.test(ip))
}

/** A plain TCP address `/ip4|ip6/<ip>/tcp/<port>[/p2p/<id>]` split up, or undefined for anything else. */
function tcpParts (address: Multiaddr): { ipName: string, ip: string, port: string, peerId: string | undefined } | undefined {
  const components = address.getComponents()
  const [ipPart, tcpPart, p2pPart] = components
  if (components.length < 2 || components.length > 3) return undefined
  if (ipPart === undefined || (ipPart.name !== 'ip4' && ipPart.name !== 'ip6') || ipPart.value === undefined) return undefined
  if (tcpPart?.name !== 'tcp' || tcpPart.value === undefined) return undefined
  if (p2pPart !== undefined && (p2pPart.name !== 'p2p' || p2pPart.value === undefined)) return undefined
  return { ipName: ipPart.name, ip: ipPart.value, port: tcpPart.value, peerId: p2pPart?.value }
}

/**
 * The `dnsaddr` values we advertise: our plain TCP addresses with `/p2p/<peer id>`. Other hosts
 * cannot reach our loopback addresses, so they are advertised only when there is nothing else
 * (a node that listens on loopback alone: tests and the single-host demo, inside a namespace).
 */
export function advertisedAddresses (addresses: readonly Multiaddr[], peerId: string): string[] {
  const routable: string[] = []
  const loopback: string[] = []
  for (const address of addresses) {
    const parts = tcpParts(address)
    if (parts === undefined || (parts.peerId !== undefined && parts.peerId !== peerId)) continue
    if (isUndialable(parts.ipName, parts.ip)) continue
    const text = `/${parts.ipName}/${parts.ip}/tcp/${parts.port}/p2p/${peerId}`
    if (new TextEncoder().encode(DNSADDR_PREFIX + text).byteLength > MDNS_TXT_BYTES_MAX) continue
    const bucket = isLoopback(parts.ipName, parts.ip) ? loopback : routable
    if (!bucket.includes(text)) bucket.push(text)
  }
  return (routable.length > 0 ? routable : loopback).slice(0, MDNS_ADDRESSES_MAX)
}

/** Our query for the tag. `id` lets us recognise our own query when multicast loops it back. */
export function queryPacket (serviceTag: string, id: number): MulticastDns.QueryOutgoingPacket {
  return { id, questions: [{ name: serviceTag, type: 'PTR', class: 'IN' }] }
}

/** Our answer: one PTR naming our instance (the peer id) and one TXT per address. */
export function answerPacket (serviceTag: string, peerId: string, dnsaddrs: readonly string[]): MulticastDns.ResponseOutgoingPacket {
  const instance = `${peerId}.${serviceTag}`
  const answers: AnswerRecords = [{ name: serviceTag, type: 'PTR', class: 'IN', ttl: RECORD_TTL_S, data: instance }]
  for (const address of dnsaddrs) {
    answers.push({ name: instance, type: 'TXT', class: 'IN', ttl: RECORD_TTL_S, data: [DNSADDR_PREFIX + address] })
  }
  return { id: 0, answers }
}

/** True if a received query asks for our tag (PTR or ANY), within the question bound. */
export function isQueryFor (packet: { questions?: unknown }, serviceTag: string): boolean {
  const { questions } = packet
  if (!Array.isArray(questions) || questions.length > MDNS_QUESTIONS_MAX) return false
  return questions.some((question: unknown) =>
    isRecord(question) &&
    typeof question.name === 'string' && sameName(question.name, serviceTag) &&
    (question.type === 'PTR' || question.type === 'ANY'))
}

/** The strings of a TXT record's data as dns-packet decodes it (a list of byte strings). */
function txtStrings (data: unknown): string[] | undefined {
  const items = Array.isArray(data) ? data : [data]
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const strings: string[] = []
  for (const item of items) {
    if (typeof item === 'string') strings.push(item)
    else if (item instanceof Uint8Array) strings.push(decoder.decode(item))
    else return undefined
  }
  return strings
}

/** One advertised address, checked against the instance's peer id; returned without `/p2p`. */
function peerAddress (text: string, peerId: string): Multiaddr | undefined {
  let address: Multiaddr
  try {
    address = multiaddr(text)
  } catch {
    return undefined
  }
  const parts = tcpParts(address)
  if (parts === undefined || parts.peerId !== peerId || isUndialable(parts.ipName, parts.ip)) return undefined
  return multiaddr(`/${parts.ipName}/${parts.ip}/tcp/${parts.port}`)
}

/** The instance label of the one PTR record for our tag, or a reason it is absent or wrong. */
function instanceOf (records: readonly unknown[], serviceTag: string): { instance: string, label: string } | 'none' | string {
  const pointers = records.filter((record): record is Record<string, unknown> =>
    isRecord(record) && record.type === 'PTR' && typeof record.name === 'string' && sameName(record.name, serviceTag))
  if (pointers.length === 0) return 'none'
  if (pointers.length > 1) return 'more than one PTR record for the tag'
  const instance = pointers[0]?.data
  const suffix = `.${serviceTag}`
  if (typeof instance !== 'string' || instance.length <= suffix.length || !sameName(instance.slice(-suffix.length), suffix)) {
    return 'the PTR record does not name an instance of the tag'
  }
  const label = instance.slice(0, -suffix.length)
  if (label.includes('.') || label.length > DNS_LABEL_BYTES_MAX) return 'the instance label is not one DNS label'
  return { instance, label }
}

/**
 * Reads a received response: the peer it announces, or why it is ignored. Checks, in order: the
 * record count bound, exactly one PTR for our tag, a peer id as the instance label, and at least
 * one and at most `MDNS_ADDRESSES_MAX` TCP addresses of that peer id in TXT records of the instance.
 */
export function parseAnswer (packet: { answers?: unknown, additionals?: unknown }, serviceTag: string): ParsedAnswer {
  const answers = packet.answers ?? []
  const additionals = packet.additionals ?? []
  if (!Array.isArray(answers) || !Array.isArray(additionals)) return { kind: 'malformed', reason: 'records are not lists' }
  if (answers.length + additionals.length > MDNS_RECORDS_MAX) return { kind: 'malformed', reason: 'too many records' }
  const records: unknown[] = [...answers, ...additionals]
  const found = instanceOf(records, serviceTag)
  if (found === 'none') return { kind: 'foreign' }
  if (typeof found === 'string') return { kind: 'malformed', reason: found }
  let id
  try {
    id = peerIdFromString(found.label)
  } catch {
    return { kind: 'malformed', reason: 'the instance label is not a peer id' }
  }
  const multiaddrs: Multiaddr[] = []
  for (const record of records) {
    if (!isRecord(record) || record.type !== 'TXT' || typeof record.name !== 'string' || !sameName(record.name, found.instance)) continue
    let strings
    try {
      strings = txtStrings(record.data)
    } catch {
      return { kind: 'malformed', reason: 'a TXT string is not UTF-8' }
    }
    if (strings === undefined) return { kind: 'malformed', reason: 'a TXT record holds something other than strings' }
    for (const text of strings) {
      if (!text.startsWith(DNSADDR_PREFIX)) continue
      if (multiaddrs.length >= MDNS_ADDRESSES_MAX) return { kind: 'malformed', reason: 'too many addresses' }
      const address = peerAddress(text.slice(DNSADDR_PREFIX.length), found.label)
      if (address === undefined) return { kind: 'malformed', reason: 'an address is not a TCP multiaddr of the peer' }
      multiaddrs.push(address)
    }
  }
  if (multiaddrs.length === 0) return { kind: 'malformed', reason: 'no address' }
  return { kind: 'peer', peer: { id, multiaddrs } }
}

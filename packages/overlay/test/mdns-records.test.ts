// Goal: the pure parts of our mDNS discovery behave as documented: the query schedule backs off
// only while the node has peers and is jittered within ±20 %, answers are coalesced to one per
// window, we advertise the right addresses, and the reader of received answers accepts our own
// answers while refusing every malformed or oversized one (without throwing).
// Method: tables of inputs against the plain functions and the AnswerLimiter, with injected
// `random` and `nowMs`; received packets are written as dns-packet decodes them (TXT data as
// lists of byte strings). No socket is opened, so no network namespace is needed.
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { AnswerLimiter } from '../src/discovery/answer-limiter.js'
import {
  advertisedAddresses, answerPacket, isQueryFor, parseAnswer, queryPacket
} from '../src/discovery/mdns-records.js'
import type { ParsedAnswer } from '../src/discovery/mdns-records.js'
import { jitteredMs, nextQueryDelayMs, nextQueryIntervalMs, startDelayMs } from '../src/discovery/query-schedule.js'
import { MDNS_ADDRESSES_MAX, MDNS_QUESTIONS_MAX, MDNS_RECORDS_MAX } from '../src/limits.js'

const TAG = '_p2pb-0a1b2c3d4e._udp.local'
const OTHER_TAG = '_p2pb-ffffffffff._udp.local'
const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
const otherPeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
const schedule = { initialMs: 1_000, maxMs: 8_000 }

/** What our answer looks like after dns-packet decoded it: TXT strings become byte strings. */
function received (packet: ReturnType<typeof answerPacket>): { answers: unknown[], additionals: unknown[] } {
  const answers = packet.answers.map(record => record.type === 'TXT'
    ? { ...record, data: [record.data].flat().map(text => Buffer.from(String(text))) }
    : record)
  return { answers, additionals: [] }
}

function txt (name: string, ...strings: Array<string | Uint8Array>): Record<string, unknown> {
  return { name, type: 'TXT', class: 'IN', ttl: 120, data: strings.map(text => typeof text === 'string' ? Buffer.from(text) : text) }
}

function ptr (data: unknown, name = TAG): Record<string, unknown> {
  return { name, type: 'PTR', class: 'IN', ttl: 120, data }
}

describe('the mDNS query schedule', () => {
  it.each<[number | undefined, boolean, number]>([
    [undefined, true, 1_000], // after the start-up query
    [undefined, false, 1_000],
    [1_000, true, 2_000], // doubles while the node has peers
    [4_000, true, 8_000],
    [8_000, true, 8_000], // capped
    [6_000, true, 8_000],
    [8_000, false, 1_000], // no peers: back to the initial interval
    [500, true, 1_000] // never below the initial interval
  ])('after an interval of %s ms with peers=%s, the next is %i ms', (previousMs, hasPeers, expectedMs) => {
    expect(nextQueryIntervalMs(previousMs, hasPeers, schedule)).toBe(expectedMs)
  })

  it('backs off step by step while connected and falls back at once when cut off', () => {
    const intervals: number[] = []
    let previous: number | undefined
    for (const hasPeers of [true, true, true, true, true, false, true]) {
      previous = nextQueryDelayMs(previous, hasPeers, schedule, () => 0.5).intervalMs
      intervals.push(previous)
    }
    expect(intervals).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 1_000, 2_000])
  })

  it.each([[0, 800], [0.5, 1_000], [0.999_999, 1_200]])('jitters by ±20 %%: random %d gives %i ms of 1000', (random, expectedMs) => {
    expect(jitteredMs(1_000, () => random)).toBe(expectedMs)
    expect(nextQueryDelayMs(undefined, false, schedule, () => random).delayMs).toBe(expectedMs)
  })

  it.each([[0, 0], [0.5, 100], [0.999_999, 200]])('waits 0–200 ms before the first query: random %d gives %i ms', (random, expectedMs) => {
    expect(startDelayMs(() => random)).toBe(expectedMs)
  })
})

describe('AnswerLimiter', () => {
  it('answers at once, then serves a burst with one answer at the end of the window', () => {
    const limiter = new AnswerLimiter(1_000)
    expect(limiter.onQuery(0)).toBe(0)
    limiter.answered(0)
    expect(limiter.onQuery(10)).toBe(990)
    expect(limiter.isPending).toBe(true)
    // Every further query of the burst rides on the scheduled answer.
    for (let atMs = 20; atMs < 1_000; atMs += 10) {
      expect(limiter.onQuery(atMs)).toBeUndefined()
    }
    limiter.answered(1_000)
    expect(limiter.isPending).toBe(false)
    expect(limiter.onQuery(1_500)).toBe(500)
    limiter.answered(2_000)
    expect(limiter.onQuery(3_000)).toBe(0)
  })

  it('answers the next query at once after a cancelled answer once the window has passed', () => {
    const limiter = new AnswerLimiter(1_000)
    limiter.answered(0)
    expect(limiter.onQuery(100)).toBe(900)
    limiter.cancel()
    expect(limiter.isPending).toBe(false)
    expect(limiter.onQuery(1_200)).toBe(0)
  })
})

describe('advertisedAddresses', () => {
  const withId = (text: string): string => `${text}/p2p/${peerId}`

  it('prefers routable TCP addresses and leaves loopback out when there are some', () => {
    const addresses = ['/ip4/127.0.0.1/tcp/4001', '/ip4/192.168.1.10/tcp/4001', '/ip6/::1/tcp/4001', '/ip6/fd00::1/tcp/4001']
      .map(text => multiaddr(withId(text)))
    expect(advertisedAddresses(addresses, peerId)).toEqual([withId('/ip4/192.168.1.10/tcp/4001'), withId('/ip6/fd00::1/tcp/4001')])
  })

  it('advertises loopback when the node listens on loopback alone, adding /p2p where missing', () => {
    const addresses = [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr(withId('/ip6/::1/tcp/4002'))]
    expect(advertisedAddresses(addresses, peerId)).toEqual([withId('/ip4/127.0.0.1/tcp/4001'), withId('/ip6/::1/tcp/4002')])
  })

  it('skips non-TCP, websocket, link-local, unspecified and other peers\' addresses, and duplicates', () => {
    const addresses = [
      '/ip4/10.0.0.1/udp/4001', '/ip4/10.0.0.1/tcp/4001/ws', '/ip6/fe80::1/tcp/4001', '/ip4/0.0.0.0/tcp/4001',
      `/ip4/10.0.0.2/tcp/4001/p2p/${otherPeerId}`, '/ip4/10.0.0.3/tcp/4001', '/ip4/10.0.0.3/tcp/4001'
    ].map(text => multiaddr(text))
    expect(advertisedAddresses(addresses, peerId)).toEqual([withId('/ip4/10.0.0.3/tcp/4001')])
  })

  it(`advertises at most ${MDNS_ADDRESSES_MAX} addresses`, () => {
    const addresses = Array.from({ length: 20 }, (_unused, index) => multiaddr(`/ip4/10.0.0.${index + 1}/tcp/4001`))
    expect(advertisedAddresses(addresses, peerId)).toHaveLength(MDNS_ADDRESSES_MAX)
  })
})

describe('isQueryFor', () => {
  it.each<[string, unknown, boolean]>([
    ['our own query', queryPacket(TAG, 7).questions, true],
    ['ANY in another case', [{ name: TAG.toUpperCase(), type: 'ANY', class: 'IN' }], true],
    ['our tag among others', [{ name: '_http._tcp.local', type: 'PTR' }, { name: TAG, type: 'PTR' }], true],
    ['another token\'s tag', queryPacket(OTHER_TAG, 7).questions, false],
    ['an A record of our tag', [{ name: TAG, type: 'A' }], false],
    ['too many questions', Array.from({ length: MDNS_QUESTIONS_MAX + 1 }, () => ({ name: TAG, type: 'PTR' })), false],
    ['questions that are not a list', { name: TAG, type: 'PTR' }, false],
    ['questions that are not records', [null, 7, TAG], false]
  ])('%s → %s', (_label, questions, expected) => {
    expect(isQueryFor({ questions }, TAG)).toBe(expected)
  })
})

describe('parseAnswer', () => {
  const addresses = [`/ip4/192.168.1.10/tcp/4001/p2p/${peerId}`, `/ip4/10.0.0.1/tcp/4002/p2p/${peerId}`]
  const instance = `${peerId}.${TAG}`

  it('reads our own answer back as the peer with its addresses (without /p2p)', () => {
    const parsed = parseAnswer(received(answerPacket(TAG, peerId, addresses)), TAG)
    expect(parsed.kind).toBe('peer')
    if (parsed.kind !== 'peer') return
    expect(parsed.peer.id.toString()).toBe(peerId)
    expect(parsed.peer.multiaddrs.map(address => address.toString())).toEqual(['/ip4/192.168.1.10/tcp/4001', '/ip4/10.0.0.1/tcp/4002'])
  })

  it('accepts addresses in additionals and TXT strings that are not addresses', () => {
    const parsed = parseAnswer({ answers: [ptr(instance)], additionals: [txt(instance, 'note=hello', `dnsaddr=${addresses[0] ?? ''}`)] }, TAG)
    expect(parsed.kind === 'peer' && parsed.peer.multiaddrs.length === 1).toBe(true)
  })

  it('calls an answer about another tag foreign', () => {
    expect(parseAnswer(received(answerPacket(OTHER_TAG, peerId, addresses)), TAG)).toEqual({ kind: 'foreign' })
    expect(parseAnswer({}, TAG)).toEqual({ kind: 'foreign' })
  })

  const tooMany = Array.from({ length: MDNS_RECORDS_MAX }, () => txt(instance, `dnsaddr=${addresses[0] ?? ''}`))
  const manyAddresses = Array.from({ length: MDNS_ADDRESSES_MAX + 1 }, (_unused, index) => `dnsaddr=/ip4/10.0.1.${index + 1}/tcp/1/p2p/${peerId}`)
  it.each<[string, { answers?: unknown, additionals?: unknown }, RegExp]>([
    ['records that are not lists', { answers: 'x' }, /lists/],
    ['too many records', { answers: [ptr(instance), ...tooMany] }, /too many records/],
    ['two PTR records for the tag', { answers: [ptr(instance), ptr(instance), txt(instance, `dnsaddr=${addresses[0] ?? ''}`)] }, /more than one/],
    ['a PTR to another tag\'s instance', { answers: [ptr(`${peerId}.${OTHER_TAG}`)] }, /instance/],
    ['a PTR whose data is not a name', { answers: [ptr(Buffer.from(instance))] }, /instance/],
    ['a PTR to the bare tag', { answers: [ptr(TAG)] }, /instance/],
    ['an instance label that is not a peer id', { answers: [ptr(`not-a-peer.${TAG}`), txt(`not-a-peer.${TAG}`, 'dnsaddr=/ip4/10.0.0.1/tcp/1')] }, /peer id/],
    ['an instance of two labels', { answers: [ptr(`a.${peerId}.${TAG}`)] }, /one DNS label/],
    ['TXT data that is not strings', { answers: [ptr(instance), { name: instance, type: 'TXT', data: [42] }] }, /other than strings/],
    ['TXT bytes that are not UTF-8', { answers: [ptr(instance), txt(instance, new Uint8Array([0x64, 0xff, 0xfe]))] }, /UTF-8/],
    ['an address that is not a multiaddr', { answers: [ptr(instance), txt(instance, 'dnsaddr=/garbage/here')] }, /TCP multiaddr/],
    ['an address of another peer', { answers: [ptr(instance), txt(instance, `dnsaddr=/ip4/10.0.0.1/tcp/1/p2p/${otherPeerId}`)] }, /TCP multiaddr/],
    ['an address without a peer id', { answers: [ptr(instance), txt(instance, 'dnsaddr=/ip4/10.0.0.1/tcp/1')] }, /TCP multiaddr/],
    ['a websocket address', { answers: [ptr(instance), txt(instance, `dnsaddr=/ip4/10.0.0.1/tcp/1/ws/p2p/${peerId}`)] }, /TCP multiaddr/],
    ['too many addresses', { answers: [ptr(instance), txt(instance, ...manyAddresses)] }, /too many addresses/],
    ['no address at all', { answers: [ptr(instance)] }, /no address/]
  ])('refuses %s as malformed', (_label, packet, reason) => {
    const parsed: ParsedAnswer = parseAnswer(packet, TAG)
    expect(parsed.kind).toBe('malformed')
    expect(parsed.kind === 'malformed' ? parsed.reason : '').toMatch(reason)
  })
})

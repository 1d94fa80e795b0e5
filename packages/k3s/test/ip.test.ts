// Goal: address arithmetic that the VIP checks rest on is right for IPv4 and IPv6, whatever way an
// address is written. Method: tables of parse, containment and sameness cases written by hand.
import { describe, expect, it } from 'vitest'
import { cidrContains, isReservedInSubnet, nonHostKind, parseCidr, parseIp, sameIp, urlHost } from '../src/ip.js'

describe('parseIp', () => {
  it.each([
    ['192.168.1.10', 4, 0xc0a8010an],
    ['0.0.0.0', 4, 0n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['fd00:10::100', 6, 0xfd000010000000000000000000000100n],
    ['FD00:10:0:0:0:0:0:100', 6, 0xfd000010000000000000000000000100n],
    ['::ffff:192.168.1.10', 6, 0xffffc0a8010an]
  ])('%s', (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value })
  })

  it.each(['', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', 'fd00::1::2', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '[::1]', 'g::1', '1:2:3:4:5:6:7'])('refuses %j', (text) => {
    expect(parseIp(text)).toBeUndefined()
  })

  it('sees one address in two spellings', () => {
    const left = parseIp('fd00::1')
    const right = parseIp('fd00:0:0::0:1')
    expect(left !== undefined && right !== undefined && sameIp(left, right)).toBe(true)
  })
})

describe('subnets', () => {
  it.each([
    ['192.168.1.0/24', '192.168.1.77', true],
    ['192.168.1.10/24', '192.168.1.77', true],
    ['192.168.1.0/24', '192.168.2.1', false],
    ['10.0.0.0/8', '10.255.255.254', true],
    ['fd00:10::/64', 'fd00:10::ffff', true],
    ['fd00:10::/64', 'fd00:11::1', false],
    ['192.168.1.0/24', 'fd00::1', false],
    ['0.0.0.0/0', '8.8.8.8', true]
  ])('%s contains %s: %s', (cidrText, ipText, inside) => {
    const cidr = parseCidr(cidrText)
    const ip = parseIp(ipText)
    if (cidr === undefined || ip === undefined) throw new Error('fixture does not parse')
    expect(cidrContains(cidr, ip)).toBe(inside)
  })

  it.each([
    ['192.168.1.0/24', '192.168.1.0', true],
    ['192.168.1.0/24', '192.168.1.255', true],
    ['192.168.1.0/24', '192.168.1.1', false],
    ['192.168.1.0/31', '192.168.1.0', false],
    ['fd00::/64', 'fd00::', true],
    ['fd00::/64', 'fd00::ffff:ffff:ffff:ffff', false]
  ])('in %s, %s is reserved: %s', (cidrText, ipText, reserved) => {
    const cidr = parseCidr(cidrText)
    const ip = parseIp(ipText)
    if (cidr === undefined || ip === undefined) throw new Error('fixture does not parse')
    expect(isReservedInSubnet(cidr, ip)).toBe(reserved)
  })

  it.each(['192.168.1.0', '192.168.1.0/33', 'fd00::/129', '192.168.1.0/024', '/24'])('refuses CIDR %j', (text) => {
    expect(parseCidr(text)).toBeUndefined()
  })

  it('brackets IPv6 hosts in URLs only', () => {
    expect(urlHost('fd00::1')).toBe('[fd00::1]')
    expect(urlHost('10.0.0.1')).toBe('10.0.0.1')
  })
})

describe('nonHostKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'],
    ['169.254.0.1', 'link-local'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'],
    ['224.0.0.251', 'multicast'], ['239.255.255.255', 'multicast'], ['ff02::fb', 'multicast'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['192.168.1.10', undefined], ['10.0.0.1', undefined], ['126.255.255.255', undefined], ['128.0.0.1', undefined],
    ['169.253.255.255', undefined], ['223.255.255.255', undefined], ['240.0.0.1', undefined],
    ['fd00:10::100', undefined], ['fec0::1', undefined], ['::2', undefined], ['::ffff:192.168.1.10', undefined]
  ])('%s is %s', (text, kind) => {
    const ip = parseIp(text)
    expect(ip).toBeDefined()
    expect(ip === undefined ? 'unparsed' : nonHostKind(ip)).toBe(kind)
  })
})

// Goal: the node's network for k3s is read from the host, and a node-ip no kubelet accepts
// (loopback, link-local, multicast, unspecified) is refused outside a dry run with an error that
// names the setting and the fix, while a dry run on loopback (the demo) still renders.
// Method: hostNetwork against hand-written interface tables.
import { describe, expect, it } from 'vitest'
import { BootstrapperError } from '../src/errors.js'
import { hostNetwork } from '../src/apply/host-network.js'
import type { InterfaceTable } from '../src/apply/host-network.js'

const table: InterfaceTable = {
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [
    { address: '192.168.1.10', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.1.10/24' },
    { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 }
  ]
}

describe('hostNetwork', () => {
  it('finds the interface and subnet of a host address', () => {
    expect(hostNetwork({ nodeIp: '192.168.1.10' }, table)).toEqual({ interface: 'eth0', subnet: '192.168.1.10/24' })
  })

  it.each([
    ['127.0.0.12', 'loopback'],
    ['fe80::1', 'link-local'],
    ['169.254.3.4', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified']
  ])('refuses %s (%s) outside a dry run, naming the option and the fix', (nodeIp, kind) => {
    let caught: unknown
    try { hostNetwork({ nodeIp, interface: 'eth0' }, table) } catch (err) { caught = err }
    expect(caught).toBeInstanceOf(BootstrapperError)
    const error = caught as BootstrapperError
    expect(error.code).toBe('BOOTSTRAP_BAD_OPTION')
    expect(error.message).toContain(`${nodeIp} is a ${kind} address`)
    expect(error.message).toContain('--node-ip')
    expect(error.message).toContain('--dry-run')
  })

  it('a dry run on loopback renders on lo, as the demo does', () => {
    expect(hostNetwork({ nodeIp: '127.0.0.12', localOnly: true }, table)).toEqual({ interface: 'lo', subnet: '127.0.0.0/8' })
  })
})

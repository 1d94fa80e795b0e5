// Goal: `metrics.listen` in a config file (native spelling, and beside a Kairos p2p: block) reaches
// createBootstrapper as `observe.listen`, which the bootstrapper's own resolveOptions accepts; a
// bad value is one error naming the file, the line, the key path, what is wanted and why. Method:
// YAML texts with known line numbers, read by the pure parseConfigText and merged by
// resolveRunSettings.
import { resolveOptions } from '@p2p-bootstrap/bootstrapper'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfigText, resolveRunSettings } from '../src/config/index.js'
import { configErrorOf } from './helpers.js'

const SOURCE = '/etc/p2p-bootstrap.yaml'

/** Parses `text`, expecting a ConfigError, and returns its message. */
function errorOf (text: string): string {
  return configErrorOf(text, SOURCE)
}

describe('metrics.listen', () => {
  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['"[::1]:9464"', { host: '::1', port: 9464 }],
    ['0.0.0.0:9100', { host: '0.0.0.0', port: 9100 }]
  ])('reads %s into observe.listen, which the bootstrapper accepts', (written, bound) => {
    const file = parseConfigText(`mdns: false\nmetrics:\n  listen: ${written}\n`, SOURCE)
    const listen = written.replace(/"/g, '')
    expect(file).toStrictEqual({ source: SOURCE, mdns: false, observe: { listen } })
    const { options } = resolveRunSettings({ token: formatToken(generateToken()) }, file, {})
    expect(options.observe).toStrictEqual({ listen })
    expect(resolveOptions(options).observe).toStrictEqual(bound)
  })

  it('leaves the listener off when the file does not ask for it', () => {
    const { options } = resolveRunSettings({ token: formatToken(generateToken()) }, parseConfigText('mdns: true\n', SOURCE), {})
    expect(options.observe).toBeUndefined()
    expect(resolveOptions(options).observe).toBeUndefined()
  })

  it('is read beside a Kairos p2p: block too', () => {
    const file = parseConfigText('p2p:\n  network_id: mill\nmetrics:\n  listen: 127.0.0.1:9464\n', SOURCE)
    expect(file.observe).toStrictEqual({ listen: '127.0.0.1:9464' })
  })

  const wants = 'must be an address and a port such as 127.0.0.1:9464 or [::1]:9464 (an IP address, IPv6 in brackets, and a port from 1 to 65535)'
  const why = '(anyone who reaches it sees the cluster\'s node ids, addresses and roles, so keep it on loopback or a management network)'

  it.each([
    ['a host name', 'mdns: true\nmetrics:\n  listen: localhost:9464\n', 3, '"localhost:9464"'],
    ['an address without a port', 'metrics:\n  listen: 127.0.0.1\n', 2, '"127.0.0.1"'],
    ['IPv6 without brackets', 'metrics:\n  listen: "::1:9464"\n', 2, '"::1:9464"'],
    ['port 0', 'metrics:\n  listen: 127.0.0.1:0\n', 2, '"127.0.0.1:0"'],
    ['a port over 65535', 'metrics:\n  listen: 127.0.0.1:65536\n', 2, '"127.0.0.1:65536"'],
    ['a bare port number', 'metrics:\n  listen: 9464\n', 2, '9464'],
    ['an IPv4 address in brackets', 'metrics:\n  listen: "[127.0.0.1]:9464"\n', 2, '"[127.0.0.1]:9464"']
  ])('refuses %s, naming the line and the key', (_label, text, line, shown) => {
    expect(errorOf(text)).toBe(`config ${SOURCE} line ${line}: metrics.listen ${wants}, got ${shown} ${why}`)
  })

  it('wants listen: once the metrics block is there', () => {
    expect(errorOf('mdns: true\nmetrics: {}\n')).toMatch(/^config \S+ line 2: metrics\.listen must be an address and a port .*, got nothing/)
  })

  it('names an unknown key in the block, and suggests the block for a misspelt one', () => {
    expect(errorOf('metrics:\n  listen: 127.0.0.1:9464\n  port: 9464\n')).toMatch(/^config \S+ line 3: metrics\.port is not a known key: the keys here are listen$/)
    expect(errorOf('metric:\n  listen: 127.0.0.1:9464\n')).toMatch(/^config \S+ line 1: metric is not a known key: did you mean metrics\?$/)
    expect(errorOf('metrics: 127.0.0.1:9464\n')).toMatch(/^config \S+ line 1: metrics must be a mapping \(key: value\), got "127\.0\.0\.1:9464"$/)
  })
})

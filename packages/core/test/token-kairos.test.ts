// Goal: a Kairos/EdgeVPN token, built the way EdgeVPN builds one, imports into our token with
// keys that depend on exactly its five secrets, deterministically; one lacking a secret is
// refused with TOKEN_KAIROS naming the field. Method: random secrets in EdgeVPN's alphabets
// (gotp base32 secrets for otp keys and room, letter strings for rendezvous and mdns), the YAML
// document EdgeVPN's `-g` prints, standard base64 of it (`-g -b`), fast-check over the secrets.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deriveKeys, formatToken, parseToken, TokenError } from '../src/index.js'

interface EdgevpnSecrets {
  dhtKey: string
  cryptoKey: string
  room: string
  rendezvous: string
  mdns: string
}

const base32Secret = fc.stringMatching(/^[A-Z2-7]{32}$/)
const letterString = fc.stringMatching(/^[a-zA-Z]{32}$/)
const secretsArbitrary: fc.Arbitrary<EdgevpnSecrets> = fc.record({
  dhtKey: base32Secret, cryptoKey: base32Secret, room: base32Secret, rendezvous: letterString, mdns: letterString
})

function edgevpnYaml (secrets: EdgevpnSecrets, intervalSeconds = 9000): string {
  return [
    'otp:',
    '  dht:',
    `    interval: ${intervalSeconds}`,
    `    key: ${secrets.dhtKey}`,
    '    length: 32',
    '  crypto:',
    `    interval: ${intervalSeconds}`,
    `    key: ${secrets.cryptoKey}`,
    '    length: 32',
    `room: ${secrets.room}`,
    `rendezvous: ${secrets.rendezvous}`,
    `mdns: ${secrets.mdns}`,
    'max_message_size: 20971520',
    ''
  ].join('\n')
}

const edgevpnToken = (yaml: string): string => Buffer.from(yaml, 'utf8').toString('base64')

describe('Kairos/EdgeVPN token import', () => {
  it('imports deterministically, with no shape, and keeps its keys through our text form', () => {
    fc.assert(fc.property(secretsArbitrary, (secrets) => {
      const text = edgevpnToken(edgevpnYaml(secrets))
      const token = parseToken(`  ${text}\n`)
      expect(token.origin).toBe('kairos')
      expect(token.secret).toHaveLength(32)
      expect([token.expect, token.controlPlanes, token.vip, token.name, token.createdMs]).toEqual([undefined, undefined, undefined, undefined, undefined])
      const again = parseToken(text)
      expect(deriveKeys(again).clusterId).toBe(deriveKeys(token).clusterId)
      const native = parseToken(formatToken(token))
      expect(native.origin).toBe('native')
      expect(deriveKeys(native).clusterId).toBe(deriveKeys(token).clusterId)
    }), { numRuns: 50 })
  })

  it('changes the keys when any one of the five secrets changes, and ignores the OTP tuning', () => {
    fc.assert(fc.property(secretsArbitrary, base32Secret, (secrets, replacement) => {
      const base = deriveKeys(parseToken(edgevpnToken(edgevpnYaml(secrets)))).clusterId
      for (const field of ['dhtKey', 'cryptoKey', 'room', 'rendezvous', 'mdns'] as const) {
        fc.pre(secrets[field] !== replacement)
        const changed = deriveKeys(parseToken(edgevpnToken(edgevpnYaml({ ...secrets, [field]: replacement })))).clusterId
        expect(changed).not.toBe(base)
      }
      expect(deriveKeys(parseToken(edgevpnToken(edgevpnYaml(secrets, 600)))).clusterId).toBe(base)
    }), { numRuns: 20 })
  })

  it('does not collide secrets that only move text between fields', () => {
    const a = { dhtKey: 'AB', cryptoKey: 'C', room: 'R', rendezvous: 'V', mdns: 'M' }
    const b = { dhtKey: 'A', cryptoKey: 'BC', room: 'R', rendezvous: 'V', mdns: 'M' }
    expect(deriveKeys(parseToken(edgevpnToken(edgevpnYaml(a)))).clusterId)
      .not.toBe(deriveKeys(parseToken(edgevpnToken(edgevpnYaml(b)))).clusterId)
  })

  const full: EdgevpnSecrets = { dhtKey: 'DHTKEY', cryptoKey: 'CRYPTOKEY', room: 'room', rendezvous: 'rdv', mdns: 'mdns' }
  it.each([
    ['otp.dht.key', edgevpnYaml(full).replace('key: DHTKEY', 'other: x'), 'lacks otp.dht.key'],
    ['otp.crypto.key', edgevpnYaml(full).replace('key: CRYPTOKEY', 'key: ""'), 'has an empty otp.crypto.key'],
    ['room', edgevpnYaml(full).replace('room: room\n', ''), 'lacks room'],
    ['rendezvous', edgevpnYaml(full).replace('rendezvous: rdv\n', ''), 'lacks rendezvous'],
    ['mdns', edgevpnYaml(full).replace('mdns: mdns\n', ''), 'lacks mdns'],
    ['otp', edgevpnYaml(full).replace(/^otp:[\s\S]*?room:/, 'room:'), 'lacks otp'],
    ['otp.dht', edgevpnYaml(full).replace(/^ {2}dht:\n(?: {4}.*\n)+/m, '  dht: text\n'), 'has the wrong kind of value at otp\\.dht']
  ])('refuses a token with a bad %s with TOKEN_KAIROS naming it in its own words', (_field, yaml, words) => {
    let error: unknown
    try { parseToken(edgevpnToken(yaml)) } catch (err) { error = err }
    expect(error).toBeInstanceOf(TokenError)
    expect((error as TokenError).code).toBe('TOKEN_KAIROS')
    expect((error as TokenError).message).toMatch(new RegExp(`^Kairos/EdgeVPN token ${words}; it needs otp\\.dht\\.key`))
    // No schema library's text ("Invalid input: expected object, received undefined").
    expect((error as TokenError).message).not.toMatch(/Invalid input|expected \w+, received/)
  })

  it.each([
    ['wrapped at 76 columns, as base64 prints it', (token: string) => token.replace(/(.{76})/g, '$1\n'), 'line breaks'],
    ['split by a space', (token: string) => `${token.slice(0, 20)} ${token.slice(20)}`, 'spaces']
  ])('refuses a Kairos token %s, saying so', (_label, damage, what) => {
    const token = edgevpnToken(edgevpnYaml(full))
    expect(token.length).toBeGreaterThan(76)
    let error: unknown
    try { parseToken(damage(token)) } catch (err) { error = err }
    expect((error as TokenError).code).toBe('TOKEN_MALFORMED')
    expect((error as TokenError).message).toMatch(new RegExp(`^token contains ${what}: it was probably wrapped or split when copied; join it into one line`))
  })

  it.each([
    ['base64 of a YAML list', edgevpnToken('- room\n- mdns\n')],
    ['base64 of binary', Buffer.from([0xff, 0xfe, 0x00, 0x81]).toString('base64')],
    ['base64 of plain text', edgevpnToken('hello world')]
  ])('treats %s as no token at all (TOKEN_PREFIX)', (_label, text) => {
    let error: unknown
    try { parseToken(text) } catch (err) { error = err }
    expect((error as TokenError).code).toBe('TOKEN_PREFIX')
  })
})

// Goal: the native token text round-trips every valid token, refuses every single-character
// change, and reaches each TokenError code with a message naming the problem.
// Method: fast-check properties over random secrets and shapes for the round trip and for
// mutations; an it.each table of hand-built bad tokens (correctly checksummed where the error
// lies deeper) for the error codes; a table of shape options for the field rules.
import { base64urlnopad } from '@scure/base'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeCanonical } from '../src/codec.js'
import { formatToken, generateToken, parseToken, TokenError } from '../src/index.js'
import type { GenerateTokenOptions, NetworkToken, TokenErrorCode } from '../src/index.js'
import { sealTokenText } from '../src/token/format.js'

const secretArbitrary = fc.uint8Array({ minLength: 32, maxLength: 32 })
const nameArbitrary = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)
const tokenArbitrary: fc.Arbitrary<NetworkToken> = fc.record({
  secret: secretArbitrary,
  createdMs: fc.option(fc.integer({ min: 0, max: 8_640_000_000_000_000 }), { nil: undefined }),
  expect: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
  controlPlanes: fc.option(fc.constantFrom(1, 3, 5, 7), { nil: undefined }),
  vip: fc.option(fc.oneof(fc.ipV4(), fc.constantFrom('::1', 'fd00::10', '2001:db8::1:0:0:1')), { nil: undefined }),
  name: fc.option(nameArbitrary, { nil: undefined })
}).map((fields) => generateToken({ ...fields, randomBytes: () => fields.secret }))

function errorOf (run: () => unknown): TokenError {
  try {
    run()
  } catch (err) {
    if (err instanceof TokenError) return err
    throw err
  }
  throw new Error('expected a TokenError, but nothing was thrown')
}

const validText = formatToken(generateToken({ expect: 5, controlPlanes: 3, name: 'line-7' }))
const [validHead = '', validPayload = '', validChecksum = ''] = validText.split('.')
const secret32 = new Uint8Array(32).fill(7)
const seal = (payloadBytes: Uint8Array): string => sealTokenText(1, base64urlnopad.encode(payloadBytes))

describe('token text', () => {
  it('round-trips every valid token, also with surrounding whitespace', () => {
    fc.assert(fc.property(tokenArbitrary, fc.constantFrom('', ' ', '\n', '\t  \r\n'), (token, space) => {
      const text = formatToken(token)
      expect(text).toMatch(/^p2pb1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{8}$/)
      const parsed = parseToken(space + text + space)
      expect(parsed).toEqual(token)
      expect(formatToken(parsed)).toBe(text)
    }))
  })

  it('rejects any single-character change', () => {
    const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code))
    fc.assert(fc.property(tokenArbitrary, fc.nat(), printable, (token, position, replacement) => {
      const text = formatToken(token)
      const index = position % text.length
      fc.pre(text[index] !== replacement)
      const changed = text.slice(0, index) + replacement + text.slice(index + 1)
      expect(() => parseToken(changed)).toThrow(TokenError)
    }), { numRuns: 2000 })
  })

  it('generates a different 32-byte secret each time from the default CSPRNG', () => {
    const first = generateToken()
    const second = generateToken()
    expect(first.secret.byteLength).toBe(32)
    expect(first.secret).not.toEqual(second.secret)
    expect(first.origin).toBe('native')
  })
})

describe('token errors', () => {
  const cases: Array<[string, string, TokenErrorCode, RegExp]> = [
    ['empty', '  \n ', 'TOKEN_EMPTY', /empty/],
    ['not a token', 'hello.world', 'TOKEN_PREFIX', /p2pb1\.<payload>\.<checksum>/],
    ['base64 but not EdgeVPN YAML', Buffer.from('just: text').toString('base64'), 'TOKEN_PREFIX', /Kairos/],
    ['unknown version', `p2pb2.${validPayload}.${validChecksum}`, 'TOKEN_VERSION', /"2" is unknown.*version 1/],
    ['version not a number', `p2pbx.${validPayload}.${validChecksum}`, 'TOKEN_VERSION', /"x" is unknown/],
    ['bad base64 character', `${validHead}.${validPayload.slice(0, 3)}!${validPayload.slice(4)}.${validChecksum}`, 'TOKEN_BASE64', /"!" at payload character 4/],
    ['impossible base64 length', sealTokenText(1, 'AAAAA'), 'TOKEN_BASE64', /base64url/],
    ['checksum part missing (truncated)', `${validHead}.${validPayload}`, 'TOKEN_CHECKSUM', /mistyped or truncated/],
    ['checksum shortened', validText.slice(0, -1), 'TOKEN_CHECKSUM', /mistyped or truncated/],
    ['payload shortened', `${validHead}.${validPayload.slice(0, -4)}.${validChecksum}`, 'TOKEN_CHECKSUM', /mistyped or truncated/],
    ['too many parts', `${validText}.x`, 'TOKEN_MALFORMED', /exactly 3/],
    ['oversized text', `p2pb1.${'A'.repeat(9000)}.AAAAAAAA`, 'TOKEN_MALFORMED', /over the limit/],
    ['payload not CBOR', seal(Uint8Array.of(0xff, 0x00)), 'TOKEN_MALFORMED', /not valid CBOR/],
    ['payload lacks the secret', seal(encodeCanonical({ e: 3 })), 'TOKEN_MALFORMED', /invalid shape at s/],
    ['payload has an unknown field', seal(encodeCanonical({ s: secret32, z: 1 })), 'TOKEN_MALFORMED', /invalid shape/],
    ['even controlPlanes', seal(encodeCanonical({ s: secret32, p: 2 })), 'TOKEN_FIELD', /controlPlanes 2 .*1, 3, 5, 7/],
    ['expect above the limit', seal(encodeCanonical({ s: secret32, e: 1001 })), 'TOKEN_FIELD', /expect 1001 .*1000/],
    ['bad vip', seal(encodeCanonical({ s: secret32, i: '10.0.0.300' })), 'TOKEN_FIELD', /vip "10\.0\.0\.300"/],
    ['short secret', seal(encodeCanonical({ s: new Uint8Array(16) })), 'TOKEN_FIELD', /secret is 16 bytes/],
    ['kairos without room', Buffer.from('otp:\n  dht:\n    key: A\n  crypto:\n    key: B\nrendezvous: C\nmdns: D\n').toString('base64'), 'TOKEN_KAIROS', /lacks room/]
  ]

  it.each(cases)('%s → %s', (_label, text, code, message) => {
    const error = errorOf(() => parseToken(text))
    expect(error.code).toBe(code)
    expect(error.message).toMatch(message)
    expect(error.name).toBe('TokenError')
  })

  it('reaches every error code in the table', () => {
    const all: TokenErrorCode[] = ['TOKEN_EMPTY', 'TOKEN_PREFIX', 'TOKEN_VERSION', 'TOKEN_BASE64', 'TOKEN_CHECKSUM', 'TOKEN_MALFORMED', 'TOKEN_FIELD', 'TOKEN_KAIROS']
    expect(new Set(cases.map(([, , code]) => code))).toEqual(new Set(all))
  })

  it('the checksum of a well-formed case really matches, so the deeper error is the one reached', () => {
    const text = seal(encodeCanonical({ s: secret32 }))
    expect(parseToken(text).secret).toEqual(secret32)
    expect(base64urlnopad.decode(text.split('.')[2] ?? '')).toHaveLength(6)
  })
})

describe('token shape rules', () => {
  it.each<[string, GenerateTokenOptions]>([
    ['expect 1 (a one-node start)', { expect: 1, controlPlanes: 3 }],
    ['expect at the limit', { expect: 1000 }],
    ['seven control planes', { controlPlanes: 7 }],
    ['IPv6 vip', { vip: 'fd00::5' }],
    ['63-character name', { name: 'a'.repeat(63) }],
    ['createdMs 0', { createdMs: 0 }]
  ])('accepts %s', (_label, options) => {
    const token = generateToken(options)
    expect(parseToken(formatToken(token))).toEqual(token)
  })

  it.each<[string, GenerateTokenOptions, RegExp]>([
    ['expect 0', { expect: 0 }, /expect 0/],
    ['fractional expect', { expect: 2.5 }, /expect 2\.5/],
    ['expect above the limit', { expect: 1001 }, /expect 1001/],
    ['even controlPlanes', { controlPlanes: 4 }, /controlPlanes 4/],
    ['nine control planes', { controlPlanes: 9 }, /controlPlanes 9/],
    ['hostname as vip', { vip: 'vip.local' }, /vip "vip\.local"/],
    ['upper-case name', { name: 'Shop' }, /name "Shop"/],
    ['name ending with a dash', { name: 'shop-' }, /name "shop-"/],
    ['64-character name', { name: 'a'.repeat(64) }, /name/],
    ['negative createdMs', { createdMs: -1 }, /createdMs -1/],
    ['createdMs past the last Date', { createdMs: 8_640_000_000_000_001 }, /createdMs 8640000000000001/]
  ])('refuses %s with TOKEN_FIELD', (_label, options, message) => {
    const error = errorOf(() => generateToken(options))
    expect(error.code).toBe('TOKEN_FIELD')
    expect(error.message).toMatch(message)
  })
})

// libp2p prints peer ids in base58btc without a multibase prefix; @scure/base has that alphabet.
export { base58 as base58btc } from '@scure/base'

/**
 * The two forms of a k3s join token (k3s-io/docs `docs/cli/token.md`, and `Info.ToToken` in
 * k3s-io/k3s `pkg/clientaccess/token.go`):
 *
 *   short:  <secret>
 *   secure: K10<hex SHA-256 of the cluster CA certificate>::<user>:<secret>
 *
 * The user is `server` for the server token and `node` for the agent token. The secure form lets
 * the joining node check that it talks to our cluster before it sends the secret; the init server
 * cannot use it, because its CA does not exist before its first start.
 */

const SECURE_PREFIX = 'K10'

export type TokenUser = 'server' | 'node'

/** The secure form when the CA hash is known, else the short form. */
export function joinToken (secret: string, user: TokenUser, caHash: string | undefined): string {
  return caHash === undefined ? secret : `${SECURE_PREFIX}${caHash}::${user}:${secret}`
}

import { P2pBootstrapError } from '@p2p-bootstrap/core'

/**
 * Codes of errors about the admin kubeconfig: admin keys, k3s' kubeconfig, the sealed ledger value
 * and the files the `kubeconfig` command reads and writes. Each message names the fix.
 */
export type KubeconfigErrorCode =
  | 'KUBECONFIG_BAD_ADMIN_KEY' // an admin public key (or the list of them) that cannot be used
  | 'KUBECONFIG_BAD_PRIVATE_KEY' // a private key file that is not an admin key of ours, or is damaged
  | 'KUBECONFIG_KEY_PERMISSIONS' // a private key file that other users can read
  | 'KUBECONFIG_BAD_SERVER_URL' // the server address to write is not an https URL
  | 'KUBECONFIG_INVALID' // k3s' file is not a kubeconfig (not YAML, no clusters, users or contexts)
  | 'KUBECONFIG_OVERSIZED' // a kubeconfig above the bound one sealed value may hold
  | 'KUBECONFIG_MALFORMED' // not a sealed kubeconfig of a format this version reads
  | 'KUBECONFIG_NOT_SEALED_TO_KEY' // the value holds no box for this admin key
  | 'KUBECONFIG_DAMAGED' // a box failed authentication: changed after sealing
  | 'KUBECONFIG_NOT_PUBLISHED' // no Ready control plane has published a sealed kubeconfig
  | 'KUBECONFIG_FILE_EXISTS' // refusing to replace a file without --force
  | 'KUBECONFIG_FILE' // a file could not be read or written

/** An admin kubeconfig that could not be made, sealed, fetched or opened. */
export class KubeconfigError extends P2pBootstrapError<KubeconfigErrorCode> {}

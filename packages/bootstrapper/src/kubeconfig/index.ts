/**
 * The admin kubeconfig, shared only when the cluster is configured with admin public keys: a Ready
 * control plane rewrites k3s' kubeconfig to the VIP (`adminKubeconfig`), seals it to every admin
 * key (`sealKubeconfig`) and publishes it under `node/<id>/kubeconfig`; `p2p-bootstrap kubeconfig
 * get` fetches it from the agent socket and opens it with the admin's private key
 * (`openKubeconfig`). Members without the private key only ever see sealed boxes.
 */
export { KubeconfigError } from './errors.js'
export type { KubeconfigErrorCode } from './errors.js'
export {
  ADMIN_KEYS_MAX, ADMIN_KEY_FILE_BYTES_MAX, ADMIN_PUBLIC_KEY_PREFIX, KUBECONFIG_BYTES_MAX,
  KUBECONFIG_ENTRY_NAME, SEALED_KUBECONFIG_BYTES_MAX
} from './limits.js'
export { generateAdminKey, parseAdminPrivateKey, parseAdminPublicKey } from './admin-key.js'
export type { AdminKey, GeneratedAdminKey } from './admin-key.js'
export { adminKubeconfig } from './admin-kubeconfig.js'
export {
  formatSealedKubeconfig, openKubeconfig, parseSealedKubeconfigText, sealKubeconfig
} from './sealed-kubeconfig.js'
export type { SealedKubeconfig } from './sealed-kubeconfig.js'
export { SECRET_FILE_MODE, readAdminKeyFile, writeSecretFile } from './files.js'

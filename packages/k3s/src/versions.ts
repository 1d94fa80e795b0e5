/**
 * The versions this package renders for. The flag list in `k3s-flags.ts` and the environment of
 * the kube-vip DaemonSet in `kube-vip.ts` were checked against these; moving a version means
 * re-checking both against the sources named here.
 */

/**
 * k3s release whose flags `k3s-flags.ts` lists.
 *
 * Source: k3s-io/docs `docs/release-notes/v1.33.X.md` (v1.33.7+k3s1, released 2025-12-19, the
 * newest v1.33 patch listed there).
 */
export const K3S_VERSION = 'v1.33.7+k3s1'

/**
 * kube-vip image rendered unless the caller pins another one.
 *
 * Source: kube-vip v0.9.0 renamed the `vip_cidr` variable to `vip_subnet` (upgrade note quoted
 * in kube-vip/kube-vip issue #1132); v0.9.2 is the release downstream projects moved to when they
 * dropped `vip_cidr` (nutanix-cloud-native/cluster-api-provider-nutanix PR #543). The variable
 * names used are those of `pkg/kubevip/config_envvar.go` in kube-vip/kube-vip.
 */
export const KUBE_VIP_IMAGE_DEFAULT = 'ghcr.io/kube-vip/kube-vip:v0.9.2'

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
 * Source: kube-vip/kube-vip at tag v1.2.3. Every variable `kube-vip.ts` sets (vip_arp, port,
 * vip_nodename, vip_interface, vip_subnet, cp_enable, cp_namespace, svc_enable,
 * vip_leaderelection, vip_leasename, vip_leaseduration, vip_renewdeadline, vip_retryperiod,
 * address) is still named so in `pkg/kubevip/config_envvar.go`; between v0.9.2 and v1.2.3 that
 * file only adds variables, and the new behaviours are off by default (`cmd/kube-vip.go`:
 * loseLeadership and allowInterfaceNotUp default false). The ClusterRole rules of
 * `pkg/kubevip/config_generator.go` are unchanged since v0.9.2. `vip_cidr` was renamed
 * `vip_subnet` in v0.9.0 (upgrade note quoted in kube-vip/kube-vip issue #1132).
 */
export const KUBE_VIP_IMAGE_DEFAULT = 'ghcr.io/kube-vip/kube-vip:v1.2.3'

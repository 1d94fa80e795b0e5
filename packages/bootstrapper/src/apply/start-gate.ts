import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { NodeId, Plan } from '@p2p-bootstrap/core'
import type { RenderedFile } from '@p2p-bootstrap/k3s'
import type { PublishedStatus } from '../published-status.js'
import type { K3sService } from './apply-record.js'
import { writeOutputFiles } from './output-files.js'

/**
 * The start gate: k3s starts only when this agent says so (DESIGN §7).
 *
 * Why: a unit left enabled at boot starts before the agent runs. A server replaced while it was
 * down then rejoins etcd with a removed member (k3s answers ErrMemberRemoved, tombstones its data,
 * and on the next start joins again as a member nobody removes), and a replaced *init* node
 * (`cluster-init`, no `server:`) initialises a second cluster with the same CA, token and VIP:
 * "one cluster, never two" (S1) would fail outside the agent.
 *
 * How, in two layers:
 * 1. The agent never enables a k3s unit: it starts it (`systemctl start`) in each boot, and its
 *    stop step disables it (which also undoes an enable by k3s' install script or by hand).
 * 2. A systemd drop-in for both units, `ExecCondition=` a consent file under `/run` (a tmpfs,
 *    emptied at every boot). The agent writes the consent just before it starts the unit and
 *    removes it before it stops it, so a unit enabled by hand, or by the install script run
 *    without INSTALL_K3S_SKIP_ENABLE, is skipped by systemd at boot (ExecCondition exiting 1 to
 *    254 skips a unit without failing it; systemd 243 or later) until the agent agrees again.
 * The decision itself stays in the agent, not in a boot-time check of the plan on disk: only the
 * running agent, in touch with the fleet, can learn of an epoch committed while this node was down.
 */

/** Where the agent consents to a start, per unit; under `/run`, so never past one boot. */
export const CONSENT_DIR = '/run/p2p-bootstrap/k3s-consent'
export const GATE_DROP_IN_NAME = '50-p2p-bootstrap-gate.conf'
const SERVICES: readonly K3sService[] = ['k3s', 'k3s-agent']

export function consentPath (service: K3sService): string {
  return `${CONSENT_DIR}/${service}`
}

/** The drop-in of one unit (systemd reads `/etc/systemd/system/<unit>.d/*.conf` over the unit). */
export function gateDropIn (service: K3sService): RenderedFile {
  const content = [
    '# Written by p2p-bootstrap: this unit starts only when the p2p-bootstrap agent consents, once',
    '# per boot (/run is emptied at boot), after it confirmed this node\'s role in the latest plan.',
    '# An enable by hand or by k3s\' install script does not start it at boot. Remove this file only',
    '# together with p2p-bootstrap.',
    '[Service]',
    `ExecCondition=/bin/sh -c 'test -e ${consentPath(service)}'`,
    ''
  ].join('\n')
  return { path: `/etc/systemd/system/${service}.service.d/${GATE_DROP_IN_NAME}`, content, mode: 0o644, secret: false }
}

/** Writes both units' drop-ins under `root`; true when one changed (systemd then needs a daemon-reload). */
export async function installGate (root: string, signal: AbortSignal): Promise<boolean> {
  const written = await writeOutputFiles(root, SERVICES.map(gateDropIn), signal)
  return written.changed
}

/** Consents to starting `service` in this boot; written before the start step runs. */
export async function grantConsent (root: string, service: K3sService, epoch: number): Promise<void> {
  const path = join(root, consentPath(service))
  await mkdir(dirname(path), { recursive: true, mode: 0o755 })
  await writeFile(path, `plan epoch ${epoch}\n`, { mode: 0o644 })
}

/** Withdraws the consent: systemd skips the unit until the agent consents again. */
export async function revokeConsent (root: string, service: K3sService): Promise<void> {
  await rm(join(root, consentPath(service)), { force: true })
}

/** True when the agent consented to `service` in this boot (it started it, and has not stopped it). */
export async function hasConsent (root: string, service: K3sService): Promise<boolean> {
  return await stat(join(root, consentPath(service))).then(() => true, () => false)
}

/** What the first start of a server in this boot is checked against. */
export interface BootStartInput {
  /** The latest plan this node holds; it gives this node the control-plane role. */
  readonly plan: Plan
  readonly nodeId: NodeId
  /**
   * True once this agent, since it started, saw the member's ledger equal to its own (a digest from
   * it matched: the core's `syncedWith`), not merely a message from it or its entries on disk.
   */
  readonly heard: (nodeId: NodeId) => boolean
  readonly statusOf: (nodeId: NodeId) => PublishedStatus | null
}

/**
 * Why this server's k3s, which ran in an earlier boot, may not start yet in this one; undefined
 * when it may. The plan on disk may be stale: an epoch that replaced this node while it was down
 * is committed by a majority of the control planes (S7), and reaches this node through the ledger
 * of any of them. So the start waits until this agent heard from a majority of the plan's control
 * planes (itself counted) since it started, and while any of them says it acts on a later epoch
 * than this node holds. A single control plane cannot be replaced (its own vote is the quorum), so
 * it starts at once. Workers are not checked here: an agent joins as a client, never as an etcd
 * member or an initialiser, and a later plan that changed its role stops it.
 *
 * "Heard" is a synced ledger, not a message: a ping arrives long before the ledger sync that
 * would bring the later plan (a real-etcd test saw a replaced server start k3s in that window).
 * A replacing epoch is voted by a majority of this plan's control planes, and any two majorities
 * share one: once a majority's digests matched ours, that voter's ledger, with the epoch as far as
 * it had spread, is held here. Should
 * k3s start anyway (a plan that arrived between sync and start), it meets etcd's ErrMemberRemoved
 * and exits, and the agent withdraws its consent as soon as the plan arrives, so systemd's restart
 * of the unit is skipped. It never runs `cluster-init` either: with etcd data on disk k3s ignores
 * it.
 */
export function bootStartHold (input: BootStartInput): string | undefined {
  const { plan, nodeId, heard, statusOf } = input
  const servers = plan.controlPlanes
  const majority = Math.floor(servers.length / 2) + 1
  const others = servers.filter(id => id !== nodeId)
  const reached = others.filter(id => heard(id))
  const self = servers.includes(nodeId) ? 1 : 0
  if (reached.length + self < majority) {
    return `k3s held: this server ran k3s in an earlier boot, and the plan it holds (epoch ${plan.epoch}) may be stale; ` +
      `k3s starts once this agent has heard from ${majority} of the plan's ${servers.length} control planes (${reached.length + self} so far), ` +
      'which would bring any epoch that replaced it while it was down'
  }
  const ahead = reached.find(id => (statusOf(id)?.epoch ?? 0) > plan.epoch)
  if (ahead !== undefined) {
    return `k3s held: control plane ${short(ahead)} acts on a later plan than epoch ${plan.epoch}, the latest this node holds; k3s starts once that plan arrives and still gives this node its role`
  }
  return undefined
}

function short (nodeId: string): string {
  return nodeId.length <= 12 ? nodeId : `…${nodeId.slice(-8)}`
}

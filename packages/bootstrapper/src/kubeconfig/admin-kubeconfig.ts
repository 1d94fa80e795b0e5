import { parseDocument } from 'yaml'
import type { Document } from 'yaml'
import { z } from 'zod'
import { KubeconfigError } from './errors.js'
import { KUBECONFIG_BYTES_MAX } from './limits.js'

/** Most aliases expanded while reading k3s' file: stops "billion laughs" documents. */
const ALIAS_EXPANSIONS_MAX = 100

/**
 * The fields kubectl needs; everything else (certificate data, preferences, extensions) is kept
 * as it is. Loose objects, because a kubeconfig may carry fields this version does not know.
 */
const kubeconfigSchema = z.looseObject({
  kind: z.literal('Config').optional(),
  clusters: z.array(z.looseObject({
    name: z.string().min(1),
    cluster: z.looseObject({ server: z.string().min(1) })
  })).min(1),
  users: z.array(z.looseObject({ name: z.string().min(1), user: z.looseObject({}) })).min(1),
  contexts: z.array(z.looseObject({
    name: z.string().min(1),
    context: z.looseObject({ cluster: z.string().min(1), user: z.string().min(1) })
  })).min(1),
  'current-context': z.string().optional()
})

type Kubeconfig = z.output<typeof kubeconfigSchema>

function invalid (problem: string, cause?: unknown): KubeconfigError {
  return new KubeconfigError('KUBECONFIG_INVALID',
    `k3s' kubeconfig ${problem}; check /etc/rancher/k3s/k3s.yaml on this server (k3s rewrites it when it starts)`, { cause })
}

/**
 * The admin kubeconfig to hand out: k3s' `/etc/rancher/k3s/k3s.yaml` with every cluster's
 * `server:` replaced by `serverUrl` (`https://<vip>:6443`, an IPv6 VIP in brackets), so that it
 * keeps working when the server that wrote it is gone. Throws `KUBECONFIG_INVALID` unless the text
 * is a kubeconfig (clusters, users and contexts that refer to each other), `KUBECONFIG_OVERSIZED`
 * above `KUBECONFIG_BYTES_MAX` and `KUBECONFIG_BAD_SERVER_URL` for an address that is not https.
 */
export function adminKubeconfig (k3sYaml: string, serverUrl: string): string {
  checkServerUrl(serverUrl)
  checkSize(k3sYaml, 'k3s\' kubeconfig')
  const document = parseDocument(k3sYaml, { prettyErrors: false, uniqueKeys: true })
  const kubeconfig = readKubeconfig(document)
  // Edit the document rather than re-serialise the data, so key order and style stay k3s' own.
  try {
    kubeconfig.clusters.forEach((_entry, index) => { document.setIn(['clusters', index, 'cluster', 'server'], serverUrl) })
  } catch (err) {
    // Only a file built from YAML aliases gets here; k3s writes none.
    throw invalid(`cannot have its server rewritten (${(err as Error).message}): write it without YAML aliases`, err)
  }
  // As k3s writes it: certificate data on one line (lineWidth 0), list items not indented.
  const text = document.toString({ lineWidth: 0, indentSeq: false })
  checkSize(text, 'the admin kubeconfig')
  return text
}

function checkServerUrl (serverUrl: string): void {
  let url: URL
  try {
    url = new URL(serverUrl)
  } catch (err) {
    throw new KubeconfigError('KUBECONFIG_BAD_SERVER_URL', `server address ${JSON.stringify(serverUrl)} is not a URL: write https://<vip>:6443, with an IPv6 VIP in brackets`, { cause: err })
  }
  if (url.protocol !== 'https:' || url.hostname === '') {
    throw new KubeconfigError('KUBECONFIG_BAD_SERVER_URL', `server address ${JSON.stringify(serverUrl)} is not an https URL with a host: write https://<vip>:6443`)
  }
}

function checkSize (text: string, what: string): void {
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > KUBECONFIG_BYTES_MAX) {
    throw new KubeconfigError('KUBECONFIG_OVERSIZED', `${what} is ${bytes} bytes, over the ${KUBECONFIG_BYTES_MAX} one sealed kubeconfig may hold; k3s writes about 3 KiB, so check what else the file holds`)
  }
}

/** Parses and checks the file, including that contexts name listed clusters and users. */
function readKubeconfig (document: Document.Parsed): Kubeconfig {
  const syntaxError = document.errors[0]
  if (syntaxError !== undefined) {
    throw invalid(`is not valid YAML (${syntaxError.message.split('\n')[0] ?? syntaxError.message})`, syntaxError)
  }
  let data: unknown
  try {
    data = document.toJS({ maxAliasCount: ALIAS_EXPANSIONS_MAX })
  } catch (err) {
    throw invalid(`cannot be read as data (${(err as Error).message})`, err)
  }
  const parsed = kubeconfigSchema.safeParse(data)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue !== undefined && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
    throw invalid(`is not a kubeconfig${where}: ${issue?.message ?? 'unknown problem'} (it needs clusters, users and contexts)`)
  }
  const kubeconfig = parsed.data
  const clusters = new Set(kubeconfig.clusters.map((entry) => entry.name))
  const users = new Set(kubeconfig.users.map((entry) => entry.name))
  const contexts = new Set(kubeconfig.contexts.map((entry) => entry.name))
  for (const { name, context } of kubeconfig.contexts) {
    if (!clusters.has(context.cluster)) throw invalid(`has context ${JSON.stringify(name)} naming cluster ${JSON.stringify(context.cluster)}, which it does not list`)
    if (!users.has(context.user)) throw invalid(`has context ${JSON.stringify(name)} naming user ${JSON.stringify(context.user)}, which it does not list`)
  }
  const current = kubeconfig['current-context']
  if (current !== undefined && !contexts.has(current)) throw invalid(`has current-context ${JSON.stringify(current)}, which it does not list`)
  return kubeconfig
}

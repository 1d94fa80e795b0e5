import { createHash } from 'node:crypto'
import { PAGE_SCRIPT } from './page-script.js'

/**
 * The status page: one self-contained HTML document (inline style and script, nothing fetched but
 * `/v1/status.json`). Its Content-Security-Policy allows exactly this style and this script, by
 * hash, so nothing injected into the page could run even if a value escaped the DOM APIs.
 */

const PAGE_STYLE = `
:root { font-family: system-ui, sans-serif; color: #1f2937; background: #f8fafc; }
body { margin: 0; padding: 16px 24px; }
h1 { font-size: 20px; margin: 0 0 12px; }
h2 { font-size: 15px; margin: 16px 0 8px; }
#problem { background: #fee2e2; color: #991b1b; padding: 8px 12px; border-radius: 6px; }
.layout { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
#graph { background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; width: 900px; max-width: 100%; height: auto; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0 0 8px; font-size: 14px; }
dl.summary dt { color: #64748b; }
dl.summary dd { margin: 0; overflow-wrap: anywhere; }
aside { max-width: 360px; font-size: 13px; }
aside ul { list-style: none; padding: 0; margin: 0; }
aside li { display: flex; align-items: center; gap: 8px; margin: 4px 0; }
aside svg { flex: none; }
table { border-collapse: collapse; font-size: 13px; background: #fff; }
th, td { border-bottom: 1px solid #e2e8f0; padding: 4px 10px; text-align: left; }
th { color: #64748b; font-weight: 600; }
.glyph { stroke: #0f172a; stroke-width: 1.5; }
.role-control-plane .glyph { fill: #2563eb; }
.role-worker .glyph { fill: #16a34a; }
.role-none .glyph, .role-unknown .glyph, .role-retired .glyph { fill: #cbd5e1; stroke-dasharray: 4 3; }
.role-retired { opacity: 0.5; }
.leaving .glyph { stroke: #b45309; stroke-width: 3; stroke-dasharray: 2 3; }
td.why { max-width: 520px; }
.glyph-label { fill: #fff; font-size: 12px; font-weight: 700; text-anchor: middle; pointer-events: none; }
.role-none .glyph-label, .role-unknown .glyph-label { fill: #334155; }
.self-ring { fill: none; stroke: #f59e0b; stroke-width: 4; }
.crown { fill: #facc15; stroke: #854d0e; stroke-width: 1.5; }
.name { font-size: 12px; text-anchor: middle; fill: #0f172a; }
.self .name { font-weight: 700; }
.waits { font-size: 11px; text-anchor: middle; fill: #475569; font-style: italic; }
.name, .waits { paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
.badge rect { fill: #e2e8f0; }
.badge text { font-size: 11px; text-anchor: middle; fill: #0f172a; }
.phase-voting .badge rect { fill: #ddd6fe; }
.phase-committed .badge rect { fill: #bfdbfe; }
.phase-applied .badge rect { fill: #99f6e4; }
.phase-ready .badge rect { fill: #86efac; }
.state-suspect .glyph { stroke: #dc2626; stroke-width: 3; stroke-dasharray: 5 3; }
.state-dead, .state-left { opacity: 0.35; }
.link { stroke-width: 2; }
.link-connection { stroke: #94a3b8; }
.link-join { stroke: #1d4ed8; stroke-dasharray: 6 4; }
#arrow path { fill: #1d4ed8; }
`

const LEGEND = `
<aside>
  <h2>Legend</h2>
  <ul>
    <li><svg width="28" height="28" viewBox="-14 -14 28 28"><rect x="-11" y="-11" width="22" height="22" rx="4" fill="#2563eb" stroke="#0f172a"/></svg>control plane (k3s server), in the latest plan</li>
    <li><svg width="28" height="28" viewBox="-14 -14 28 28"><circle r="11" fill="#16a34a" stroke="#0f172a"/></svg>worker (k3s agent)</li>
    <li><svg width="28" height="28" viewBox="-14 -14 28 28"><circle r="11" fill="#cbd5e1" stroke="#0f172a" stroke-dasharray="4 3"/></svg>no role yet (no committed plan)</li>
    <li><svg width="28" height="28" viewBox="-14 -14 28 28"><circle r="11" fill="none" stroke="#f59e0b" stroke-width="4"/></svg>this node (the one serving this page)</li>
    <li><svg width="28" height="28" viewBox="-16 -50 32 24"><path d="M -14 -30 L -14 -42 L -7 -36 L 0 -46 L 7 -36 L 14 -42 L 14 -30 Z" fill="#facc15" stroke="#854d0e"/></svg>the initialiser: the one node that runs cluster-init</li>
    <li><svg width="28" height="12" viewBox="0 0 28 12"><line x1="0" y1="6" x2="28" y2="6" stroke="#94a3b8" stroke-width="2"/></svg>an open overlay connection of this node (only this node's are known here)</li>
    <li><svg width="28" height="12" viewBox="0 0 28 12"><line x1="0" y1="6" x2="22" y2="6" stroke="#1d4ed8" stroke-width="2" stroke-dasharray="6 4"/><path d="M 20 1 L 28 6 L 20 11 Z" fill="#1d4ed8"/></svg>join order: a control plane joins after the one it points to, once that one is Ready</li>
    <li><svg width="28" height="28" viewBox="-14 -14 28 28"><circle r="11" fill="#16a34a" stroke="#dc2626" stroke-width="3" stroke-dasharray="5 3"/></svg>suspect: missed probes, not yet declared dead</li>
    <li><svg width="28" height="28" viewBox="-14 -14 28 28"><circle r="11" fill="#16a34a" stroke="#0f172a" opacity="0.35"/></svg>dead or left</li>
    <li><svg width="28" height="28" viewBox="-14 -14 28 28"><circle r="11" fill="#16a34a" stroke="#b45309" stroke-width="3" stroke-dasharray="2 3"/></svg>asked to leave: an epoch will retire it</li>
    <li><svg width="28" height="28" viewBox="-14 -14 28 28"><circle r="11" fill="#cbd5e1" stroke="#0f172a" stroke-dasharray="4 3" opacity="0.5"/></svg>retired: it left, and no plan counts it again</li>
  </ul>
  <p>The badge under a node is its phase: discovering, voting, committed (plan known), applied (k3s
  started), ready (k3s Ready). Under it, what the node waits for: this node says it in its own
  words; for the others it follows from the phase they published in the ledger.</p>
  <p>Refreshed every 2 s from <code>/v1/status.json</code>. Metrics: <code>/metrics</code>; health: <code>/healthz</code>.</p>
</aside>`

const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>p2p-bootstrap status</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>p2p-bootstrap: cluster status</h1>
<p id="problem" role="alert" hidden></p>
<dl class="summary">
  <dt>this node</dt><dd id="sum-node">…</dd>
  <dt>names</dt><dd id="sum-names">…</dd>
  <dt>cluster</dt><dd id="sum-cluster">…</dd>
  <dt>cluster name</dt><dd id="sum-cluster-name">…</dd>
  <dt>phase</dt><dd id="sum-phase">…</dd>
  <dt>waiting for</dt><dd id="sum-waiting">…</dd>
  <dt>role</dt><dd id="sum-role">…</dd>
  <dt>plan epoch</dt><dd id="sum-epoch">…</dd>
  <dt>leaving</dt><dd id="sum-leaving">…</dd>
  <dt>fail-over delay</dt><dd id="sum-failover">…</dd>
  <dt>members</dt><dd id="sum-members">…</dd>
  <dt>connections</dt><dd id="sum-connections">…</dd>
  <dt>ledger</dt><dd id="sum-ledger">…</dd>
  <dt>updated</dt><dd id="sum-updated">…</dd>
</dl>
<div class="layout">
<svg id="graph" viewBox="0 0 900 600" role="img" aria-label="the cluster as this node sees it" data-draws="0" data-node-count="0">
  <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 Z"/></marker></defs>
  <g id="scene"></g>
</svg>${LEGEND}
</div>
<h2>Members</h2>
<table>
<thead><tr><th>node</th><th>k3s node</th><th>host</th><th>role</th><th>state</th><th>phase</th><th>waits for</th><th>connected</th><th>address</th><th>last heard</th></tr></thead>
<tbody id="members"></tbody>
</table>
<h2>Epochs</h2>
<p>Every committed plan this node holds, oldest first: epoch 1 is the bootstrap; each later one
changes roles (grow, replace a dead control plane, hand over or retire a node that left), proposed
by the lowest live control plane and voted by the previous epoch's control planes.</p>
<table>
<thead><tr><th>epoch</th><th>committed (UTC)</th><th>proposer</th><th>votes</th><th>control planes</th><th>replaced</th><th>retired</th><th>why</th></tr></thead>
<tbody id="epochs"></tbody>
</table>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`

function sourceHash (text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`
}

/** The page's bytes, served as is for every request of `/`. */
export const STATUS_PAGE = Buffer.from(PAGE_HTML, 'utf8')

/**
 * Only the page's own style and script (by hash), requests to this origin only, no frames, no
 * forms, no plugins, no base URL: the policy of a page that needs nothing else.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sourceHash(PAGE_SCRIPT)}`,
  `style-src ${sourceHash(PAGE_STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** For every other response (JSON, metrics, errors): nothing may run or load at all. */
export const NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

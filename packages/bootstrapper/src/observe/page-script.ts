/**
 * The status page's script, run by the browser (not by Node): it fetches `/v1/status.json` every
 * 2 s and draws the cluster as SVG. Every value from the network (node ids, addresses, what a node
 * waits for) reaches the page through `textContent` or `setAttribute`, never as markup, and class
 * names are only ever picked from fixed lists. Plain ES2020 in a string: the page loads nothing else.
 */
export const PAGE_SCRIPT = String.raw`'use strict';
(function () {
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var POLL_MS = 2000;
  var FETCH_TIMEOUT_MS = 5000;
  var WIDTH = 900;
  var HEIGHT = 600;
  var NODE_R = 24;
  var PHASES = ['discovering', 'voting', 'committed', 'applied', 'ready'];
  var ROLES = ['control-plane', 'worker', 'retired'];
  var STATES = ['self', 'alive', 'suspect', 'dead', 'left'];
  var WAITS = {
    discovering: 'the other nodes to be found',
    voting: 'a plan to be agreed',
    committed: 'its output for the plan to be written',
    applied: 'k3s to be Ready',
    ready: 'nothing: it serves'
  };
  var draws = 0;

  function byId (id) { return document.getElementById(id); }
  function known (list, value) { return list.indexOf(value) >= 0 ? value : 'unknown'; }
  function shortId (id) { return id.length <= 12 ? id : '\u2026' + id.slice(-8); }
  function clip (text, max) { return text.length <= max ? text : text.slice(0, max - 1) + '\u2026'; }

  function svg (name, attributes, text) {
    var element = document.createElementNS(SVG_NS, name);
    Object.keys(attributes || {}).forEach(function (key) { element.setAttribute(key, String(attributes[key])); });
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function html (name, text, className) {
    var element = document.createElement(name);
    if (text !== undefined) element.textContent = text;
    if (className !== undefined) element.className = className;
    return element;
  }

  /** One entry per node: the plan's control planes in join order, its workers, then other members. */
  function nodesOf (status) {
    var members = new Map();
    status.members.forEach(function (member) { members.set(member.nodeId, member); });
    var plan = status.plan;
    var order = [];
    function add (id) { if (typeof id === 'string' && order.indexOf(id) < 0) order.push(id); }
    if (plan) { plan.controlPlanes.forEach(add); plan.workers.forEach(add); }
    status.members.forEach(function (member) { add(member.nodeId); });
    return order.map(function (id) {
      var member = members.get(id) || null;
      var retired = plan && Array.isArray(plan.retired) && plan.retired.indexOf(id) >= 0;
      var role = retired ? 'retired' : plan ? (plan.controlPlanes.indexOf(id) >= 0 ? 'control-plane' : 'worker') : (member ? member.role : null);
      var phase = id === status.nodeId ? status.phase : (member ? member.phase : null);
      return {
        id: id,
        self: id === status.nodeId,
        role: role === null ? 'none' : known(ROLES, role),
        leaving: member ? member.leaving === true : false,
        init: plan ? plan.init === id : false,
        phase: phase === null ? 'unknown' : known(PHASES, phase),
        state: member ? known(STATES, member.state) : 'unknown',
        address: member && typeof member.address === 'string' ? member.address : null,
        nodeName: member && typeof member.nodeName === 'string' ? member.nodeName : null,
        hostname: member && typeof member.hostname === 'string' ? member.hostname : null,
        connected: member ? member.connected === true : false,
        lastSeenAgoMs: member ? member.lastSeenAgoMs : null,
        waits: id === status.nodeId ? String(status.waitingFor) : (phase === null ? 'nothing published yet' : (WAITS[known(PHASES, phase)] || 'unknown'))
      };
    });
  }

  function layout (count) {
    var cx = WIDTH / 2;
    var cy = HEIGHT / 2;
    if (count === 1) return [[cx, cy]];
    var rx = Math.min(WIDTH / 2 - 150, 120 + count * 30);
    var ry = Math.min(HEIGHT / 2 - 120, 90 + count * 20);
    var points = [];
    for (var i = 0; i < count; i++) {
      var angle = -Math.PI / 2 + (2 * Math.PI * i) / count;
      points.push([cx + rx * Math.cos(angle), cy + ry * Math.sin(angle)]);
    }
    return points;
  }

  /** A line between two node centres, cut short of both glyphs, shifted sideways by offset. */
  function link (from, to, kind, offset, ids) {
    var dx = to[0] - from[0];
    var dy = to[1] - from[1];
    var length = Math.hypot(dx, dy) || 1;
    var ux = dx / length;
    var uy = dy / length;
    var pad = NODE_R + 10;
    var ox = -uy * offset;
    var oy = ux * offset;
    return svg('line', {
      x1: (from[0] + ux * pad + ox).toFixed(1),
      y1: (from[1] + uy * pad + oy).toFixed(1),
      x2: (to[0] - ux * pad + ox).toFixed(1),
      y2: (to[1] - uy * pad + oy).toFixed(1),
      class: 'link link-' + kind,
      'data-link': kind,
      'data-from': ids[0],
      'data-to': ids[1]
    });
  }

  function glyph (node) {
    if (node.role === 'control-plane') return svg('rect', { x: -NODE_R, y: -NODE_R, width: 2 * NODE_R, height: 2 * NODE_R, rx: 7, class: 'glyph' });
    return svg('circle', { r: NODE_R, class: 'glyph' });
  }

  function nodeGroup (node, point) {
    var group = svg('g', {
      class: 'node role-' + node.role + ' state-' + node.state + ' phase-' + node.phase + (node.self ? ' self' : '') + (node.leaving ? ' leaving' : ''),
      transform: 'translate(' + point[0].toFixed(1) + ' ' + point[1].toFixed(1) + ')',
      'data-node-id': node.id,
      'data-role': node.role,
      'data-init': node.init ? 'true' : 'false',
      'data-phase': node.phase,
      'data-state': node.state,
      'data-self': node.self ? 'true' : 'false',
      'data-leaving': node.leaving ? 'true' : 'false'
    });
    group.append(svg('title', {}, [
      node.id + (node.self ? ' (this node)' : ''),
      'role: ' + node.role + (node.init ? ', initialiser' : '') + (node.leaving ? ', leaving' : ''),
      'state: ' + node.state + (node.connected && !node.self ? ', connected to this node' : ''),
      'phase: ' + node.phase,
      'waiting for: ' + node.waits,
      'k3s node: ' + (node.nodeName || 'unknown') + ', host: ' + (node.hostname || 'unknown'),
      'address: ' + (node.address || 'unknown')
    ].join('\n')));
    if (node.self) group.append(svg('circle', { r: NODE_R + 8, class: 'self-ring' }));
    group.append(glyph(node));
    if (node.init) {
      group.append(svg('path', { d: 'M -14 -30 L -14 -42 L -7 -36 L 0 -46 L 7 -36 L 14 -42 L 14 -30 Z', class: 'crown', 'data-marker': 'init' }));
    }
    group.append(svg('text', { y: 5, class: 'glyph-label' }, node.role === 'control-plane' ? 'CP' : (node.role === 'worker' ? 'W' : (node.role === 'retired' ? 'R' : '?'))));
    // The k3s node name when known: what kubectl get nodes lists, so the two can be matched.
    group.append(svg('text', { y: NODE_R + 20, class: 'name' }, (node.nodeName || shortId(node.id)) + (node.self ? ' (this node)' : '')));
    var badge = svg('g', { class: 'badge', transform: 'translate(0 ' + (NODE_R + 36) + ')' });
    badge.append(svg('rect', { x: -44, y: -11, width: 88, height: 18, rx: 9 }));
    badge.append(svg('text', { y: 3, class: 'phase-text' }, node.phase));
    group.append(badge);
    group.append(svg('text', { y: NODE_R + 62, class: 'waits' }, clip('waits for: ' + node.waits, 46)));
    return group;
  }

  function drawGraph (status, nodes) {
    var points = layout(nodes.length);
    var at = new Map();
    nodes.forEach(function (node, i) { at.set(node.id, points[i]); });
    var links = svg('g', { class: 'links' });
    var here = at.get(status.nodeId);
    nodes.forEach(function (node) {
      if (!node.self && node.connected && here) links.append(link(here, at.get(node.id), 'connection', 0, [status.nodeId, node.id]));
    });
    var plan = status.plan;
    if (plan) {
      plan.controlPlanes.forEach(function (id, i) {
        var before = plan.controlPlanes[i - 1];
        if (i === 0 || !at.has(id) || !at.has(before)) return;
        var line = link(at.get(id), at.get(before), 'join', 7, [id, before]);
        line.setAttribute('marker-end', 'url(#arrow)');
        links.append(line);
      });
    }
    var layer = svg('g', { class: 'nodes' });
    nodes.forEach(function (node, i) { layer.append(nodeGroup(node, points[i])); });
    byId('scene').replaceChildren(links, layer);
  }

  function describePart (status) {
    var part = status.part;
    if (part && part.retired === true) return 'retired: it left the cluster';
    if (!part) return status.role === null ? 'none yet' : String(status.role);
    if (part.role !== 'control-plane') return 'worker';
    var text = 'control plane ' + part.controlPlaneIndex + ' of ' + status.plan.controlPlanes.length;
    if (part.init) return text + ', initialises the cluster';
    return part.joinsAfter ? text + ', joins after ' + shortId(part.joinsAfter) : text;
  }

  function drawSummary (status, nodes) {
    var alive = status.members.filter(function (member) { return member.state === 'self' || member.state === 'alive'; }).length;
    var values = {
      'sum-node': status.nodeId,
      'sum-names': typeof status.nodeName === 'string' ? 'k3s node ' + status.nodeName + ', host ' + String(status.hostname) : 'unknown',
      'sum-cluster': status.clusterId,
      'sum-cluster-name': typeof status.clusterName === 'string' ? status.clusterName : '\u2014',
      'sum-phase': status.phase,
      'sum-waiting': status.waitingFor,
      'sum-role': describePart(status),
      'sum-epoch': status.plan ? String(status.plan.epoch) : 'no plan yet',
      'sum-leaving': typeof status.retiredAtEpoch === 'number' ? 'left: epoch ' + status.retiredAtEpoch + ' retired this node' : (status.leaving === true ? 'yes: waits for an epoch that retires it' : 'no'),
      'sum-failover': typeof status.failoverDelayMs === 'number' ? seconds(status.failoverDelayMs) + ' (a control plane dead this long is replaced by a live worker)' : 'unknown',
      'sum-members': alive + ' alive of ' + status.members.length + ' known' + (status.expect === null ? '' : ', ' + status.expect + ' expected'),
      'sum-connections': String(status.connections),
      'sum-ledger': String(status.ledgerEntries) + ' entries',
      'sum-updated': isoTime(status.reportedAtMs)
    };
    Object.keys(values).forEach(function (id) { byId(id).textContent = values[id]; });
    var rows = nodes.map(function (node) {
      var row = document.createElement('tr');
      row.setAttribute('data-node-id', node.id);
      var name = html('td', shortId(node.id) + (node.self ? ' (this node)' : ''));
      name.title = node.id;
      row.append(
        name,
        html('td', node.nodeName || '\u2014'),
        html('td', node.hostname || '\u2014'),
        html('td', node.role + (node.init ? ' (init)' : '') + (node.leaving ? ' (leaving)' : '')),
        html('td', node.state),
        html('td', node.phase),
        html('td', node.waits),
        html('td', node.self ? '\u2014' : (node.connected ? 'yes' : 'no')),
        html('td', node.address || '\u2014'),
        html('td', typeof node.lastSeenAgoMs === 'number' ? (node.lastSeenAgoMs / 1000).toFixed(1) + ' s ago' : '\u2014')
      );
      return row;
    });
    byId('members').replaceChildren.apply(byId('members'), rows);
    drawEpochs(status);
  }

  /** ISO 8601 in UTC to the second (2026-12-07T20:22:24Z): 24-hour, and read the same everywhere. */
  function isoTime (ms) {
    var date = new Date(ms);
    return isNaN(date.getTime()) ? '\u2014' : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  function seconds (ms) {
    var s = Math.round(ms / 1000);
    return s >= 120 ? Math.round(s / 60) + ' min' : s + ' s';
  }

  function ids (list) {
    return Array.isArray(list) && list.length > 0 ? list.map(function (id) { return shortId(String(id)); }).join(', ') : '\u2014';
  }

  /** The epoch history, oldest first; every value as text. */
  function drawEpochs (status) {
    var history = Array.isArray(status.history) ? status.history : [];
    // A plan lists every node ever replaced or retired: a row shows those new in its epoch.
    function added (record, index, key) {
      var previous = history[index - 1];
      var before = previous && previous.epoch === record.epoch - 1 && Array.isArray(previous[key]) ? previous[key] : [];
      return Array.isArray(record[key]) ? record[key].filter(function (id) { return before.indexOf(id) < 0; }) : [];
    }
    var rows = history.map(function (record, index) {
      var row = document.createElement('tr');
      row.setAttribute('data-epoch', String(record.epoch));
      var proposer = html('td', shortId(String(record.proposer)));
      proposer.title = String(record.proposer);
      row.append(
        html('td', String(record.epoch)),
        html('td', isoTime(Number(record.decidedAtMs))),
        proposer,
        html('td', String(Array.isArray(record.voters) ? record.voters.length : 0)),
        html('td', ids(record.controlPlanes)),
        html('td', ids(added(record, index, 'replaced'))),
        html('td', ids(added(record, index, 'retired'))),
        html('td', Array.isArray(record.notes) && record.notes.length > 0 ? record.notes.join(' ') : (record.epoch === 1 ? 'the bootstrap plan' : '\u2014'), 'why')
      );
      return row;
    });
    byId('epochs').replaceChildren.apply(byId('epochs'), rows);
  }

  function isStatus (value) {
    return value !== null && typeof value === 'object' && typeof value.nodeId === 'string' &&
      Array.isArray(value.members) && typeof value.phase === 'string';
  }

  function showProblem (text) {
    var problem = byId('problem');
    problem.textContent = text;
    problem.hidden = text === '';
    byId('graph').setAttribute('data-stale', text === '' ? 'false' : 'true');
  }

  function refresh () {
    fetch('/v1/status.json', { cache: 'no-store', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
      .then(function (response) {
        if (!response.ok) throw new Error('the agent answered ' + response.status);
        return response.json();
      })
      .then(function (status) {
        if (!isStatus(status)) throw new Error('the agent sent a status of an unknown shape');
        var nodes = nodesOf(status);
        drawGraph(status, nodes);
        drawSummary(status, nodes);
        draws++;
        var graph = byId('graph');
        graph.setAttribute('data-draws', String(draws));
        graph.setAttribute('data-node-count', String(nodes.length));
        showProblem('');
      })
      .catch(function (err) {
        showProblem('Cannot read the status (' + (err && err.message ? err.message : String(err)) + '); showing the last one and retrying.');
      })
      .finally(function () { setTimeout(refresh, POLL_MS); });
  }

  refresh();
})();
`

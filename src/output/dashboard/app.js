// memtrace dashboard: plain JavaScript, no libraries, no network beyond memtrace.
// State: /dashboard/state.json once, then one "report" Server-Sent Event per
// report (/dashboard/events). Everything is drawn from the last state kept in
// memory, so sorting, expanding, search and zoom keep working after the tracer
// has ended (the page then says so).
'use strict';

var state = null;          // last state received
var updates = 0;           // states drawn
var highlighted = null;    // row key highlighted in table, chart and flame graph
var expanded = {};         // row key -> true
var sortKey = 'outstanding_bytes', sortAsc = false;
var flameZoom = null;      // index of the zoomed node, null: root
var flameTerm = '';
var source = null;
var streamErrors = 0;
var sseEvents = 0;         // states received as Server-Sent Events      // event stream errors (reconnections), for the page's data-stream

var PALETTE = ['#4a7bd0', '#e07b39', '#3aa35b', '#c44e9b', '#8c6bc8', '#c9a227', '#2b9fb0',
  '#d0504a', '#6f8f2f', '#7a5c3d', '#5a6f9f', '#b0668a', '#3f8f7f', '#a36f2a', '#6b6bd0',
  '#9c3f3f', '#4f9f4f', '#8f4fa0', '#2f7fbf', '#bf7f2f'];

function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function svgEl(tag, attrs) {
  var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  return e;
}

function fmtBytes(v) {
  if (v === null || v === undefined) return '-';
  var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0, n = Math.abs(v);
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (v < 0 ? '-' : '') + (i ? n.toFixed(n < 10 ? 2 : 1) : n.toFixed(0)) + ' ' + u[i];
}

function fmtNum(v, digits) {
  if (v === null || v === undefined) return '-';
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(2) + 'M';
  if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  return v.toFixed(digits || 0);
}

function fmtDur(s) {
  if (s === null || s === undefined || s < 0) return '-';
  if (s < 1e-3) return (s * 1e6).toFixed(0) + 'us';
  if (s < 1) return (s * 1e3).toFixed(1) + 'ms';
  if (s < 120) return s.toFixed(1) + 's';
  if (s < 7200) return (s / 60).toFixed(1) + 'm';
  return (s / 3600).toFixed(1) + 'h';
}

function fmtPct(ratio) {
  var p = 100 * ratio;
  return (p === 0 || p >= 10 ? p.toFixed(1) : p >= 0.1 ? p.toFixed(2) : p.toPrecision(2)) + '%';
}

function fmtRate(bps) {
  if (bps === null || bps === undefined) return '-';
  return (bps >= 0 ? '+' : '') + fmtBytes(bps) + '/s';
}

// The name the flame graph gives a frame (frame__name in report.c).
function frameName(f) {
  if (f.function) return f.function;
  if (f.module) return f.module.replace(/.*\//, '') + '+0x' + (f.offset || 0).toString(16);
  return '0x' + (f.ip || 0).toString(16);
}

// ---- rows: stacks, or processes in the host-wide mode ----------------------

function stackKey(id, kind) { return id + ':' + kind; }

function isSystem(st) { return st.mode === 'system' && Array.isArray(st.processes); }

// The table row a chart series belongs to: its stack, or in a sweep its process.
function seriesRowKey(key) {
  var pid = state.series_pid && state.series_pid[key];
  return pid !== undefined ? 'pid:' + pid : key;
}

// Rows of the table, one shape for both modes: key, label, numbers, details.
function rowsOf(st) {
  if (isSystem(st)) {
    // a host-wide sweep: one row per process, outstanding = anonymous RSS + swap
    return st.processes.map(function (p) {
      return {
        key: 'pid:' + p.pid, label: (p.comm || '?') + ' [' + p.pid + ']', func: p.comm, kind: 'process',
        outstanding_bytes: (p.rss_anon_bytes || 0) + (p.swap_bytes || 0),
        growth_bytes_per_s: p.growth_bytes_per_s, growth_r2: p.growth_r2, severity: p.severity,
        heap_bytes: p.heap_bytes, rss_file_bytes: p.rss_file_bytes, events: p.events,
        frames: [], raw: p
      };
    });
  }
  return (st.stacks || []).map(function (s) {
    var leaf = s.frames && s.frames.length ? frameName(s.frames[0]) : '?';
    return {
      key: stackKey(s.stack_id, s.kind), label: leaf, func: leaf, kind: s.kind,
      outstanding_bytes: s.outstanding_bytes, outstanding_allocs: s.outstanding_allocs,
      growth_bytes_per_s: s.growth_bytes_per_s, growth_r2: s.growth_r2, severity: s.severity,
      oldest_age_s: s.oldest_age_s, alloc_calls: s.alloc_calls, free_calls: s.free_calls,
      frames: s.frames || [], lifetime: s.lifetime, raw: s,
      flags: (s.truncated ? ' truncated' : '') + (s.unwind_error ? ' unwind error' : '')
    };
  });
}

var COLUMNS = [
  { key: 'rank', title: '#', num: true },
  { key: 'severity', title: 'Severity', l: true },
  { key: 'outstanding_bytes', title: 'Outstanding', num: true, fmt: fmtBytes },
  { key: 'outstanding_allocs', title: 'Allocs', num: true, fmt: fmtNum },
  { key: 'growth_bytes_per_s', title: 'Growth', num: true, fmt: fmtRate },
  { key: 'growth_r2', title: 'R\u00b2', num: true, fmt: function (v) { return v === undefined ? '-' : v.toFixed(2); } },
  { key: 'oldest_age_s', title: 'Oldest', num: true, fmt: fmtDur },
  { key: 'alloc_calls', title: 'Alloc calls', num: true, fmt: fmtNum },
  { key: 'free_calls', title: 'Free calls', num: true, fmt: fmtNum },
  { key: 'kind', title: 'Kind', l: true },
  { key: 'label', title: 'Stack (leaf first)', l: true }
];
var SYSTEM_COLUMNS = [
  { key: 'rank', title: '#', num: true },
  { key: 'severity', title: 'Severity', l: true },
  { key: 'outstanding_bytes', title: 'Anon + swap', num: true, fmt: fmtBytes },
  { key: 'growth_bytes_per_s', title: 'Growth', num: true, fmt: fmtRate },
  { key: 'growth_r2', title: 'R\u00b2', num: true, fmt: function (v) { return v === undefined || v === null ? '-' : v.toFixed(2); } },
  { key: 'heap_bytes', title: 'Heap', num: true, fmt: fmtBytes },
  { key: 'rss_file_bytes', title: 'File RSS', num: true, fmt: fmtBytes },
  { key: 'events', title: 'Events', num: true, fmt: fmtNum },
  { key: 'label', title: 'Process', l: true }
];
var SEV_RANK = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

function sortRows(rows) {
  rows.forEach(function (r, i) { r.rank = i + 1; });
  var k = sortKey;
  return rows.slice().sort(function (a, b) {
    var x = a[k], y = b[k];
    if (k === 'severity') { x = SEV_RANK[x] || 0; y = SEV_RANK[y] || 0; }
    if (x === undefined || x === null) x = -Infinity;
    if (y === undefined || y === null) y = -Infinity;
    var c = typeof x === 'string' ? x.localeCompare(y) : x - y;
    if (!c) c = a.rank - b.rank;
    return sortAsc ? c : -c;
  });
}

function drawTable() {
  var st = state, head = document.querySelector('#rows thead tr');
  var body = document.querySelector('#rows tbody');
  var system = isSystem(st), columns = system ? SYSTEM_COLUMNS : COLUMNS;
  $('rows-title').textContent = system ? 'Top processes' : 'Top stacks';
  $('rows-note').textContent = system
    ? '(' + (st.processes_total || st.processes.length) + ' processes)'
    : '(' + (st.stacks_shown || 0) + ' of ' + (st.totals ? st.totals.stacks : 0) + ' stacks; click a row for its frames)';
  head.textContent = '';
  if (!columns.some(function (c) { return c.key === sortKey; })) { sortKey = 'outstanding_bytes'; sortAsc = false; }
  columns.forEach(function (c) {
    var th = el('th', { 'data-key': c.key }, c.title);
    if (c.l) th.className = 'l';
    if (c.key === sortKey) th.classList.add('sorted');
    if (c.key === sortKey && sortAsc) th.classList.add('asc');
    th.addEventListener('click', function () {
      if (sortKey === c.key) sortAsc = !sortAsc; else { sortKey = c.key; sortAsc = c.l && c.key !== 'severity'; }
      drawTable();
    });
    head.appendChild(th);
  });
  body.textContent = '';
  sortRows(rowsOf(st)).forEach(function (r) {
    var tr = el('tr', { 'class': 'row', 'data-key': r.key, 'data-function': r.func || r.label });
    if (r.key === highlighted) tr.classList.add('hl');
    columns.forEach(function (c) {
      var v = r[c.key], td;
      if (c.key === 'severity') {
        td = el('td', { 'class': 'l' });
        if (v) td.appendChild(el('span', { 'class': 'sev sev-' + v }, v));
      } else if (c.key === 'label') {
        td = el('td', { 'class': 'l stack' }, r.label + (r.flags || ''));
      } else {
        td = el('td', c.l ? { 'class': 'l' } : {}, c.fmt ? c.fmt(v) : (v === undefined ? '' : v));
      }
      tr.appendChild(td);
    });
    tr.addEventListener('click', function () {
      expanded[r.key] = !expanded[r.key];
      highlight(expanded[r.key] ? r.key : (highlighted === r.key ? null : highlighted));
    });
    body.appendChild(tr);
    if (expanded[r.key]) body.appendChild(detailRow(r, columns.length));
  });
}

function detailRow(r, ncols) {
  var tr = el('tr', { 'class': 'detail', 'data-key': r.key });
  var td = el('td', { colspan: ncols });
  var lt = r.lifetime, p = r.raw;
  if (r.kind === 'process') {
    td.appendChild(el('div', {}, 'pid ' + p.pid + ' (' + p.comm + ')' + (p.cgroup ? ', cgroup ' + p.cgroup : '') +
      ': anonymous RSS ' + fmtBytes(p.rss_anon_bytes) + ', swap ' + fmtBytes(p.swap_bytes) +
      ', heap ' + fmtBytes(p.heap_bytes) + ', other anonymous mappings ' + fmtBytes(p.anon_map_bytes) +
      ', file RSS ' + fmtBytes(p.rss_file_bytes) + ', shared ' + fmtBytes(p.rss_shmem_bytes) +
      (p.started ? '; started ' + new Date(p.started * 1000).toLocaleString() : '')));
    tr.appendChild(td);
    return tr;
  }
  if (lt) {
    td.appendChild(el('div', {}, 'Lifetime: ' + fmtNum(lt.alloc_calls) + ' allocations, ' +
      fmtNum(lt.freed) + ' freed (p50 ' + fmtDur(lt.p50_s) + ', p90 ' + fmtDur(lt.p90_s) +
      ', p99 ' + fmtDur(lt.p99_s) + '), ' + fmtNum(lt.temporary) + ' temporary, peak ' +
      fmtBytes(lt.peak_bytes) + '; mean age ' + fmtDur(r.raw.mean_age_s) +
      (r.raw.stack_id ? '; stack ' + r.raw.stack_id : '')));
  }
  var list = el('ol', { 'class': 'frames' });
  (r.frames || []).forEach(function (f) {
    var li = el('li', f.inlined ? { 'class': 'inl' } : {}, frameName(f) + (f.inlined ? ' (inlined)' : ''));
    var src = (f.file ? f.file + (f.line ? ':' + f.line : '') : '') +
      (f.module ? '  ' + f.module.replace(/.*\//, '') + (f.offset !== null && f.offset !== undefined ? '+0x' + f.offset.toString(16) : '') : '');
    if (src) li.appendChild(el('span', { 'class': 'src' }, '  ' + src));
    list.appendChild(li);
  });
  if (!r.frames || !r.frames.length) list.appendChild(el('li', {}, 'no frames'));
  td.appendChild(list);
  tr.appendChild(td);
  return tr;
}

// ---- chart: total and the top stacks stacked, verdict changes marked ------

function seriesColor(i) { return PALETTE[i % PALETTE.length]; }

function drawChart() {
  var svg = $('chart'), h = state.history || {}, xs = h.elapsed_s || [], tot = h.outstanding_bytes || [];
  var W = svg.clientWidth || 900, H = 260, L = 70, R = 12, T = 10, B = 24;
  svg.textContent = '';
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('data-total', tot.length ? tot[tot.length - 1] : 0);
  svg.setAttribute('data-points', tot.length);
  $('chart-note').textContent = '(last ' + fmtDur(h.window_s) + ', the analysis window; ' + xs.length + ' reports)';
  if (!xs.length) return;
  var x0 = xs[0], x1 = xs[xs.length - 1]; if (x1 === x0) x1 = x0 + 1;
  var ymax = Math.max.apply(null, tot.concat([1]));
  function X(v) { return L + (v - x0) / (x1 - x0) * (W - L - R); }
  function Y(v) { return T + (1 - v / ymax) * (H - T - B); }
  for (var g = 0; g <= 4; g++) {
    var yv = ymax * g / 4;
    svg.appendChild(svgEl('line', { 'class': 'axis', x1: L, x2: W - R, y1: Y(yv), y2: Y(yv), opacity: g ? 0.3 : 1 }));
    var t = svgEl('text', { x: L - 6, y: Y(yv) + 4, 'text-anchor': 'end' }); t.textContent = fmtBytes(yv); svg.appendChild(t);
  }
  [x0, x1].forEach(function (v, i) {
    var t = svgEl('text', { x: X(v), y: H - 6, 'text-anchor': i ? 'end' : 'start' });
    t.textContent = fmtDur(v); svg.appendChild(t);
  });
  // stacked areas of the top stacks (a missing value counts as 0)
  var base = xs.map(function () { return 0; }), legend = $('legend');
  legend.textContent = '';
  var byKey = {};
  rowsOf(state).forEach(function (r) { byKey[r.key] = r; });
  (h.series || []).forEach(function (s, i) {
    var key = seriesRowKey(stackKey(s.stack_id, s.kind)), top = [], pts = [];
    s.bytes.forEach(function (b, j) { top.push(base[j] + (b || 0)); });
    for (var j = 0; j < xs.length; j++) pts.push(X(xs[j]) + ',' + Y(top[j]));
    for (j = xs.length - 1; j >= 0; j--) pts.push(X(xs[j]) + ',' + Y(base[j]));
    var poly = svgEl('polygon', { points: pts.join(' '), fill: seriesColor(i), 'class': 'area', 'data-key': key });
    if (highlighted) poly.classList.add(highlighted === key ? 'hl' : 'dim');
    poly.addEventListener('click', function () { highlight(highlighted === key ? null : key); });
    svg.appendChild(poly);
    base = top;
    var r = byKey[key], item = el('span', { 'class': 'item', 'data-key': key });
    item.appendChild(el('i', { style: 'background:' + seriesColor(i) }));
    item.appendChild(document.createTextNode((r ? r.label : s.stack_id) + ' ' +
      (r ? fmtRate(r.growth_bytes_per_s) + (r.severity ? ' ' + r.severity : '') : '')));
    item.addEventListener('click', function () { highlight(highlighted === key ? null : key); });
    legend.appendChild(item);
  });
  var line = svgEl('polyline', { 'class': 'total', points: xs.map(function (v, j) { return X(v) + ',' + Y(tot[j]); }).join(' ') });
  svg.appendChild(line);
  // a marker wherever the verdict (result or suspect) changes
  var leak = h.leak || [], sus = h.suspect || [], marks = 0;
  for (var k = 1; k < xs.length; k++) {
    if (leak[k] === leak[k - 1] && sus[k] === sus[k - 1]) continue;
    var mx = X(xs[k]);
    svg.appendChild(svgEl('line', { 'class': 'marker', x1: mx, x2: mx, y1: T, y2: H - B }));
    var lab = svgEl('text', { 'class': 'marker-label', x: mx + 3, y: T + 10 + 12 * (marks % 3) });
    lab.textContent = leak[k] ? 'possible leak' : 'ok';
    svg.appendChild(lab);
    marks++;
  }
  svg.setAttribute('data-markers', marks);
}

// ---- flame graph (icicle) from the state's pre-order node arrays ----------

var flame = null;   // {n, x, w, depth, parent, name, value, type, src, module}

function buildFlame(f) {
  var n = f && f.name ? f.name.length : 0, x = [], w = [], parent = [], next = [], stack = [];
  for (var i = 0; i < n; i++) {
    var d = f.depth[i];
    while (stack.length > d) stack.pop();
    var p = stack.length ? stack[stack.length - 1] : -1;
    parent.push(p);
    if (p < 0) { x.push(0); } else { x.push(next[p]); next[p] += f.value[i]; }
    next.push(x[i]);
    w.push(f.value[i]);
    stack.push(i);
  }
  return { n: n, x: x, w: w, parent: parent, f: f };
}

var FLAME_COLORS = { r: '#e07846', a: '#8fd08f', u: '#c4c4c4' };

function flameColor(i) {
  var f = flame.f, t = f.type[i], h = 0, s = f.name[i];
  if (FLAME_COLORS[t]) return FLAME_COLORS[t];
  for (var k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) >>> 0;
  if (t === 'i') return 'rgb(' + (50 + h % 60) + ',' + (165 + (h >> 8) % 55) + ',' + (165 + (h >> 8) % 55) + ')';
  return 'rgb(' + (205 + h % 50) + ',' + ((h >> 8) % 230) + ',' + ((h >> 16) % 55) + ')';
}

function isAncestor(a, i) {
  for (var p = i; p >= 0; p = flame.parent[p]) if (p === a) return true;
  return false;
}

// Nodes on the path of row key (a stack): its frames from the root down.
function flamePath(key) {
  var path = {}, rows = rowsOf(state), row = null;
  rows.forEach(function (r) { if (r.key === key) row = r; });
  if (!row || !row.frames || !flame) return path;
  var names = row.frames.map(frameName).reverse(), cur = 0, f = flame.f;
  for (var k = 0; k < names.length; k++) {
    var found = -1;
    for (var i = cur + 1; i < flame.n && f.depth[i] > f.depth[cur]; i++)
      if (f.depth[i] === f.depth[cur] + 1 && f.name[i] === names[k]) { found = i; break; }
    if (found < 0) break;
    path[found] = true;
    cur = found;
  }
  return path;
}

function drawFlame() {
  var box = $('flame'), W = box.clientWidth || 900, RH = 17, f;
  $('flame-panel').classList.toggle('hidden', isSystem(state));  // a sweep has no stacks
  flame = buildFlame(state.flame);
  f = flame.f;
  box.textContent = '';
  if (!flame.n || !flame.w[0]) {
    box.style.height = '20px';
    box.textContent = 'no outstanding bytes';
    return;
  }
  if (flameZoom !== null && (flameZoom >= flame.n)) flameZoom = null;
  var z = flameZoom === null ? 0 : flameZoom, zx = flame.x[z], zw = flame.w[z], zd = f.depth[z];
  var scale = W / zw, re = null, hits = 0, maxd = 0, path = highlighted ? flamePath(highlighted) : {};
  if (flameTerm) { try { re = new RegExp(flameTerm); } catch (e) { re = null; } }
  for (var i = 0; i < flame.n; i++) {
    var anc = isAncestor(i, z), inside = anc || isAncestor(z, i);
    if (!inside) continue;
    var x = anc && i !== z ? 0 : (flame.x[i] - zx) * scale, w = anc && i !== z ? W : flame.w[i] * scale;
    if (w < 0.5) continue;
    var d = f.depth[i];
    maxd = Math.max(maxd, d);
    var div = el('div', { 'class': 'n', 'data-i': i, 'data-name': f.name[i] });
    div.style.left = x + 'px'; div.style.width = w + 'px'; div.style.top = (d * RH) + 'px';
    div.style.background = flameColor(i);
    if (w > 30) div.textContent = f.name[i];
    if (i !== z && anc) div.classList.add('parent');
    if (re && re.test(f.name[i])) { div.classList.add('hit'); hits++; }
    if (path[i]) div.classList.add('hl');
    box.appendChild(div);
  }
  box.style.height = ((maxd + 1) * RH + 2) + 'px';
  box.setAttribute('data-matched', hits);
  box.setAttribute('data-zoom', z ? f.name[z] : '');
  $('flame-matched').textContent = re ? 'matched ' + hits + ' frame' + (hits === 1 ? '' : 's') : (flameTerm ? 'bad regexp' : '');
  void zd;
}

function flameDetails(i) {
  var f = flame.f, total = flame.w[0];
  return f.name[i] + (f.type[i] === 'i' ? ' (inlined)' : '') + (f.type[i] === 'a' ? ' (allocator)' : '') +
    ': ' + fmtBytes(f.value[i]) + ' (' + (100 * f.value[i] / total).toFixed(2) + '%)' +
    (f.src[i] ? '  ' + f.src[i] : '') + (f.module[i] ? '  [' + f.module[i] + ']' : '');
}

// ---- numbers ---------------------------------------------------------------

function stat(k, v, warn, bar) {
  var d = el('div', { 'class': 'stat' + (warn ? ' warn' : ''), 'data-stat': k });
  d.appendChild(el('div', { 'class': 'k' }, k));
  d.appendChild(el('div', { 'class': 'v' }, v));
  if (bar !== undefined && bar !== null) {
    var b = el('div', { 'class': 'bar' + (bar > 0.9 ? ' full' : '') }), fill = el('div');
    fill.style.width = Math.min(100, bar * 100).toFixed(1) + '%';
    b.appendChild(fill); d.appendChild(b);
  }
  return d;
}

function drawStats() {
  var st = state, t = st.totals || {}, r = st.rates || {}, s = st.self || {}, box = $('stats');
  box.textContent = '';
  box.appendChild(stat(isSystem(st) ? 'Anonymous RSS + swap' : 'Outstanding', fmtBytes(t.outstanding_bytes)));
  box.appendChild(stat('Dropped events', fmtNum(t.dropped_events), t.dropped_events > 0));
  Object.keys(t.drops || {}).forEach(function (k) {
    if (t.drops[k] > 0) box.appendChild(stat('drops: ' + k, fmtNum(t.drops[k]), true));
  });
  if (!isSystem(st)) {  // a sweep counts no allocator calls and walks no stacks
    box.appendChild(stat('Outstanding allocations', fmtNum(t.outstanding_allocs)));
    box.appendChild(stat('Allocations /s', fmtNum(r.alloc_calls_per_s, 1)));
    box.appendChild(stat('Frees /s', fmtNum(r.free_calls_per_s, 1)));
    box.appendChild(stat('Allocated /s', fmtBytes(r.alloc_bytes_per_s)));
    box.appendChild(stat('Freed /s', fmtBytes(r.free_bytes_per_s)));
    box.appendChild(stat('Unwind failures', fmtNum(t.unwind_failures), t.unwind_failures > 0));
    box.appendChild(stat('Truncated stacks', fmtNum(t.truncated_stacks), t.truncated_stacks > 0));
    box.appendChild(stat('Unmatched frees', fmtNum(t.unmatched_frees)));
    box.appendChild(stat('Stacks', fmtNum(t.stacks)));
  }
  var fill = s.map_fill || {};
  Object.keys(fill).forEach(function (k) {
    if (fill[k] !== null && fill[k] !== undefined)
      box.appendChild(stat('map fill: ' + k, fmtPct(fill[k]), fill[k] > 0.9, fill[k]));
  });
  if (t.unwind_rows_max) box.appendChild(stat('unwind rows', fmtNum(t.unwind_rows) + ' / ' + fmtNum(t.unwind_rows_max), false, t.unwind_rows / t.unwind_rows_max));
  box.appendChild(stat('Probe hits', fmtNum(s.probe_hits)));
  box.appendChild(stat('Report latency', fmtDur(s.report_latency_s)));
  box.appendChild(stat('Reports', fmtNum(s.reports)));
  box.appendChild(stat('Symbolize failures', fmtNum(s.symbolize_failures), s.symbolize_failures > 0));
  if (st.process && st.process.rss_bytes)
    box.appendChild(stat('Process RSS', fmtBytes(st.process.rss_bytes) + ' (' + fmtRate(st.process.rss_growth_bytes_per_s) + ')'));
  var sw = st.sweep;
  if (sw && typeof sw === 'object') {
    box.appendChild(stat('Processes tracked', fmtNum(sw.processes_tracked) + ' (' + fmtNum(sw.processes_shown) + ' shown)'));
    box.appendChild(stat('Processes seen / exited', fmtNum(sw.processes_seen) + ' / ' + fmtNum(sw.processes_exited)));
    box.appendChild(stat('Sweep events', fmtNum(sw.events)));
    if (sw.bpf_run_time_ns !== undefined) box.appendChild(stat('BPF run time', fmtDur(sw.bpf_run_time_ns / 1e9)));
  }
  if (st.sample_bytes) box.appendChild(stat('Sampling', 'every ~' + fmtBytes(st.sample_bytes)));
}

function drawVerdict() {
  var st = state, v = st.verdict, box = $('verdict');
  box.className = 'verdict';
  if (!v) { box.textContent = 'no verdict'; box.classList.add('muted'); }
  else if (v.result === 'possible_leak' && v.suspect) {
    var s = v.suspect;
    box.classList.add('leak');
    box.textContent = 'Verdict: POSSIBLE LEAK: ' + (s.label || (s.comm + ' [' + s.pid + ']')) + ': ' + s.severity + ', ' +
      fmtRate(s.growth_bytes_per_s) + ' (worst severity ' + v.worst + ')';
  } else box.textContent = 'Verdict: OK (worst severity ' + (v.worst || 'none') + ')';
  box.setAttribute('data-result', v ? v.result : '');
  var recs = st.recommendations || (v && v.recommendations);
  $('recommendations').classList.toggle('hidden', !(recs && recs.length));
  var ul = $('rec-list'); ul.textContent = '';
  (recs || []).forEach(function (r) {
    ul.appendChild(el('li', {}, typeof r === 'string' ? r :
      [r.severity, r.title || r.kind || r.category, r.message || r.text || r.action || r.detail]
        .filter(function (x) { return x; }).join(': ') || JSON.stringify(r)));
  });
  var cats = st.categories;
  $('categories').classList.toggle('hidden', !cats || (Array.isArray(cats) ? !cats.length : !Object.keys(cats).length));
  var cl = $('cat-list'); cl.textContent = '';
  if (cats) {
    var list = Array.isArray(cats) ? cats : Object.keys(cats).map(function (k) {
      var c = cats[k]; return typeof c === 'object' ? Object.assign({ name: k }, c) : { name: k, outstanding_bytes: c };
    });
    list.forEach(function (c) {
      var name = c.name || c.category || '?', bytes = c.outstanding_bytes !== undefined ? c.outstanding_bytes : c.bytes;
      cl.appendChild(el('span', { 'class': 'stat', style: 'display:inline-block;margin:2px' },
        name + (bytes !== undefined ? ': ' + fmtBytes(bytes) : '') +
        (c.growth_bytes_per_s !== undefined ? ' ' + fmtRate(c.growth_bytes_per_s) : '')));
    });
  }
}

function setStatus(kind, text) {
  var s = $('status');
  s.setAttribute('data-state', kind);
  s.textContent = text;
}

function draw() {
  if (!state) return;
  $('title').textContent = 'memtrace: ' + (state.mode === 'system' ? 'host' :
    'pid ' + state.pid + ' (' + state.comm + ')');
  document.title = 'memtrace ' + (state.comm || '') + ' ' + fmtBytes((state.totals || {}).outstanding_bytes);
  $('updated').textContent = 'report ' + state.seq + ' after ' + fmtDur(state.elapsed_s) +
    ' (' + new Date(state.time * 1000).toLocaleTimeString() + ')';
  drawVerdict();
  drawStats();
  drawChart();
  drawTable();
  drawFlame();
}

function highlight(key) {
  highlighted = key;
  draw();
}

function accept(st) {
  if (state && st.seq <= state.seq && !st.final) return;
  state = st;
  updates++;
  document.body.setAttribute('data-updates', updates);
  document.body.setAttribute('data-final', st.final ? '1' : '0');
  if (st.final) {
    setStatus('ended', 'tracer ended: final report');
    if (source) { source.close(); source = null; }
  } else setStatus('live', 'live, every ' + fmtDur(st.interval_s));
  draw();
}

function connect() {
  if (!window.EventSource) { poll(); return; }
  source = new EventSource('/dashboard/events');
  source.addEventListener('report', function (e) {
    sseEvents++;
    document.body.setAttribute('data-sse', sseEvents);
    accept(JSON.parse(e.data));
  });
  source.onerror = function () {
    streamErrors++;
    document.body.setAttribute('data-stream', source ? ['connecting', 'open', 'closed'][source.readyState] + ' after ' + streamErrors + ' error(s)' : 'closed');
    if (state && state.final) { if (source) source.close(); source = null; return; }
    fetchOnce();   // while the stream reconnects: the last state, if the server still has one
    setStatus('lost', state ? 'connection lost: showing the last report (retrying)' : 'cannot reach memtrace (retrying)');
  };
}

function fetchOnce() {
  fetch('/dashboard/state.json', { cache: 'no-store' }).then(function (r) {
    return r.ok ? r.json() : null;
  }).then(function (st) { if (st) accept(st); }).catch(function () {});
}

// Without EventSource: the state once per interval.
function poll() {
  fetch('/dashboard/state.json', { cache: 'no-store' }).then(function (r) {
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }).then(function (st) {
    accept(st);
    if (!st.final) setTimeout(poll, 1000 * (st.interval_s || 5));
  }).catch(function () {
    setStatus('lost', 'connection lost: showing the last report');
    setTimeout(poll, 5000);
  });
}

function init() {
  var search = $('flame-search');
  search.addEventListener('input', function () { flameTerm = search.value; if (state) drawFlame(); });
  $('flame-reset').addEventListener('click', function () { flameZoom = null; if (state) drawFlame(); });
  $('flame').addEventListener('click', function (e) {
    var i = e.target.getAttribute && e.target.getAttribute('data-i');
    if (i === null || i === undefined) return;
    flameZoom = +i || null;
    drawFlame();
  });
  $('flame').addEventListener('mouseover', function (e) {
    var i = e.target.getAttribute && e.target.getAttribute('data-i');
    if (i !== null && i !== undefined && flame) $('flame-details').textContent = flameDetails(+i);
  });
  window.addEventListener('resize', function () { if (state) draw(); });
  connect();
}

// For tests and links: search or highlight from the console.
window.memtrace = {
  state: function () { return state; },
  search: function (term) { $('flame-search').value = term; flameTerm = term; if (state) drawFlame(); return +$('flame').getAttribute('data-matched'); },
  highlight: highlight
};

init();

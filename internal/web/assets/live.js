// flowd's live view: fetches api/v1/live (relative, so any route prefix works) every few
// seconds and draws it. No library, nothing loaded from elsewhere.
'use strict';
(function () {
  const REFRESH_MS = 5000;
  const SPAN_MS = 15 * 60 * 1000;
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  const num = (v) => Number(v).toLocaleString('en-US');
  const rate = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  let last = null;
  let timer = null;
  let paused = false;

  function dur(s) {
    if (s === null || s === undefined) return 'unknown';
    if (s < 1) return '0s';
    if (s < 90) return Math.round(s) + 's';
    if (s < 5400) return Math.round(s / 60) + 'm';
    return (s / 3600).toFixed(1) + 'h';
  }
  function when(t) {
    if (!t) return 'never';
    const d = new Date(t);
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }
  function setNum(el, v, text) {
    el.dataset.value = String(v);
    el.textContent = text === undefined ? num(v) : text;
  }
  function cell(tr, text, cls, value) {
    const td = document.createElement('td');
    if (cls) td.className = cls;
    if (value !== undefined) td.dataset.value = String(value);
    if (text instanceof Node) td.appendChild(text); else td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function badge(text, cls) {
    const b = document.createElement('span');
    b.className = 'badge ' + cls;
    b.textContent = text;
    return b;
  }
  function fill(tbody, rows, cols, empty, rowClass) {
    tbody.replaceChildren();
    if (!rows.length) {
      const tr = document.createElement('tr');
      const td = cell(tr, empty, 'note');
      td.colSpan = cols;
      tbody.appendChild(tr);
      return;
    }
    for (const r of rows) {
      const tr = document.createElement('tr');
      if (rowClass) tr.className = rowClass(r);
      r.cells(tr);
      tbody.appendChild(tr);
    }
  }

  function drawChart(d) {
    const svg = $('chart');
    const W = Math.max(svg.clientWidth, 300);
    const H = Math.max(svg.clientHeight, 150);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const title = $('chart-title');
    svg.replaceChildren(title);
    const pts = d.history.points;
    svg.dataset.points = String(pts.length);
    const pad = { l: 56, r: 12, t: 10, b: 26 };
    const end = new Date(d.generated_at).getTime();
    const start = end - SPAN_MS;
    let top = 0;
    for (const p of pts) top = Math.max(top, p.accept_per_second, p.reject_per_second);
    top = niceCeil(top || 1);
    const x = (t) => pad.l + ((t - start) / SPAN_MS) * (W - pad.l - pad.r);
    const y = (v) => H - pad.b - (v / top) * (H - pad.t - pad.b);
    const el = (name, attrs, text) => {
      const e = document.createElementNS(SVG, name);
      for (const k in attrs) e.setAttribute(k, attrs[k]);
      if (text !== undefined) e.textContent = text;
      svg.appendChild(e);
      return e;
    };
    for (let i = 0; i <= 4; i++) {
      const v = (top * i) / 4;
      el('line', { class: 'grid-line', x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) });
      el('text', { class: 'axis', x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, rate(v));
    }
    for (let m = 15; m >= 0; m -= 5) {
      el('text', { class: 'axis', x: x(end - m * 60000), y: H - 6, 'text-anchor': m === 15 ? 'start' : m === 0 ? 'end' : 'middle' }, m === 0 ? 'now' : '−' + m + 'm');
    }
    if (pts.length < 2) {
      el('text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' },
        d.has_events ? 'Collecting: one point every ' + d.history.step_seconds + ' s' : 'Waiting for the first flow records');
      title.textContent = 'Flows per second: not enough points yet';
      return;
    }
    const visible = pts.filter((p) => new Date(p.t).getTime() >= start);
    for (const [key, cls] of [['accept_per_second', 'accept'], ['reject_per_second', 'reject']]) {
      let line = '';
      visible.forEach((p, i) => {
        line += (i ? 'L' : 'M') + x(new Date(p.t).getTime()).toFixed(1) + ',' + y(p[key]).toFixed(1);
      });
      const first = x(new Date(visible[0].t).getTime()).toFixed(1);
      const lastX = x(new Date(visible[visible.length - 1].t).getTime()).toFixed(1);
      el('path', { class: 'area ' + cls, d: line + 'L' + lastX + ',' + y(0) + 'L' + first + ',' + y(0) + 'Z' });
      el('path', { class: 'line ' + cls, d: line, 'data-series': cls });
    }
    const p = pts[pts.length - 1];
    title.textContent = 'Flows per second over the last 15 minutes; now ' + rate(p.accept_per_second) +
      ' accepted and ' + rate(p.reject_per_second) + ' rejected per second';
  }
  function niceCeil(v) {
    const e = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= v) return m * e;
    return 10 * e;
  }

  function selectedWindow(d) {
    const sel = $('window');
    const names = d.windows.map((w) => w.window);
    if (sel.options.length !== names.length || names.some((n, i) => sel.options[i].value !== n)) {
      const keep = sel.value;
      sel.replaceChildren();
      for (const n of names) {
        const o = document.createElement('option');
        o.value = n;
        o.textContent = 'last ' + n;
        sel.appendChild(o);
      }
      sel.value = names.includes(keep) ? keep : names[names.length - 1] || '';
    }
    return d.windows.find((w) => w.window === sel.value);
  }

  function render(d) {
    last = d;
    if (d.flowd_version) $('version').textContent = 'Version ' + d.flowd_version + '.';
    const eps = $('endpoints');
    if (d.endpoints && eps.children.length !== d.endpoints.length) {
      eps.replaceChildren();
      for (const e of d.endpoints) {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = e.path;
        a.title = e.description;
        a.textContent = '/' + e.path;
        li.appendChild(a);
        eps.appendChild(li);
      }
    }
    const pts = d.history.points;
    const now = pts.length ? pts[pts.length - 1] : null;
    setNum($('rate-accept'), now ? now.accept_per_second : 0, now ? rate(now.accept_per_second) : '–');
    setNum($('rate-reject'), now ? now.reject_per_second : 0, now ? rate(now.reject_per_second) : '–');
    setNum($('total-accept'), d.totals.accept.flows);
    setNum($('total-reject'), d.totals.reject.flows);
    $('chart-note').textContent = d.history.window
      ? '(each point: the flows of the last ' + d.history.window + ' of event time, per second)' : '';
    drawChart(d);

    const sp = d.spiking;
    const parts = [];
    if (sp.rejected) parts.push('rejected flows');
    if (sp.ports.length) parts.push('port ' + sp.ports.join(', '));
    if (sp.sources.length) parts.push('source ' + sp.sources.join(', '));
    const banner = $('spike');
    banner.hidden = parts.length === 0;
    banner.textContent = parts.length
      ? 'Spiking now (last ' + sp.now_window + ' at least twice the ' + sp.baseline_window + ' rate): ' + parts.join('; ') : '';

    const w = selectedWindow(d);
    $('window-range').textContent = w && w.start ? when(w.start) + ' to ' + when(w.end) + ' (event time)' : '';
    const spikeCell = (s) => (s ? badge('▲ spiking', 'spike') : '');
    fill($('ports'), (w ? w.top_rejected_ports : []).map((p) => ({
      spiking: p.spiking,
      cells: (tr) => { cell(tr, p.port); cell(tr, num(p.flows), 'n', p.flows); cell(tr, spikeCell(p.spiking)); },
    })), 3, 'no rejected flow in this window', (r) => (r.spiking ? 'spike' : ''));
    fill($('rejected'), (w ? w.top_rejected_sources : []).map((r) => ({
      spiking: r.spiking,
      cells: (tr) => { cell(tr, r.src_addr, 'addr'); cell(tr, num(r.flows), 'n', r.flows); cell(tr, spikeCell(r.spiking)); },
    })), 3, 'no rejected source in this window', (r) => (r.spiking ? 'spike' : ''));
    fill($('scans'), (w ? w.scan_candidates : []).map((s) => ({
      cells: (tr) => { cell(tr, s.src_addr, 'addr'); cell(tr, (s.saturated ? '≥ ' : '') + num(s.distinct_ports), 'n', s.distinct_ports); },
    })), 2, 'no scan candidate in this window');
    fill($('interfaces'), d.interfaces.map((i) => ({
      cells: (tr) => { cell(tr, i.interface_id, 'addr'); cell(tr, num(i.reject_flows), 'n', i.reject_flows); cell(tr, num(i.accept_flows), 'n', i.accept_flows); },
    })), 3, 'no interface yet');
    fill($('health'), d.sources.map((s) => ({
      cells: (tr) => {
        cell(tr, s.name, 'addr');
        cell(tr, num(s.events_read), 'n', s.events_read);
        cell(tr, dur(s.lag_seconds), 'n', s.lag_seconds === null ? '' : s.lag_seconds);
        cell(tr, when(s.last_success));
        cell(tr, num(s.filter_log_events_calls.throttled), 'n', s.filter_log_events_calls.throttled);
        cell(tr, num(s.filter_log_events_calls.error), 'n', s.filter_log_events_calls.error);
        let state = badge('ok', 'ok');
        if (!s.last_success) state = badge(s.last_error ? 'never read: ' + s.last_error : (s.filter_log_events_calls.error ? 'failing, never read' : 'not read yet'), 'bad');
        else if (s.last_error) state = badge('failing: ' + s.last_error, 'bad');
        else if (s.behind) state = badge('catching up', 'warn');
        else if (s.filter_log_events_calls.throttled) state = badge('ok, throttled at times', 'warn');
        cell(tr, state);
      },
    })), 7, 'no source yet');
    const facts = $('checkpoint');
    facts.replaceChildren();
    const fact = (k, v) => {
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = v;
      facts.append(dt, dd);
    };
    const cp = d.checkpoint;
    if (!cp) fact('checkpoint', 'disabled (no checkpoint.path): a restart starts again from start_position');
    else {
      fact('checkpoint written', when(cp.last_success) + (cp.age_seconds === null ? '' : ' (' + dur(cp.age_seconds) + ' ago)'));
      fact('checkpoint failures', num(cp.failures));
      fact('checkpoint size', num(cp.size_bytes) + ' bytes');
    }
    if (d.pipeline) fact('queue', d.pipeline.queue_depth + ' of ' + d.pipeline.queue_capacity + ' batches waiting');
    if (d.reload) fact('last config reload', d.reload.successful ? 'successful' : 'FAILED: the previous config stays in use');
    const notes = $('notes');
    notes.replaceChildren();
    for (const n of d.notes || []) {
      const p = document.createElement('p');
      p.textContent = n;
      notes.appendChild(p);
    }
  }

  async function refresh() {
    clearTimeout(timer);
    const st = $('status');
    try {
      const r = await fetch('api/v1/live', { cache: 'no-store', credentials: 'same-origin' });
      if (!r.ok) throw new Error(r.status + ' ' + r.statusText);
      const d = await r.json();
      render(d);
      st.textContent = 'Updated ' + when(d.generated_at) + (paused ? '; refresh paused' : '; refreshes every ' + REFRESH_MS / 1000 + ' s');
      st.classList.remove('error');
      document.body.dataset.loaded = d.generated_at;
    } catch (e) {
      st.textContent = 'Refresh failed (' + e.message + '); retrying';
      st.classList.add('error');
    } finally {
      if (!paused) timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('window').addEventListener('change', () => { if (last) render(last); });
    $('pause').addEventListener('click', () => {
      paused = !paused;
      $('pause').setAttribute('aria-pressed', String(paused));
      $('pause').textContent = paused ? 'Resume refresh' : 'Pause refresh';
      if (paused) clearTimeout(timer); else refresh();
    });
    let resize = null;
    window.addEventListener('resize', () => { clearTimeout(resize); resize = setTimeout(() => { if (last) drawChart(last); }, 150); });
    refresh();
  });
})();

/** The viewer's client script (plain browser JavaScript, no build step). Served as /app.js. */
export const APP_JS = String.raw`'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var SVGNS = 'http://www.w3.org/2000/svg';
  var state = { info: null, filterColumn: '', filterValue: '', offset: 0, limit: 48, mode: 'browse', similarTo: null, current: null, total: 0 };

  function api(path) {
    return fetch(path).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error((body.error && (body.error.code + ': ' + body.error.message)) || res.statusText);
        return body;
      });
    });
  }

  function status(text, isError) {
    var s = $('status');
    s.textContent = text || '';
    s.className = isError ? 'error' : '';
  }

  function filterJson() {
    if (!state.filterColumn || state.filterValue === '') return '';
    var f = {};
    f[state.filterColumn] = state.filterValue;
    return JSON.stringify(f);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function mediaFrame(row, size, big) {
    var m = row.media;
    var frame = el('div', 'frame');
    if (!m) { frame.appendChild(el('span', 'placeholder', 'no media')); return frame; }
    var w = m.width || 1, h = m.height || 1;
    frame.style.aspectRatio = w + ' / ' + h;
    if (w >= h) frame.style.width = big ? 'min(100%, ' + Math.min(w * 4, 900) + 'px)' : '100%';
    else frame.style.height = big ? 'min(70vh, ' + Math.min(h * 4, 900) + 'px)' : '100%';
    var img = el('img');
    img.alt = 'row ' + row.row;
    img.decoding = 'async';
    img.src = '/api/thumb/' + encodeURIComponent(m.column) + '/' + row.row + '?size=' + size;
    frame.appendChild(img);
    if (row.boxes && row.boxes.length) {
      var svg = document.createElementNS(SVGNS, 'svg');
      svg.setAttribute('viewBox', '0 0 1 1');
      svg.setAttribute('preserveAspectRatio', 'none');
      svg.setAttribute('class', 'boxes');
      row.boxes.forEach(function (b) {
        var r = document.createElementNS(SVGNS, 'rect');
        r.setAttribute('x', b[0]); r.setAttribute('y', b[1]);
        r.setAttribute('width', Math.max(0, b[2] - b[0])); r.setAttribute('height', Math.max(0, b[3] - b[1]));
        if (row.label !== undefined) { var t = document.createElementNS(SVGNS, 'title'); t.textContent = row.label; r.appendChild(t); }
        svg.appendChild(r);
      });
      frame.appendChild(svg);
    }
    if (m.kind === 'video') frame.appendChild(el('span', 'tag', '▶ ' + Number(m.durationS).toFixed(1) + ' s'));
    return frame;
  }

  function card(row) {
    var c = el('div', 'card');
    c.dataset.row = String(row.row);
    if (row.label !== undefined) c.dataset.label = row.label;
    c.setAttribute('role', 'button');
    c.tabIndex = 0;
    var media = el('div', 'media');
    media.appendChild(mediaFrame(row, state.info.thumbSize, false));
    c.appendChild(media);
    var cap = el('div', 'caption');
    cap.appendChild(el('span', 'label', row.label !== undefined ? row.label : ''));
    if (row.score !== undefined) cap.appendChild(el('span', 'score', Number(row.score).toFixed(3)));
    cap.appendChild(el('span', 'row', '#' + row.row));
    c.appendChild(cap);
    c.addEventListener('click', function () { openDetail(row); });
    c.addEventListener('keydown', function (e) { if (e.key === 'Enter') openDetail(row); });
    return c;
  }

  function render(rows) {
    var grid = $('grid');
    grid.textContent = '';
    rows.forEach(function (r) { grid.appendChild(card(r)); });
    grid.dataset.count = String(rows.length);
    grid.dataset.mode = state.mode;
  }

  function updatePager() {
    var browse = state.mode === 'browse';
    var end = Math.min(state.total, state.offset + state.limit);
    $('page-info').textContent = browse ? (state.total ? (state.offset + 1) + '–' + end + ' of ' + state.total : '0 rows') : '';
    $('prev').disabled = !browse || state.offset === 0;
    $('next').disabled = !browse || end >= state.total;
  }

  function load() {
    state.mode = 'browse';
    $('banner').className = '';
    status('loading…');
    var q = '/api/rows?offset=' + state.offset + '&limit=' + state.limit;
    var f = filterJson();
    if (f) q += '&filter=' + encodeURIComponent(f);
    return api(q).then(function (body) {
      state.total = body.total;
      render(body.rows);
      updatePager();
      status(body.total === 0 ? 'no rows match' : '');
    }).catch(function (e) { status(e.message, true); });
  }

  function showSimilar(row) {
    var column = state.info.roles.embedding;
    if (!column) { status('this dataset has no embedding column (compute one with strata embed)', true); return; }
    closeDetail();
    status('searching…');
    var q = '/api/similar?row=' + row.row + '&k=' + Math.min(state.limit, 48) + '&column=' + encodeURIComponent(column);
    return api(q).then(function (body) {
      state.mode = 'similar';
      state.similarTo = row.row;
      render(body.rows);
      updatePager();
      $('banner-text').textContent = 'Images similar to row #' + row.row + (row.label !== undefined ? ' (' + row.label + ')' : '') + ' by ' + body.column + ' (' + body.metric + ')';
      $('banner').className = 'on';
      status('');
    }).catch(function (e) { status(e.message, true); });
  }

  function openDetail(row) {
    state.current = row;
    var holder = $('detail-frame');
    var fresh = mediaFrame(row, 1024, true);
    fresh.id = 'detail-frame';
    holder.replaceWith(fresh);
    var tbody = $('detail-values');
    tbody.textContent = '';
    var add = function (k, v) { var tr = el('tr'); tr.appendChild(el('td', '', k)); tr.appendChild(el('td', '', v)); tbody.appendChild(tr); };
    add('row', String(row.row));
    Object.keys(row.values).forEach(function (k) { add(k, row.values[k]); });
    if (row.score !== undefined) add('score', Number(row.score).toFixed(4));
    var wrap = $('scrub-wrap');
    var m = row.media;
    if (m && m.kind === 'video') {
      var s = $('scrub');
      s.max = String(Math.max(0, m.durationS - 1 / Math.max(1, m.fps)));
      s.step = String(1 / Math.max(1, m.fps));
      s.value = '0';
      $('scrub-time').textContent = '0.00 s';
      wrap.className = 'on';
    } else wrap.className = '';
    $('similar').disabled = !state.info.roles.embedding;
    $('detail').className = 'on';
  }

  function closeDetail() { $('detail').className = ''; state.current = null; }

  var scrubTimer = null;
  $('scrub').addEventListener('input', function () {
    var row = state.current;
    if (!row || !row.media) return;
    var t = Number($('scrub').value);
    $('scrub-time').textContent = t.toFixed(2) + ' s';
    clearTimeout(scrubTimer);
    scrubTimer = setTimeout(function () {
      var img = document.querySelector('#detail-frame img');
      if (img) img.src = '/api/frame/' + encodeURIComponent(row.media.column) + '/' + row.row + '?size=1024&t=' + t.toFixed(3);
    }, 60);
  });

  $('similar').addEventListener('click', function () { if (state.current) showSimilar(state.current); });
  $('close').addEventListener('click', closeDetail);
  $('detail').addEventListener('click', function (e) { if (e.target === $('detail')) closeDetail(); });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeDetail(); });
  $('back').addEventListener('click', function () { load(); });
  $('prev').addEventListener('click', function () { state.offset = Math.max(0, state.offset - state.limit); load(); });
  $('next').addEventListener('click', function () { state.offset += state.limit; load(); });
  $('page-size').addEventListener('change', function () { state.limit = Number($('page-size').value); state.offset = 0; load(); });

  $('filter-column').addEventListener('change', function () {
    state.filterColumn = $('filter-column').value;
    state.filterValue = '';
    var sel = $('filter-value');
    sel.textContent = '';
    sel.appendChild(new Option('(any)', ''));
    sel.disabled = !state.filterColumn;
    $('clear-filter').disabled = !state.filterColumn;
    state.offset = 0;
    if (!state.filterColumn) { load(); return; }
    api('/api/values?column=' + encodeURIComponent(state.filterColumn)).then(function (body) {
      body.values.forEach(function (v) {
        var o = new Option(String(v.value) + ' (' + v.count + ')', typeof v.value === 'string' ? v.value : JSON.stringify(v.value));
        sel.appendChild(o);
      });
      sel.dataset.loaded = 'true';
      load();
    }).catch(function (e) { status(e.message, true); });
  });

  $('filter-value').addEventListener('change', function () {
    var raw = $('filter-value').value;
    var col = state.info.columns.find(function (c) { return c.name === state.filterColumn; });
    state.filterValue = raw === '' ? '' : (col && col.kind === 'number' ? Number(raw) : raw);
    state.offset = 0;
    load();
  });

  $('clear-filter').addEventListener('click', function () {
    $('filter-column').value = '';
    $('filter-column').dispatchEvent(new Event('change'));
  });

  api('/api/info').then(function (info) {
    state.info = info;
    state.limit = info.pageSize;
    var ps = $('page-size');
    if (!Array.prototype.some.call(ps.options, function (o) { return Number(o.value) === info.pageSize; })) ps.appendChild(new Option(String(info.pageSize)));
    ps.value = String(info.pageSize);
    $('dataset-meta').textContent = info.uri + ' · v' + info.version + ' · ' + info.length + ' rows';
    document.title = 'Strata · ' + info.uri;
    var fc = $('filter-column');
    info.columns.filter(function (c) { return c.filterable; }).forEach(function (c) { fc.appendChild(new Option(c.name + ' (' + c.htype + ')', c.name)); });
    if (info.roles.label) { fc.value = info.roles.label; fc.dispatchEvent(new Event('change')); }
    else load();
    document.body.dataset.ready = 'true';
  }).catch(function (e) { status(e.message, true); });
})();
`;

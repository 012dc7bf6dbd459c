/**
 * The viewer page's script (bundled to /app.js by scripts/build-viewer.ts): a grid of rows with paging and a
 * filter, a detail panel with video scrubbing, and "similar" over the embedding column. Talks only to the
 * JSON API in ../wire.ts; the elements it drives are in index.html.
 */
import type { InfoResponse, RowsResponse, SimilarResponse, ValuesResponse, ViewerRow } from '../wire.js';
import { api } from './api.js';
import { byId, el, errorText } from './dom.js';
import { mediaFrame } from './media.js';
import './sql-bar.js';

interface State {
  /** Null until /api/info has answered. */
  info: InfoResponse | null;
  filterColumn: string;
  /** '' for no filter; otherwise a value as /api/values listed it (string, number, boolean, null). */
  filterValue: unknown;
  offset: number;
  limit: number;
  mode: 'browse' | 'similar';
  similarTo: number | null;
  /** The row open in the detail panel. */
  current: ViewerRow | null;
  total: number;
}

const state: State = {
  info: null,
  filterColumn: '',
  filterValue: '',
  offset: 0,
  limit: 48,
  mode: 'browse',
  similarTo: null,
  current: null,
  total: 0,
};

const ui = {
  status: byId('status', HTMLDivElement),
  meta: byId('dataset-meta', HTMLSpanElement),
  filterColumn: byId('filter-column', HTMLSelectElement),
  filterValue: byId('filter-value', HTMLSelectElement),
  clearFilter: byId('clear-filter', HTMLButtonElement),
  prev: byId('prev', HTMLButtonElement),
  pageInfo: byId('page-info', HTMLSpanElement),
  next: byId('next', HTMLButtonElement),
  pageSize: byId('page-size', HTMLSelectElement),
  banner: byId('banner', HTMLDivElement),
  bannerText: byId('banner-text', HTMLSpanElement),
  back: byId('back', HTMLButtonElement),
  grid: byId('grid', HTMLElement),
  detail: byId('detail', HTMLDivElement),
  scrubWrap: byId('scrub-wrap', HTMLDivElement),
  scrub: byId('scrub', HTMLInputElement),
  scrubTime: byId('scrub-time', HTMLSpanElement),
  similar: byId('similar', HTMLButtonElement),
  close: byId('close', HTMLButtonElement),
  detailValues: byId('detail-values', HTMLTableSectionElement),
};

/** The filter-value select's option values → the values /api/values listed for them. */
const listedValues = new Map<string, unknown>();

function status(text: string, isError = false): void {
  ui.status.textContent = text;
  ui.status.className = isError ? 'error' : '';
}

function filterJson(): string {
  if (!state.filterColumn || state.filterValue === '') return '';
  return JSON.stringify({ [state.filterColumn]: state.filterValue });
}

function card(row: ViewerRow, thumbSize: number): HTMLDivElement {
  const c = el('div', 'card');
  c.dataset.row = String(row.row);
  if (row.label !== undefined) c.dataset.label = row.label;
  c.setAttribute('role', 'button');
  c.tabIndex = 0;
  const media = el('div', 'media');
  media.appendChild(mediaFrame(row, thumbSize, false));
  c.appendChild(media);
  const cap = el('div', 'caption');
  cap.appendChild(el('span', 'label', row.label !== undefined ? row.label : ''));
  if (row.score !== undefined) cap.appendChild(el('span', 'score', Number(row.score).toFixed(3)));
  cap.appendChild(el('span', 'row', `#${row.row}`));
  c.appendChild(cap);
  c.addEventListener('click', () => openDetail(row));
  c.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') openDetail(row);
  });
  return c;
}

function render(rows: readonly ViewerRow[]): void {
  if (!state.info) throw new Error('the viewer has no dataset info yet (reload the page)');
  const thumbSize = state.info.thumbSize;
  ui.grid.textContent = '';
  for (const r of rows) ui.grid.appendChild(card(r, thumbSize));
  ui.grid.dataset.count = String(rows.length);
  ui.grid.dataset.mode = state.mode;
}

function updatePager(): void {
  const browse = state.mode === 'browse';
  const end = Math.min(state.total, state.offset + state.limit);
  ui.pageInfo.textContent = browse ? (state.total ? `${state.offset + 1}–${end} of ${state.total}` : '0 rows') : '';
  ui.prev.disabled = !browse || state.offset === 0;
  ui.next.disabled = !browse || end >= state.total;
}

/** Shows the current page of the (filtered) dataset; errors go to the status line. */
async function load(): Promise<void> {
  state.mode = 'browse';
  ui.banner.className = '';
  status('loading…');
  let q = `/api/rows?offset=${state.offset}&limit=${state.limit}`;
  const f = filterJson();
  if (f) q += `&filter=${encodeURIComponent(f)}`;
  try {
    const body = await api<RowsResponse>(q);
    state.total = body.total;
    render(body.rows);
    updatePager();
    status(body.total === 0 ? 'no rows match' : '');
  } catch (e) {
    status(errorText(e), true);
  }
}

/** Replaces the grid with the rows nearest to `row` by the embedding column; errors go to the status line. */
async function showSimilar(row: ViewerRow): Promise<void> {
  const column = state.info?.roles.embedding;
  if (!column) {
    status('this dataset has no embedding column (compute one with strata embed)', true);
    return;
  }
  closeDetail();
  status('searching…');
  const q = `/api/similar?row=${row.row}&k=${Math.min(state.limit, 48)}&column=${encodeURIComponent(column)}`;
  try {
    const body = await api<SimilarResponse>(q);
    state.mode = 'similar';
    state.similarTo = row.row;
    render(body.rows);
    updatePager();
    const label = row.label !== undefined ? ` (${row.label})` : '';
    ui.bannerText.textContent = `Images similar to row #${row.row}${label} by ${body.column} (${body.metric})`;
    ui.banner.className = 'on';
    status('');
  } catch (e) {
    status(errorText(e), true);
  }
}

function openDetail(row: ViewerRow): void {
  state.current = row;
  const fresh = mediaFrame(row, 1024, true);
  fresh.id = 'detail-frame';
  byId('detail-frame', HTMLDivElement).replaceWith(fresh);
  const tbody = ui.detailValues;
  tbody.textContent = '';
  const add = (k: string, v: string): void => {
    const tr = el('tr');
    tr.appendChild(el('td', '', k));
    tr.appendChild(el('td', '', v));
    tbody.appendChild(tr);
  };
  add('row', String(row.row));
  for (const [k, v] of Object.entries(row.values)) add(k, v);
  if (row.score !== undefined) add('score', Number(row.score).toFixed(4));
  const m = row.media;
  if (m && m.kind === 'video') {
    ui.scrub.max = String(Math.max(0, m.durationS - 1 / Math.max(1, m.fps)));
    ui.scrub.step = String(1 / Math.max(1, m.fps));
    ui.scrub.value = '0';
    ui.scrubTime.textContent = '0.00 s';
    ui.scrubWrap.className = 'on';
  } else ui.scrubWrap.className = '';
  ui.similar.disabled = !state.info?.roles.embedding;
  ui.detail.className = 'on';
}

function closeDetail(): void {
  ui.detail.className = '';
  state.current = null;
}

let scrubTimer: number | undefined;
ui.scrub.addEventListener('input', () => {
  const row = state.current;
  const media = row?.media;
  if (!row || !media) return;
  const t = Number(ui.scrub.value);
  ui.scrubTime.textContent = `${t.toFixed(2)} s`;
  clearTimeout(scrubTimer);
  scrubTimer = setTimeout(() => {
    const img = document.querySelector<HTMLImageElement>('#detail-frame img');
    if (img) img.src = `/api/frame/${encodeURIComponent(media.column)}/${row.row}?size=1024&t=${t.toFixed(3)}`;
  }, 60);
});

ui.similar.addEventListener('click', () => {
  if (state.current) void showSimilar(state.current);
});
ui.close.addEventListener('click', closeDetail);
ui.detail.addEventListener('click', (e) => {
  if (e.target === ui.detail) closeDetail();
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') closeDetail();
});
ui.back.addEventListener('click', () => void load());
ui.prev.addEventListener('click', () => {
  state.offset = Math.max(0, state.offset - state.limit);
  void load();
});
ui.next.addEventListener('click', () => {
  state.offset += state.limit;
  void load();
});
ui.pageSize.addEventListener('change', () => {
  state.limit = Number(ui.pageSize.value);
  state.offset = 0;
  void load();
});

ui.filterColumn.addEventListener('change', () => {
  state.filterColumn = ui.filterColumn.value;
  state.filterValue = '';
  listedValues.clear();
  const sel = ui.filterValue;
  sel.textContent = '';
  sel.appendChild(new Option('(any)', ''));
  sel.disabled = !state.filterColumn;
  ui.clearFilter.disabled = !state.filterColumn;
  state.offset = 0;
  if (!state.filterColumn) {
    void load();
    return;
  }
  api<ValuesResponse>(`/api/values?column=${encodeURIComponent(state.filterColumn)}`)
    .then((body) => {
      for (const v of body.values) {
        const value = typeof v.value === 'string' ? v.value : JSON.stringify(v.value);
        listedValues.set(value, v.value);
        sel.appendChild(new Option(`${String(v.value)} (${v.count})`, value));
      }
      sel.dataset.loaded = 'true';
      return load();
    })
    .catch((e: unknown) => status(errorText(e), true));
});

ui.filterValue.addEventListener('change', () => {
  const raw = ui.filterValue.value;
  state.filterValue = raw === '' ? '' : listedValues.has(raw) ? listedValues.get(raw) : raw;
  state.offset = 0;
  void load();
});

ui.clearFilter.addEventListener('click', () => {
  ui.filterColumn.value = '';
  ui.filterColumn.dispatchEvent(new Event('change'));
});

/** Fills the header and the filter from /api/info, then shows the first page (filtered by label when there is one). */
async function start(): Promise<void> {
  const info = await api<InfoResponse>('/api/info');
  state.info = info;
  state.limit = info.pageSize;
  const ps = ui.pageSize;
  if (!Array.from(ps.options).some((o) => Number(o.value) === info.pageSize)) {
    ps.appendChild(new Option(String(info.pageSize)));
  }
  ps.value = String(info.pageSize);
  ui.meta.textContent = `${info.uri} · v${info.version} · ${info.length} rows`;
  document.title = `Strata · ${info.uri}`;
  const fc = ui.filterColumn;
  for (const c of info.columns) if (c.filterable) fc.appendChild(new Option(`${c.name} (${c.htype})`, c.name));
  if (info.roles.label) {
    fc.value = info.roles.label;
    fc.dispatchEvent(new Event('change'));
  } else void load();
  document.body.dataset.ready = 'true';
}

start().catch((e: unknown) => status(errorText(e), true));

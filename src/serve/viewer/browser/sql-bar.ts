/** The query bar: runs a SELECT over the dataset (table ds) through GET /api/sql and shows the answer as a table. */
import type { SqlResponse } from '../wire.js';
import { api } from './api.js';
import { byId, el, errorText } from './dom.js';

const form = byId('sql-form', HTMLFormElement);
const input = byId('sql-input', HTMLInputElement);
const result = byId('sql-result', HTMLElement);

function cellText(v: unknown): string {
  if (v === null) return '∅';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function show(body: SqlResponse): void {
  const table = el('table');
  const head = el('tr');
  for (const c of body.columns) head.appendChild(el('th', undefined, c));
  table.appendChild(el('thead')).appendChild(head);
  const tbody = table.appendChild(el('tbody'));
  for (const row of body.rows) {
    const tr = el('tr');
    for (const v of row) tr.appendChild(el('td', v === null ? 'null' : undefined, cellText(v)));
    tbody.appendChild(tr);
  }
  const shown = body.rows.length < body.total ? `${body.rows.length} of ${body.total}` : String(body.total);
  result.replaceChildren(el('div', 'sql-meta', `${shown} row${body.total === 1 ? '' : 's'}`), table);
  result.className = 'on';
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = input.value.trim();
  if (!q) {
    result.replaceChildren();
    result.className = '';
    return;
  }
  result.replaceChildren(el('div', 'sql-meta', 'running…'));
  result.className = 'on';
  api<SqlResponse>(`/api/sql?q=${encodeURIComponent(q)}`)
    .then(show)
    .catch((e: unknown) => {
      result.replaceChildren(el('div', 'sql-meta error', errorText(e)));
    });
});

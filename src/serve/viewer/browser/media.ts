/** A row's picture: the thumbnail (or video poster) sized to its aspect ratio, boxes drawn over it as SVG. */
import type { ViewerRow } from '../wire.js';
import { SVGNS, el } from './dom.js';

/** `size` is the thumbnail's longest side in pixels; `big` sizes the frame for the detail panel. */
export function mediaFrame(row: ViewerRow, size: number, big: boolean): HTMLDivElement {
  const m = row.media;
  const frame = el('div', 'frame');
  if (!m) {
    frame.appendChild(el('span', 'placeholder', 'no media'));
    return frame;
  }
  const w = m.width || 1;
  const h = m.height || 1;
  frame.style.aspectRatio = `${w} / ${h}`;
  if (w >= h) frame.style.width = big ? `min(100%, ${Math.min(w * 4, 900)}px)` : '100%';
  else frame.style.height = big ? `min(70vh, ${Math.min(h * 4, 900)}px)` : '100%';
  const img = el('img');
  img.alt = `row ${row.row}`;
  img.decoding = 'async';
  img.src = `/api/thumb/${encodeURIComponent(m.column)}/${row.row}?size=${size}`;
  frame.appendChild(img);
  if (row.boxes && row.boxes.length) frame.appendChild(boxes(row.boxes, row.label));
  if (m.kind === 'video') frame.appendChild(el('span', 'tag', `▶ ${Number(m.durationS).toFixed(1)} s`));
  return frame;
}

/** Boxes are [left, top, right, bottom] fractions: drawn in a unit viewBox stretched over the image. */
function boxes(ltrb: readonly number[][], label: string | undefined): SVGSVGElement {
  const svg = document.createElementNS(SVGNS, 'svg');
  svg.setAttribute('viewBox', '0 0 1 1');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'boxes');
  for (const b of ltrb) {
    const r = document.createElementNS(SVGNS, 'rect');
    r.setAttribute('x', String(b[0]));
    r.setAttribute('y', String(b[1]));
    r.setAttribute('width', String(Math.max(0, b[2] - b[0])));
    r.setAttribute('height', String(Math.max(0, b[3] - b[1])));
    if (label !== undefined) {
      const t = document.createElementNS(SVGNS, 'title');
      t.textContent = label;
      r.appendChild(t);
    }
    svg.appendChild(r);
  }
  return svg;
}

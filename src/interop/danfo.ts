import type { DataFrame } from 'danfojs-node';
import type { DatasetReader } from '../dataset/read.js';
import { ImageCell, VideoCell } from '../dataset/cells.js';
import type { Tensor } from '../dataset/htypes/generic.js';
import { render } from '../dataset/ops/format.js';
import { extractColumns } from './columns.js';
import { loadDanfo } from './danfo-module.js';
import type { ToDanfoOptions } from './types.js';

/**
 * The view as a danfojs-node DataFrame. danfo (and the TensorFlow.js it pulls in) is imported here,
 * on the first call, never by the rest of Strata; it is an optional peer dependency, `UNSUPPORTED`
 * (saying what to install) when missing. Cells become what a DataFrame can hold:
 * text/class names/numbers/booleans as they are; media as the link URL, or `<image 480×640×3 jpeg>`
 * (media 'describe', default) / `480×640×3` (media 'shape'); embeddings and tensors as their shape
 * (`float32[512]`); boxes and JSON as JSON text.
 */
export async function toDanfo(ds: DatasetReader, options: ToDanfoOptions = {}): Promise<DataFrame> {
  const dfd = await loadDanfo();
  const names = [...(options.columns ?? ds.columns)];
  const data: Record<string, unknown[]> = {};
  for (const name of names) {
    const c = ds.columnInfo(name);
    if (c.htype === 'link') {
      data[name] = (await extractColumns(ds, [name], options.signal))[0].values;
      continue;
    }
    const values = await ds.values(name, { signal: options.signal });
    data[name] = values.map((v) => cellOf(c.htype, c.dtype, v, options.media ?? 'describe'));
  }
  return new dfd.DataFrame(data);
}

function cellOf(htype: string, dtype: string, v: unknown, media: 'describe' | 'shape'): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof ImageCell || v instanceof VideoCell) return media === 'shape' ? v.shape.join('×') : render(v);
  switch (htype) {
    case 'embedding':
      return `float32[${(v as Float32Array).length}]`;
    case 'bbox':
    case 'json':
      return JSON.stringify(v);
    case 'generic':
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'object') return `${dtype}[${(v as Tensor).shape.join(',')}]`;
      return v;
    default:
      return v;
  }
}

/** JSON Lines: one JSON object per line (LF or CRLF); blank lines skipped. Rows come a text piece's worth at a time. */
import { StrataError } from '../errors.js';

export async function* jsonlRows(
  text: AsyncIterable<string>,
  file: string,
): AsyncGenerator<{ values: Record<string, unknown>; line: number }[]> {
  let rest = '';
  let line = 0;
  const parse = (raw: string) => {
    line++;
    const s = raw.trim();
    if (!s) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (cause) {
      throw new StrataError('INVALID_ARGUMENT', `${file}, line ${line}: not valid JSON`, {
        file,
        line,
        cause,
        hint: 'one JSON object per line',
      });
    }
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw new StrataError('INVALID_ARGUMENT', `${file}, line ${line}: expected a JSON object`, {
        file,
        line,
        hint: 'one JSON object per line',
      });
    return { values: v as Record<string, unknown>, line };
  };
  for await (const piece of text) {
    const lines = (rest + piece).split('\n');
    rest = lines.pop() ?? '';
    const rows = [];
    for (const l of lines) {
      const row = parse(l);
      if (row) rows.push(row);
    }
    if (rows.length > 0) yield rows;
  }
  const last = parse(rest);
  if (last) yield [last];
}

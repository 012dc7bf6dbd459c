/**
 * CSV, RFC 4180: fields separated by commas, rows by LF or CRLF (a lone CR too), quoted fields with
 * doubled quotes and newlines inside, a leading byte-order mark dropped, blank lines skipped. Text is
 * pushed in pieces of any size, so a file is parsed as it is read.
 */
import { StrataError } from '../errors.js';

/** One parsed row and the line it starts on (1-based, counting newlines inside quotes). */
export interface CsvRow {
  readonly cells: string[];
  readonly line: number;
}

/** An incremental CSV tokenizer: `push` text as it arrives, `end` once; each returns the rows completed. */
export class CsvTokenizer {
  private row: string[] = [];
  private field = '';
  private quoted = false;
  /** The previous piece ended on CR (its LF may start the next piece), or on a quote inside quotes. */
  private pendingCr = false;
  private pendingQuote = false;
  private started = false;
  private line = 1;
  private rowLine = 1;

  constructor(private readonly file: string) {}

  push(text: string): CsvRow[] {
    const out: CsvRow[] = [];
    let i = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text[i] === '\n') i++;
    }
    if (this.pendingQuote && i < text.length) {
      this.pendingQuote = false;
      if (text[i] === '"') {
        this.field += '"';
        i++;
      } else this.quoted = false;
    }
    const n = text.length;
    let field = this.field;
    for (; i < n; i++) {
      const c = text[i];
      if (this.quoted) {
        if (c === '"') {
          if (i + 1 === n) {
            this.pendingQuote = true;
            continue;
          }
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else this.quoted = false;
        } else {
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) this.line++;
          field += c;
        }
      } else if (c === '"' && field === '') this.quoted = true;
      else if (c === ',') {
        this.row.push(field);
        field = '';
      } else if (c === '\n' || c === '\r') {
        if (c === '\r') {
          if (i + 1 === n) this.pendingCr = true;
          else if (text[i + 1] === '\n') i++;
        }
        this.row.push(field);
        field = '';
        this.emit(out);
        this.line++;
        this.rowLine = this.line;
      } else field += c;
    }
    this.field = field;
    return out;
  }

  end(): CsvRow[] {
    if (this.pendingQuote) {
      this.pendingQuote = false;
      this.quoted = false;
    }
    if (this.quoted)
      throw new StrataError('INVALID_ARGUMENT', `${this.file}, line ${this.rowLine}: unterminated quoted field`, {
        file: this.file,
        line: this.rowLine,
        hint: 'close the quote',
      });
    const out: CsvRow[] = [];
    if (this.field !== '' || this.row.length > 0) {
      this.row.push(this.field);
      this.field = '';
      this.emit(out);
    }
    return out;
  }

  private emit(out: CsvRow[]): void {
    const row = this.row;
    this.row = [];
    if (row.length > 1 || row[0] !== '') out.push({ cells: row, line: this.rowLine });
  }
}

/** Every row of a whole CSV text (header included). */
export function csvRows(text: string, file: string): CsvRow[] {
  const t = new CsvTokenizer(file);
  return [...t.push(text), ...t.end()];
}

/** CSV rows → values by header name, the width of each row checked against the header (the first row). */
export class CsvRecords {
  header: string[] | undefined;

  constructor(private readonly file: string) {}

  *of(rows: readonly CsvRow[]): Generator<{ values: Record<string, string>; line: number }> {
    for (const row of rows) {
      const header = this.header;
      if (!header) {
        this.header = row.cells;
        continue;
      }
      if (row.cells.length !== header.length)
        throw new StrataError(
          'INVALID_ARGUMENT',
          `${this.file}, line ${row.line}: ${row.cells.length} fields, the header has ${header.length}`,
          { file: this.file, line: row.line, hint: 'quote fields that contain commas' },
        );
      const values: Record<string, string> = {};
      for (let k = 0; k < header.length; k++) values[header[k]] = row.cells[k];
      yield { values, line: row.line };
    }
  }
}

/**
 * The data rows of CSV text arriving in pieces, a piece's rows at a time (an array per piece, so the
 * stream costs one await per piece, not per row); `records.header` is set once the first row is read.
 */
export async function* csvTableRows(
  text: AsyncIterable<string>,
  records: CsvRecords,
  file: string,
): AsyncGenerator<{ values: Record<string, string>; line: number }[]> {
  const tokenizer = new CsvTokenizer(file);
  for await (const piece of text) {
    const rows = [...records.of(tokenizer.push(piece))];
    if (rows.length > 0 || records.header) yield rows;
  }
  yield [...records.of(tokenizer.end())];
}

import { StrataError } from '../../errors.js';

export type Token =
  | { readonly type: 'number'; readonly value: number; readonly pos: number }
  | { readonly type: 'string'; readonly value: string; readonly pos: number }
  /** A bare word (keyword or column name, `upper` for keyword matching) or a "quoted" column name. */
  | {
      readonly type: 'word';
      readonly value: string;
      readonly upper: string;
      readonly quoted: boolean;
      readonly pos: number;
    }
  | { readonly type: 'op'; readonly value: string; readonly pos: number }
  | { readonly type: 'end'; readonly pos: number };

/** INVALID_ARGUMENT for a malformed expression, naming the character position (`details.field` = "expression@pos"). */
export function syntaxError(text: string, pos: number, what: string): StrataError {
  return new StrataError('INVALID_ARGUMENT', `filter expression: ${what} at position ${pos}: ${excerpt(text, pos)}`, {
    field: `expression@${pos}`,
    hint: "write e.g. label = 'cat' AND score > 0.5 (strings in single quotes, '' for a quote)",
  });
}

function excerpt(text: string, pos: number): string {
  return `${text.slice(Math.max(0, pos - 20), pos)}⟨here⟩${text.slice(pos, pos + 20)}`;
}

const OPS = ['<=', '>=', '<>', '!=', '=', '<', '>', '(', ')', ',', '+', '-', '*', '/'];

/** Splits an expression into tokens; INVALID_ARGUMENT with the position for an unterminated string or a stray character. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw syntaxError(text, start, `unterminated ${c === "'" ? 'string' : 'quoted name'}`);
        if (text[i] === c) {
          if (text[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      out.push(
        c === "'"
          ? { type: 'string', value, pos: start }
          : { type: 'word', value, upper: '', quoted: true, pos: start },
      );
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (num) {
      out.push({ type: 'number', value: Number(num[0]), pos: start });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (word) {
      out.push({ type: 'word', value: word[0], upper: word[0].toUpperCase(), quoted: false, pos: start });
      i += word[0].length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw syntaxError(text, start, `unexpected character ${JSON.stringify(c)}`);
    out.push({ type: 'op', value: op === '<>' ? '!=' : op, pos: start });
    i += op.length;
  }
  out.push({ type: 'end', pos: text.length });
  return out;
}

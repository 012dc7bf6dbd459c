/**
 * Canonical entity key encoding shared by every online store.
 *
 * `name=<type>:<value>` pairs sorted by join key name and joined by `,`; names and string values are
 * percent-encoded, so the text never contains `{`, `}`, `,`, `=` or `:` of its own and can sit inside
 * a Redis Cluster hash tag whole. Integers encode the same whether they arrive as `number` or `bigint`
 * (an HTTP client's `42` finds what the engine wrote as `42n`).
 */
import { StrataError } from '../errors.js';

/** Join key name → value, e.g. `{ user_id: 42 }`. */
export type EntityKey = Readonly<Record<string, unknown>>;

function encodePart(value: unknown, field: string): string {
  switch (typeof value) {
    case 'string':
      return 's:' + encodeURIComponent(value);
    case 'number':
      if (Number.isInteger(value))
        return 'i:' + (Number.isSafeInteger(value) ? String(value) : BigInt(value).toString());
      if (Number.isFinite(value)) return 'f:' + String(value);
      break;
    case 'bigint':
      return 'i:' + value.toString();
    case 'boolean':
      return value ? 'b:1' : 'b:0';
    default:
      if (value instanceof Uint8Array) return 'x:' + Buffer.from(value).toString('hex');
  }
  throw new StrataError(
    'INVALID_ARGUMENT',
    `entity key ${field} must be a string, integer, finite number, boolean or bytes`,
    {
      field,
      hint: `got ${value === null ? 'null' : typeof value}`,
    },
  );
}

/** Encodes an entity key; `joinKeys` (the view's, any order) picks and checks the columns. */
export function encodeEntityKey(key: EntityKey, joinKeys?: readonly string[]): string {
  const names = joinKeys ? [...joinKeys] : Object.keys(key);
  if (names.length === 1) {
    const n = names[0];
    if (!(n in key)) throw missing(n);
    return encodeURIComponent(n) + '=' + encodePart(key[n], n);
  }
  names.sort();
  let out = '';
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    if (!(n in key)) throw missing(n);
    out += (i ? ',' : '') + encodeURIComponent(n) + '=' + encodePart(key[n], n);
  }
  return out;
}

function missing(name: string): StrataError {
  return new StrataError('INVALID_ARGUMENT', `entity key is missing join key ${name}`, {
    field: name,
    hint: `pass a value for ${name} for every entity row`,
  });
}

/** Inverse of `encodeEntityKey`. Integers come back as numbers when safe, else bigints. */
export function decodeEntityKey(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const name = decodeURIComponent(pair.slice(0, eq));
    const type = pair[eq + 1];
    const raw = pair.slice(eq + 3);
    switch (type) {
      case 's':
        out[name] = decodeURIComponent(raw);
        break;
      case 'i': {
        const big = BigInt(raw);
        out[name] =
          big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
        break;
      }
      case 'f':
        out[name] = Number(raw);
        break;
      case 'b':
        out[name] = raw === '1';
        break;
      case 'x':
        out[name] = new Uint8Array(Buffer.from(raw, 'hex'));
        break;
      default:
        throw new StrataError('CORRUPT', `cannot decode entity key ${text}`, { key: text });
    }
  }
  return out;
}

const INT_KEY = /^(?:int(?:8|16|32|64)?|uint(?:8|16|32|64))$/i;
const INT_TEXT = /^[+-]?\d+$/;

/**
 * An entity key value for a join key of `dtype`: integer keys accept numbers, bigints and decimal
 * text (exact for every int64) and come out as numbers when safe, else bigints. A number beyond
 * 2^53 has already lost precision (it could name another entity): INVALID_ARGUMENT.
 */
export function keyForDtype(value: unknown, dtype: string | undefined, field: string): unknown {
  if (dtype === undefined || !INT_KEY.test(dtype)) return value;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        `entity key ${field}: ${value} is beyond 2^53 and not exact as a number`,
        {
          field,
          hint: 'send integer ids above 9007199254740991 as decimal strings (or bigints)',
        },
      );
    }
    return value;
  }
  let big: bigint | undefined;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'string' && INT_TEXT.test(value)) big = BigInt(value);
  if (big === undefined) return value;
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

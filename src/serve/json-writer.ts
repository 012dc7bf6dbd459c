/**
 * JSON text built in one reused byte buffer and returned as one flat string. Concatenating a
 * response from many strings leaves a rope that is flattened (copied) again when it is written, and
 * every value's own string is garbage too: for a 7.6 KB /get-online-features response that was
 * ~30 KB of heap per request. Float32 vectors are written as digits straight into the buffer.
 */
import { float32ArrayJsonMaxBytes, putFloat32Array } from './float-json.js';

const INITIAL_BYTES = 64 * 1024;
/** Strings up to this many characters are copied by a JS loop when ASCII (see text()). */
const SHORT_TEXT = 64;
/** A buffer grown past this by one large response is dropped at the next reset. */
const KEEP_BYTES = 1024 * 1024;

export class JsonWriter {
  private buf = Buffer.allocUnsafe(INITIAL_BYTES);
  private p = 0;
  private ascii = true;

  reset(): this {
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    this.p = 0;
    this.ascii = true;
    return this;
  }

  private room(bytes: number): void {
    if (this.p + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.p + bytes));
    this.buf.copy(grown, 0, 0, this.p);
    this.buf = grown;
  }

  /** JSON text as it is (any string: non-ASCII is written as UTF-8). */
  text(s: string): this {
    const len = s.length;
    this.room(3 * len);
    if (len <= SHORT_TEXT) {
      // Punctuation, statuses, timestamps: a JS loop is cheaper than a call into C++ (Buffer#write
      // was ~7% of the server's CPU per /get-online-features request, almost all for such strings).
      const buf = this.buf;
      let p = this.p;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[p++] = c;
      }
      if (i === len) {
        this.p = p;
        return this;
      }
      // non-ASCII: written below as UTF-8 from the start of the string
    }
    const n = this.buf.write(s, this.p, 'utf8');
    if (n !== s.length) this.ascii = false;
    this.p += n;
    return this;
  }

  /** A float32 vector as a JSON array. */
  float32Array(v: Float32Array): this {
    this.room(float32ArrayJsonMaxBytes(v.length));
    this.p = putFloat32Array(this.buf, this.p, v);
    return this;
  }

  /** The text so far, as one flat string. */
  finish(): string {
    return this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.p);
  }
}

const vectorWriter = new JsonWriter();

/** `[x0,x1,…]` for a Float32Array (at most nine significant digits; see float-json.ts). */
export function float32ArrayJson(v: Float32Array): string {
  return vectorWriter.reset().float32Array(v).finish();
}

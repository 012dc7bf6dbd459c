import { describe, expect, it } from 'vitest';
import { JsonWriter } from '../../src/serve/json-writer.js';

describe('JsonWriter', () => {
  it('text(): short and long strings, ASCII or not, come out as written (UTF-8 inside, one string out)', () => {
    const parts = [
      '{',
      '"a":',
      '"PRESENT"',
      ',',
      '"2024-05-31T12:00:00.000Z"', // short ASCII (the JS loop)
      '"é"',
      '"n0é"',
      '"ünïcødé ✓ 𝄞"', // short, non-ASCII first or after ASCII (falls back to UTF-8)
      'x'.repeat(64),
      'y'.repeat(65),
      `"${'z'.repeat(70)}ü"`, // at and past the short limit
      '',
      '}',
    ];
    const w = new JsonWriter();
    for (const p of parts) w.text(p);
    expect(w.finish()).toBe(parts.join(''));
    // ASCII only: the same writer, reset, gives the same text again
    w.reset();
    for (const p of parts.filter((x) => /^[^\u0080-\uffff]*$/.test(x))) w.text(p);
    expect(w.finish()).toBe(parts.filter((x) => /^[^\u0080-\uffff]*$/.test(x)).join(''));
  });

  it('grows past its initial buffer without losing what was written', () => {
    const w = new JsonWriter();
    const piece = '"0123456789abcdef",';
    for (let i = 0; i < 10_000; i++) w.text(piece);
    expect(w.finish()).toBe(piece.repeat(10_000));
  });
});

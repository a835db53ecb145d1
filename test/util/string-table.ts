// A `.tal.types` section holding only a string table (docs/tal.md §5; every other count 0), for tests of the
// reader's string rules: the bytes of `text` and the end offsets `ends`, written as the format lays them out.
import { ANNOTATION_MAGIC, ANNOTATION_VERSION, HEADER_FIELDS, layout } from '../../tal/annotations.ts';

export function stringTableSection(text: string | Uint8Array, ends: readonly number[]): Uint8Array {
  const h = Object.fromEntries(HEADER_FIELDS.map(f => [f, 0])) as Record<(typeof HEADER_FIELDS)[number], number>;
  h.version = ANNOTATION_VERSION;
  h.strings = ends.length;
  h.stringBytes = text.length;
  const { offsets, size } = layout(h);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 8; i++) b[i] = ANNOTATION_MAGIC.charCodeAt(i);
  HEADER_FIELDS.forEach((f, i) => dv.setUint32(8 + 4 * i, h[f], true));
  ends.forEach((e, i) => dv.setUint32(offsets.string + 4 * i, e, true));
  b.set(typeof text === 'string' ? latin1(text) : text, offsets.bytes);
  return b;
}

/** The same for a list of whole strings (characters as bytes, or the bytes), each ending where the next begins. */
export function stringsSection(strings: readonly (string | Uint8Array)[]): Uint8Array {
  const parts = strings.map(s => (typeof s === 'string' ? latin1(s) : s));
  const text = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let end = 0;
  const ends = parts.map(p => {
    text.set(p, end);
    return (end += p.length);
  });
  return stringTableSection(text, ends);
}

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, c => c.charCodeAt(0));
}

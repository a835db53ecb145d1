// The decoder at the very end of the code (redspeed4): old (OLD's sources) against this tree's `decode`, on every
// byte string of 1, 2 and 3 bytes that is the whole code (the padded copy decodes all of them), and on every 2-byte
// start followed by random bytes up to 4-11 bytes in all, the whole code again, and the same bytes with 0-3 bytes of
// a random tail past them (not at the end: the direct path). The result compared as JSON (refusals: class, text,
// length; instructions: every field). usage: OLD=tree npx tsx test/red/speed4/tailsweep.ts [SEED]
import * as B from '../../../tal/x86/decode.ts';
const OLD = process.env.OLD ?? '/work/main';
const M: typeof B = await import(`${OLD}/tal/x86/decode.ts`);
let seed = Number(process.argv[2] ?? 5);
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
let n = 0, diffs = 0, refused = 0;
const classes = new Map<string, number>();
function cmp(code: Uint8Array, off: number): void {
  n++;
  const address = 0x8048000 + off;
  const a = JSON.stringify(M.decode(code, off, address)), b = JSON.stringify(B.decode(code, off, address));
  if (a.includes('"refused"')) refused++;
  const k = a.match(/"reason":"([a-z-]+)"/)?.[1] ?? 'insn';
  classes.set(k, (classes.get(k) ?? 0) + 1);
  if (a !== b && diffs++ < 20) console.log('DIFF', Buffer.from(code).toString('hex'), off, '\n old', a, '\n new', b);
}
for (let len = 1; len <= 3; len++) {
  const code = new Uint8Array(len);
  for (let v = 0; v < 1 << (8 * len); v++) {
    for (let i = 0; i < len; i++) code[i] = (v >> (8 * i)) & 0xff;
    cmp(code, 0);
  }
}
for (let v = 0; v < 1 << 16; v++) {
  for (let len = 4; len <= 11; len++) {
    const code = new Uint8Array(len + 3);
    code[0] = v & 0xff; code[1] = v >> 8;
    for (let i = 2; i < code.length; i++) code[i] = rnd() & 0xff;
    cmp(code.subarray(0, len), 0);
    cmp(code.subarray(0, len + (rnd() & 3)), 0);
    // At an offset: the same bytes after 0-14 bytes of other code.
    const pre = rnd() % 15, whole = new Uint8Array(pre + len);
    whole.set(code.subarray(0, len), pre);
    cmp(whole, pre);
  }
}
console.log(`${n} decodes (${refused} refused by the old), ${diffs} differences;`,
  [...classes].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', '));

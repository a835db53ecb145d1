// Checks one ELF file and prints the verdict as JSON: for tests that run the checker in a process of its own (to
// bound its heap with --max-old-space-size, say).
import { readFileSync } from 'node:fs';
import { checkElf } from '../../tal/check/checker.ts';

const r = checkElf(new Uint8Array(readFileSync(process.argv[2])));
console.log(JSON.stringify(r.ok ? { ok: true, work: r.work } : { ok: false, cls: r.error.cls, work: r.work }));

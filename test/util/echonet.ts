// What the echo-server tests share: verified executables written out for the host to run (the free host port they
// share with bench/echod.ts is in bench/hosttools.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, type CompileOptions } from '../../compiler/popc.ts';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import type { scratch } from './native.ts';

const root = join(import.meta.dirname, '..', '..');

export interface Executable { elf: Uint8Array; exe: string }

/** `elf`, which must pass the checker, written executable into `bin` as `name`. */
export function verifiedExe(bin: ReturnType<typeof scratch>, elf: Uint8Array, name: string): Executable {
  const r = checkElf(elf);
  if (!r.ok) throw new Error(`${name} does not verify: ${r.error.cls}: ${r.error.message} at ${r.error.insn ?? ''}`);
  return { elf, exe: bin.file(name, elf, 0o755) };
}

/** The Popcorn program at `path` (from the repository's root), compiled, verified and written out as `name`. */
export function popcExe(bin: ReturnType<typeof scratch>, path: string, name: string,
  options: CompileOptions = {}): Executable {
  const r = compile(readFileSync(join(root, path), 'utf8'), path.split('/').pop()!, options);
  if (!r.elf) throw new Error(`${path}: ${JSON.stringify(r.diagnostics)} ${r.assemblerErrors ?? ''}`);
  return verifiedExe(bin, r.elf, name);
}

/** The TAL program at `path`, assembled, verified and written out as `name`. */
export function talExe(bin: ReturnType<typeof scratch>, path: string, name: string): Executable {
  return verifiedExe(bin, assemble(readFileSync(join(root, path), 'utf8'), path.split('/').pop()!).elf, name);
}

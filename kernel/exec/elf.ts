// What the loader needs of an ELF executable, checked as Linux's load_elf_binary checks it (fs/binfmt_elf.c):
// the header (ELFCLASS32, little-endian, EM_386, ET_EXEC), the program headers, and each PT_LOAD segment (file size
// within memory size, offset and address congruent modulo the page size, inside user space). Section headers are
// not read (Linux does not need them), and a segment may be writable and executable (ld -N makes one): the hardware
// protects the kernel from user mode. Kernel mode runs the checker first, whose reader (tal/elf.ts) is far stricter.

import { ExecError } from './loader-error.ts';
import { PAGE_SIZE, TASK_SIZE } from '../arch/layout.ts';

export const PT_LOAD = 1;
export const PF_X = 1, PF_W = 2, PF_R = 4;

export interface LoadSegment { vaddr: number; memsz: number; offset: number; filesz: number; flags: number }
export interface Executable { entry: number; phoff: number; phnum: number; segments: LoadSegment[] }

export function readExecutable(b: Uint8Array, name: string): Executable {
  const bad = (why: string): never => { throw new ExecError(`${name}: cannot execute binary file: Exec format error ` +
    `(${why})`); };
  if (b.length < 52 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) bad('not an ELF file');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b[4] !== 1) bad('not a 32-bit ELF file');
  if (b[5] !== 1) bad('not little-endian');
  const type = v.getUint16(16, true), machine = v.getUint16(18, true);
  if (type !== 2) bad(`ELF type ${type} is not ET_EXEC`);
  if (machine !== 3 && machine !== 6) bad(`machine ${machine} is not i386`);
  const entry = v.getUint32(24, true), phoff = v.getUint32(28, true);
  const phentsize = v.getUint16(42, true), phnum = v.getUint16(44, true);
  if (phentsize !== 32) bad(`program header size ${phentsize}`);
  if (phnum < 1 || phnum > 65536 / 32) bad(`${phnum} program headers`);
  if (phoff + phnum * 32 > b.length) bad('the program headers run past the end of the file');
  const segments: LoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + 32 * i;
    if (v.getUint32(o, true) !== PT_LOAD) continue;
    const seg = {
      offset: v.getUint32(o + 4, true), vaddr: v.getUint32(o + 8, true), filesz: v.getUint32(o + 16, true),
      memsz: v.getUint32(o + 20, true), flags: v.getUint32(o + 24, true),
    };
    if (seg.filesz > seg.memsz) bad(`segment ${i}: file size above memory size`);
    if ((seg.vaddr - seg.offset) % PAGE_SIZE !== 0)
      bad(`segment ${i}: offset and address disagree modulo the page size`);
    if (seg.vaddr + seg.memsz > TASK_SIZE) bad(`segment ${i} reaches kernel space`);
    if (seg.filesz > 0 && seg.offset + seg.filesz > b.length) bad(`segment ${i} runs past the end of the file`);
    if (seg.memsz > 0) segments.push(seg);
  }
  if (segments.length === 0) bad('no loadable segment');
  return { entry, phoff, phnum, segments };
}

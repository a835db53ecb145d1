// Reading a TAL executable into the pieces the checker, the disassembler and the kernel's loader need:
// the ELF image, the code to verify, the annotations and the import table. Trusted (the checker uses it).

import { type Annotations, AnnotationError, readAnnotations } from '../annotations.ts';
import { type ElfImage, type ElfSection, ElfError, findSection, hex, PF_W, PF_X, readElf, readLoaded, segmentFor,
  SHF_ALLOC, SHF_EXECINSTR } from '../elf.ts';

export const TEXT_SECTION = '.text';
export const TYPES_SECTION = '.tal.types';
export const IMPORTS_SECTION = '.tal.imports';
export const RUNTIME_SECTION = '.tal.rt';
/** The user-mode runtime's private variables (heap pointers, path buffer): no data object may overlap them. */
export const RUNTIME_DATA_SECTION = '.tal.rtbss';

export interface ImportSlot { readonly name: string; readonly slot: number }

export interface Program {
  readonly img: ElfImage;
  /** Address and loaded bytes of the code to verify. */
  readonly textAddr: number;
  readonly text: Uint8Array;
  /** File offset of the first code byte (for messages). */
  readonly textFileOffset: number;
  readonly ann: Annotations;
  readonly imports: readonly ImportSlot[];
  /** The address range of the import table (slots included). */
  readonly importTable: { readonly addr: number; readonly size: number };
}

export type ProgramErrorClass = 'elf' | 'annotation' | 'import';

export class ProgramError extends Error {
  override name = 'ProgramError';
  constructor(readonly cls: ProgramErrorClass, message: string) {
    super(message);
  }
}

function requireSection(img: ElfImage, name: string): ElfSection {
  const s = findSection(img, name);
  if (!s) throw new ProgramError(name === TYPES_SECTION ? 'annotation' : name === IMPORTS_SECTION ? 'import' : 'elf',
    `no ${name} section`);
  return s;
}

export function readProgram(bytes: Uint8Array): Program {
  let img: ElfImage;
  try {
    img = readElf(bytes);
  } catch (e) {
    if (e instanceof ElfError) throw new ProgramError('elf', e.message);
    throw e;
  }
  if (img.sections.filter(s => s.name === TEXT_SECTION).length > 1)
    throw new ProgramError('elf', `more than one ${TEXT_SECTION} section`);
  const textSec = requireSection(img, TEXT_SECTION);
  if ((textSec.flags & (SHF_ALLOC | SHF_EXECINSTR)) !== (SHF_ALLOC | SHF_EXECINSTR))
    throw new ProgramError('elf', `${TEXT_SECTION} is not allocated executable code`);
  if (textSec.size === 0) throw new ProgramError('elf', `${TEXT_SECTION} is empty`);
  const textSeg = segmentFor(img, textSec.addr, textSec.size);
  if (!textSeg || !(textSeg.flags & PF_X))
    throw new ProgramError('elf',
      `${TEXT_SECTION} (0x${hex(textSec.addr)}, ${textSec.size} bytes) is not inside an executable segment`);
  if (textSec.addr + textSec.size > textSeg.vaddr + textSeg.filesz)
    throw new ProgramError('elf', `${TEXT_SECTION} extends past the file-backed part of its segment`);
  const text = readLoaded(img, textSec.addr, textSec.size)!;
  const textFileOffset = textSeg.offset + (textSec.addr - textSeg.vaddr);

  const typesSec = requireSection(img, TYPES_SECTION);
  if (typesSec.flags & SHF_ALLOC) throw new ProgramError('annotation', `${TYPES_SECTION} must not be loaded`);
  let ann: Annotations;
  try {
    ann = readAnnotations(bytes.subarray(typesSec.offset, typesSec.offset + typesSec.size));
  } catch (e) {
    if (e instanceof AnnotationError) throw new ProgramError('annotation', e.message);
    throw e;
  }

  const impSec = requireSection(img, IMPORTS_SECTION);
  if (!(impSec.flags & SHF_ALLOC)) throw new ProgramError('import', `${IMPORTS_SECTION} must be loaded`);
  const impSeg = segmentFor(img, impSec.addr, impSec.size);
  if (!impSeg) throw new ProgramError('import', `${IMPORTS_SECTION} is not inside a loaded segment`);
  if (impSeg.flags & (PF_W | PF_X))
    throw new ProgramError('import', `${IMPORTS_SECTION} must be in a read-only, non-executable segment`);
  const imp = readLoaded(img, impSec.addr, impSec.size)!;
  const imports = parseImportTable(imp, impSec.addr);
  return { img, textAddr: textSec.addr, text, textFileOffset, ann, imports,
    importTable: { addr: impSec.addr, size: impSec.size } };
}

/**
 * `.tal.imports`: u32 count, then count u32 slots (each holding the address the import is bound to), then the
 * count names, each NUL-terminated. Slot i is at the section's address + 4 + 4i.
 */
export function parseImportTable(b: Uint8Array, addr: number): ImportSlot[] {
  if (b.length < 4) throw new ProgramError('import', `${IMPORTS_SECTION} is truncated`);
  const count = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  if (count > (b.length - 4) / 5)
    throw new ProgramError('import', `${IMPORTS_SECTION} claims ${count} imports but has room for fewer`);
  const out: ImportSlot[] = [];
  let p = 4 + 4 * count;
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    let end = p;
    while (end < b.length && b[end] !== 0) end++;
    if (end >= b.length) throw new ProgramError('import', `${IMPORTS_SECTION}: name ${i} is not terminated`);
    const name = new TextDecoder().decode(b.subarray(p, end));
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new ProgramError('import', `${IMPORTS_SECTION}: bad import name ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new ProgramError('import', `import '${name}' listed twice`);
    seen.add(name);
    out.push({ name, slot: (addr + 4 + 4 * i) >>> 0 });
    p = end + 1;
  }
  return out;
}

// The disassembler behind taldump: code with each block's type above it, the data objects and the import table.

import { coercionText, instText, typeDefHead } from './annotations.ts';
import { findSection, hex, readLoaded } from './elf.ts';
import { importSig } from './interface.ts';
import { showCode, showTy } from './types.ts';
import { type Program, RUNTIME_SECTION } from './check/program.ts';
import { decode } from './x86/decode.ts';
import { formatInsn } from './x86/format.ts';
import { isRefusal } from './x86/insn.ts';

function bytesHex(b: Uint8Array, from: number, len: number): string {
  const out: string[] = [];
  for (let i = 0; i < len; i++) out.push(b[from + i].toString(16).padStart(2, '0'));
  return out.join(' ');
}

function disassemble(p: Program, code: Uint8Array, addr: number, withTypes: boolean): string[] {
  const lines: string[] = [];
  const names = new Map<number, string>();
  for (const l of p.ann.code.values()) names.set(l.addr, l.name);
  for (const l of p.ann.data.values()) names.set(l.addr, l.name);
  for (const i of p.imports) names.set(i.slot, `import ${i.name}`);
  let off = 0;
  while (off < code.length) {
    const a = (addr + off) >>> 0;
    const label = withTypes ? p.ann.code.get(a) : undefined;
    if (label) {
      lines.push('');
      lines.push(`${label.name}:    # ${showCode(label.ty)}`);
    }
    const inst = withTypes ? p.ann.inst.get(a) : undefined;
    if (inst) lines.push(`    # instantiated with ${instText(inst)}`);
    // Coercions (docs/tal.md §4.8) apply before the instruction: `# pack esi : TYPE with W`, `# unpack edi`.
    for (const c of withTypes ? p.ann.coerce.get(a) ?? [] : []) lines.push(`    # ${coercionText(c)}`);
    const d = decode(code, off, a);
    const len = Math.max(1, Math.min(d.length, code.length - off));
    let text: string;
    if (isRefusal(d)) {
      text = `${d.text}    # not TAL: ${d.reason}`;
    } else {
      text = formatInsn(d);
      const refs: string[] = [];
      for (const o of d.operands) {
        const v = o.kind === 'rel' ? o.target : o.kind === 'mem' && o.base === -1 && o.index === -1 ? o.disp >>> 0
          : o.kind === 'imm' ? o.value >>> 0 : undefined;
        if (v !== undefined && names.has(v)) refs.push(names.get(v)!);
      }
      if (refs.length) text += `    <${refs.join(', ')}>`;
    }
    lines.push(`  ${hex(a).padStart(8, '0')}:  ${bytesHex(code, off, len).padEnd(21)} ${text}`);
    off += len;
  }
  return lines;
}

export function dumpProgram(p: Program, opts: { runtime?: boolean } = {}): string {
  const out: string[] = [];
  out.push(`entry label: ${p.ann.main}`);
  if (p.ann.defs.size) {
    out.push('', 'types:');
    for (const d of p.ann.defs.values()) out.push(`  ${typeDefHead(d)} = ${showTy(d.body)}`);
  }
  out.push('', 'imports:');
  for (const i of p.imports) {
    const sig = importSig(i.name);
    const slotBytes = readLoaded(p.img, i.slot, 4);
    const bound = slotBytes
      ? ((slotBytes[0] | (slotBytes[1] << 8) | (slotBytes[2] << 16) | (slotBytes[3] << 24)) >>> 0) : 0;
    const ty = sig ? `(${sig.spec.params.join(', ')}) -> ${sig.spec.result ?? 'never returns'}`
      : '(not in the kernel interface)';
    out.push(`  slot 0x${hex(i.slot)}  ${i.name.padEnd(14)} ${ty}    [bound to 0x${hex(bound)}]`);
  }
  if (p.ann.data.size) {
    out.push('', 'data:');
    for (const d of [...p.ann.data.values()].sort((a, b) => a.addr - b.addr)) out.push(`  0x${hex(d.addr)}  ${d.name}: ${showTy(d.ty)}`);
  }
  out.push('', `code (.text, 0x${hex(p.textAddr)}, ${p.text.length} bytes):`);
  out.push(...disassemble(p, p.text, p.textAddr, true));
  if (opts.runtime) {
    const rt = findSection(p.img, RUNTIME_SECTION);
    if (rt) {
      const bytes = readLoaded(p.img, rt.addr, rt.size);
      out.push('', `user-mode runtime (${RUNTIME_SECTION}, 0x${hex(rt.addr)}, ${rt.size} bytes; never verified, never ` +
        `run in kernel mode):`);
      if (bytes) out.push(...disassemble(p, bytes, rt.addr, false));
    }
  }
  return out.join('\n') + '\n';
}

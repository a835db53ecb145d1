// A test rig for the emulated machine: GNU as + ld put small programs at chosen addresses, a BareSystem gives
// them a GDT, IDT, TSS and page tables, and every IDT vector by default leads to a kernel function that records the
// trap frame the CPU pushed and stops the machine. Tests then replace gates, map pages, and check what happened.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine, type MachineOptions } from '../../emulator/machine.ts';
import { BareSystem, type MapFlags } from '../../kernel/arch/bare.ts';
import { PAGE_OFFSET } from '../../kernel/arch/layout.ts';
import { hasErrorCode } from '../../emulator/exceptions.ts';
import type { KernelContext } from '../../emulator/kfuncs.ts';

export interface Assembled { code: Uint8Array; sym: Record<string, number> }

/** Assemble GNU Intel-syntax source (one string) so that its first byte is at `address`. */
export function asm(source: string, address: number): Assembled {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-rig-'));
  try {
    writeFileSync(join(dir, 'a.s'), `.intel_syntax noprefix\n.text\n.globl _start\n_start:\n${source}\n`);
    const run = (tool: string, args: string[]) => execFileSync(tool, args,
      { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    run('as', ['--32', '-o', 'a.o', 'a.s']);
    run('ld', ['-m', 'elf_i386', `-Ttext=0x${(address >>> 0).toString(16)}`, '-N', '-z', 'noexecstack', '-o', 'a.out',
      'a.o']);
    run('objcopy', ['-O', 'binary', '-j', '.text', 'a.out', 'text.bin']);
    const sym: Record<string, number> = {};
    for (const line of run('nm', ['a.out']).split('\n')) {
      const m = line.match(/^([0-9a-f]+) \S (\S+)$/);
      if (m) sym[m[2]] = parseInt(m[1], 16);
    }
    return { code: new Uint8Array(readFileSync(join(dir, 'text.bin'))), sym };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the CPU pushed for a trap, as the recording handler found it. */
export interface Trap {
  vector: number;
  error: number | null;
  eip: number;
  cs: number;
  eflags: number;
  /** Pushed only on an entry from CPL 3. */
  esp: number | null;
  ss: number | null;
  cr2: number;
  /** esp when the handler started (the frame's lowest word). */
  handlerEsp: number;
}

export const USER_CODE = 0x08048000;
export const USER_DATA = 0x08100000;
export const USER_STACK_TOP = 0xbf000000;

export class Rig {
  readonly m: Machine;
  readonly bare: BareSystem;
  readonly traps: Trap[] = [];

  constructor(opts: MachineOptions = {}) {
    this.m = new Machine({ memoryBytes: 8 << 20, kernelFunctionSlots: 1024, ...opts });
    this.bare = new BareSystem(this.m);
    for (let v = 0; v < 256; v++) {
      const at = this.m.kfuncs.register(`trap_${v}`, ctx => this.record(ctx, v));
      this.bare.setGate(v, 'int', at, 0);
    }
  }

  /** The recording handler: the frame is at esp (the gate entered a kernel function directly). */
  private record(ctx: KernelContext, vector: number): void {
    const sp = ctx.reg(4) >>> 0;
    let at = sp;
    const error = hasErrorCode(vector) ? ctx.read32(at) >>> 0 : null;
    if (error !== null) at += 4;
    const eip = ctx.read32(at) >>> 0, cs = ctx.read32(at + 4) & 0xffff, eflags = ctx.read32(at + 8) >>> 0;
    const outer = (cs & 3) !== 0;
    this.traps.push({
      vector, error, eip, cs, eflags,
      esp: outer ? ctx.read32(at + 12) >>> 0 : null,
      ss: outer ? ctx.read32(at + 16) & 0xffff : null,
      cr2: this.m.mmu.cr2 >>> 0,
      handlerEsp: sp,
    });
    ctx.stop(`trap ${vector}`);
  }

  /** Map fresh pages and put code there (user pages unless flags say otherwise). */
  code(source: string, address = USER_CODE, flags: MapFlags = { user: true }): Record<string, number> {
    const a = asm(source, address);
    this.bare.mapFresh(address, Math.max(a.code.length, 1), flags);
    this.bare.write(address, a.code);
    return a.sym;
  }

  /** Kernel code in low memory (supervisor pages, reached through the direct map). */
  kernelCode(source: string): Record<string, number> {
    const pages = 4;
    const virt = PAGE_OFFSET + this.bare.allocLow(pages * 4096);
    const a = asm(source, virt);
    if (a.code.length > pages * 4096) throw new Error('kernel test code too long');
    this.bare.write(virt, a.code);
    return a.sym;
  }

  /** Start at CPL 3 at `eip` with a fresh user stack. */
  user(eip: number, eflags = 0x202): this {
    this.bare.mapFresh(USER_STACK_TOP - 0x2000, 0x2000, { user: true, writable: true });
    this.bare.enterUser(eip, USER_STACK_TOP, eflags);
    return this;
  }

  /** Start at CPL 0 at `eip` on the kernel stack. */
  kernel(eip: number, esp = this.bare.kernelStackTop, eflags = 0x2): this {
    this.bare.enterKernel(eip, esp, eflags);
    return this;
  }

  run(max = 1_000_000): ReturnType<Machine['run']> { return this.m.run(max); }

  get lastTrap(): Trap | undefined { return this.traps[this.traps.length - 1]; }
  reg(r: number): number { return this.m.cpu.regs[r] >>> 0; }
}

/** A static i386 executable from GNU Intel-syntax source with a `_start` label (as + ld, the usual layout). */
export function buildElf(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-elf-'));
  try {
    writeFileSync(join(dir, 'a.s'), `.intel_syntax noprefix\n.globl _start\n${source}\n`);
    const run = (tool: string, args: string[]) => execFileSync(tool, args,
      { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    run('as', ['--32', '-o', 'a.o', 'a.s']);
    run('ld', ['-m', 'elf_i386', '-z', 'noexecstack', '-o', 'a.out', 'a.o']);
    return new Uint8Array(readFileSync(join(dir, 'a.out')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

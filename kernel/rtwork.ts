// What the user-mode runtime executes for one import call, instruction by instruction, so that kernel mode can be
// charged the same work (docs/machine.md, "The runtime's work in kernel mode"). There is no Linux source to mirror:
// in Kernel Mode Linux [KML-LJ] the same libc code runs in both modes; here the user-mode runtime (tal/asm/
// runtime.ts: allocation, fill loops, the buffer checks, the path copy) is machine code in the program's .tal.rt,
// while kernel mode does the same work in TypeScript (kernel/ktal.ts). Without a charge kernel mode would get that
// work for free.
//
// The instructions are not estimated: the runtime is assembled by talas's own assembler, decoded by the emulator's
// own decoder (so each instruction gets the class the machine would retire it in), and walked along the path the
// call takes: each conditional branch is decided by what the kernel-mode implementation found (was the heap there,
// did brk have to grow it, how long is the path, which check failed), loops by their counts. The rule for what is
// charged: every instruction the runtime executes for the call, except the basic blocks that make a system call
// (those hold the crossing itself: the registers loaded for it, the call of the kernel entry the start-up code
// chose, `call DWORD PTR [__tal_rt_sysinfo]`, or an `int 0x80`, the restores and, for a stub, its return). The
// entry itself (`__tal_rt_int80` or the vsyscall page) is the crossing's and is not walked. The system call is the
// kernel's in both modes and is charged as such.
//
// Walks are linear in the loop counts, so each path is walked for two counts and the cost extrapolated: a fill of a
// million elements costs one lookup, not a million steps.

import { assemble } from '../tal/asm/assembler.ts';
import { runtimeSource } from '../tal/asm/runtime.ts';
import { symbolsOf } from '../tal/lines.ts';
import { decode } from '../emulator/decode.ts';
import { Op } from '../emulator/execute.ts';
import { REC } from '../emulator/memory.ts';
import { INSN_CLASSES } from '../emulator/costs.ts';
import { readExecutable } from './exec/elf.ts';

/** Instructions by InsnClass (index), as the machine counts them. */
export type ClassCounts = readonly number[];

/** What a walk found: the instructions kernel mode is charged, and those of the system-call blocks left out. */
export interface RuntimePath {
  readonly charged: ClassCounts;
  readonly crossing: ClassCounts;
  /** Of `crossing`, the instructions after the last system call (what a call that never returns does not run). */
  readonly crossingAfter: ClassCounts;
  /** System calls the path makes (the kernel entry called, or `int 0x80` executed). */
  readonly syscalls: number;
}

/**
 * How the walk decides a conditional branch to `target` (a runtime label) at its n-th evaluation in this call
 * (0-based): true if taken. A branch whose target has no rule is not taken (the error exits: the check passed).
 */
export type BranchRules = Readonly<Record<string, (n: number) => boolean>>;

interface Insn {
  readonly addr: number;
  readonly next: number;
  readonly op: number;
  readonly cls: number;
  /** The branch or call target, for JMP, JCC and CALL. */
  readonly target: number;
  /** In a basic block that makes a system call. */
  crossing: boolean;
}

/** The runtime as the machine would run it: its instructions by address and its labels. */
interface RuntimeImage {
  readonly insns: ReadonlyMap<number, Insn>;
  readonly labels: ReadonlyMap<string, number>;
  readonly names: ReadonlyMap<number, string>;
}

// A program that only exits: talas links the whole runtime (every stub) into any program.
const MINIMAL_PROGRAM = `.intel_syntax noprefix
.tal_import exit
.text
.tal_label main : code[r:stack]{esp: r}
main:
    push 0
    call DWORD PTR [exit]
`;

const CONTROL = new Set<number>([Op.JMP, Op.JCC, Op.CALL, Op.RET, Op.RET_I]);
/**
 * The instructions that make a system call: `int 0x80`, and the runtime's one indirect call, that of the kernel
 * entry (`call DWORD PTR [__tal_rt_sysinfo]`: `__tal_rt_int80` or the vsyscall page's `__kernel_vsyscall`).
 */
const SYSCALL = new Set<number>([Op.INT, Op.CALL_M]);

let image: RuntimeImage | undefined;

/** Assemble and decode the runtime once, and mark the basic blocks that make a system call. */
function runtimeImage(): RuntimeImage {
  if (image) return image;
  const elf = assemble(MINIMAL_PROGRAM, '<runtime charge>').elf;
  const names = new Map<number, string>();
  const labels = new Map<string, number>();
  // The runtime's code labels (its data labels, in .rodata and .tal.rtbss, are left out).
  const code = new Set([...runtimeSource('main').text.matchAll(/^(__tal_rt_\w+):/gm)].map(m => m[1]));
  for (const [addr, name] of symbolsOf(elf)) {
    if (!code.has(name)) continue;
    names.set(addr, name);
    labels.set(name, addr);
  }
  // The entry point is the runtime's start (_start, named __tal_rt_start too).
  const exe = readExecutable(elf, '<runtime charge>');
  const rt = exe.entry;
  labels.set('__tal_rt_start', rt);
  names.set(rt, '__tal_rt_start');
  const seg = exe.segments.find(s => rt >= s.vaddr && rt < s.vaddr + s.filesz);
  if (!seg) throw new Error('internal: the runtime\'s entry is in no loaded segment');
  // Decode from the start of the runtime to the end of its segment, in order.
  const bytes = elf.subarray(seg.offset, seg.offset + seg.filesz);
  const rec = new Int32Array(REC);
  const order: Insn[] = [];
  const insns = new Map<number, Insn>();
  // To the last code label, then to the end of its block (the runtime ends with `hlt` or a jump, never falls off).
  const lastLabel = Math.max(...labels.values());
  for (let addr = rt; ;) {
    const off = addr - seg.vaddr;
    decode(bytes, off, bytes.length - off, rec, 0);
    const len = rec[1] & 0xff, op = rec[0];
    if (op === Op.UD || len === 0) throw new Error(`internal: the runtime does not decode at 0x${addr.toString(16)}`);
    const next = addr + len;
    const insn: Insn = { addr, next, op, cls: (rec[1] >> 16) & 0xff, target: (next + rec[7]) | 0, crossing: false };
    order.push(insn);
    insns.set(addr, insn);
    addr = next;
    if (addr > lastLabel && (op === Op.HLT || op === Op.JMP || op === Op.RET)) break;
  }
  // A basic block starts at a label or after a control transfer, and ends with a control transfer or before a label.
  let block: Insn[] = [];
  const close = (): void => {
    if (block.some(i => SYSCALL.has(i.op))) for (const i of block) i.crossing = true;
    block = [];
  };
  for (const insn of order) {
    if (names.has(insn.addr)) close();
    block.push(insn);
    if (CONTROL.has(insn.op) || insn.op === Op.HLT) close();
  }
  close();
  image = { insns, labels, names };
  return image;
}

/**
 * Walk the runtime from `entry` (a label) until it returns to its caller or halts, deciding branches by `rules`.
 * Throws on a path that does not end (a rule that never exits a loop) after `limit` instructions.
 */
export function walkRuntime(entry: string, rules: BranchRules = {}, limit = 10_000_000): RuntimePath {
  const img = runtimeImage();
  let at = img.labels.get(entry);
  if (at === undefined) throw new Error(`internal: no runtime label ${entry}`);
  const charged = new Array<number>(INSN_CLASSES).fill(0), crossing = new Array<number>(INSN_CLASSES).fill(0);
  let crossingAfter = new Array<number>(INSN_CLASSES).fill(0);
  const seen = new Map<string, number>();
  const returns: number[] = [];
  let syscalls = 0;
  for (let steps = 0; ; steps++) {
    if (steps >= limit) throw new Error(`internal: the runtime walk from ${entry} does not end`);
    const insn = img.insns.get(at);
    if (!insn) throw new Error(`internal: the runtime walk from ${entry} left the runtime at 0x${at.toString(16)}`);
    (insn.crossing ? crossing : charged)[insn.cls]++;
    if (insn.crossing) crossingAfter[insn.cls]++;
    const done = (): RuntimePath => ({ charged, crossing, crossingAfter, syscalls });
    switch (insn.op) {
      case Op.INT: case Op.CALL_M: // the system call: it returns to the next instruction
        syscalls++;
        crossingAfter = new Array<number>(INSN_CLASSES).fill(0);
        at = insn.next;
        break;
      case Op.HLT: return done();
      case Op.JMP:
        // A jump out of the runtime (the start's jump to main) ends the path.
        if (!img.insns.has(insn.target) && returns.length === 0) return done();
        at = insn.target;
        break;
      case Op.CALL: returns.push(insn.next); at = insn.target; break;
      case Op.RET: case Op.RET_I: {
        const back = returns.pop();
        if (back === undefined) return done();
        at = back;
        break;
      }
      case Op.JCC: {
        const name = img.names.get(insn.target) ?? '';
        const n = seen.get(name) ?? 0;
        seen.set(name, n + 1);
        at = Object.hasOwn(rules, name) && rules[name](n) ? insn.target : insn.next;
        break;
      }
      default:
        if (insn.op === Op.JMP_R || insn.op === Op.JMP_M || insn.op === Op.CALL_R) {
          throw new Error(`internal: the runtime walk from ${entry} meets an indirect branch`);
        }
        at = insn.next;
    }
  }
}

/** a + k × (b − a), class by class: a path linear in a count, from its walks at two counts one apart. */
export function extrapolate(a: ClassCounts, b: ClassCounts, k: number): number[] {
  return a.map((x, i) => x + k * (b[i] - x));
}

/** A loop's exit branch taken at its `count`-th evaluation (0-based), and not before. */
export const exitAt = (count: number) => (n: number): boolean => n === count;
/** A loop's back branch taken `count` times, then not. */
export const repeat = (count: number) => (n: number): boolean => n < count;

/** The heap as one allocation found it: whether brk had to be asked for the break first, and to grow it. */
export interface AllocOutcome { readonly init: boolean; readonly grow: boolean }

/** The rules of __tal_rt_allocate for a sequence of allocations (one outcome each, in the order they were made). */
export function allocateRules(allocs: readonly AllocOutcome[]): BranchRules {
  return {
    __tal_rt_allocate_have: n => !allocs[n].init,
    __tal_rt_allocate_fits: n => !allocs[n].grow,
  };
}

/**
 * The runtime instructions charged to kernel mode, by class, and their cycles: what one kernel charges, with the
 * walks it has made (a path's walk depends only on the runtime and the decisions, so one cache serves all kernels).
 */
export class RuntimeMeter {
  readonly byClass = new Array<number>(INSN_CLASSES).fill(0);
  /** Import calls charged, by import name. */
  readonly calls = new Map<string, number>();

  constructor(private readonly insnCost: readonly number[], private readonly chargeCycles: (cycles: number) => void) {}

  /** Charge one call of import `name` its instructions. */
  charge(name: string, counts: ClassCounts): void {
    let cycles = 0;
    for (let i = 0; i < INSN_CLASSES; i++) {
      this.byClass[i] += counts[i];
      cycles += counts[i] * this.insnCost[i];
    }
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    if (cycles) this.chargeCycles(cycles);
  }
}

const cache = new Map<string, ClassCounts>();
/** Loop paths by key: the walks at the two counts. */
const loops = new Map<string, { at: number; a: ClassCounts; b: ClassCounts }>();

/** A path's charged instructions, walked once per key (the key must name every decision the rules make). */
export function cachedPath(key: string, entry: string, rules: BranchRules): ClassCounts {
  let counts = cache.get(key);
  if (!counts) {
    counts = walkRuntime(entry, rules).charged;
    cache.set(key, counts);
  }
  return counts;
}

/**
 * A path whose loop runs `count` times (count ≥ 0), the rest decided alike: walked at two counts and extrapolated.
 * `rulesFor(k)` gives the rules for a loop of k.
 */
export function loopPath(key: string, entry: string, count: number, rulesFor: (k: number) => BranchRules,
  from = 0): ClassCounts {
  let loop = loops.get(key);
  if (!loop) {
    const walk = (k: number): ClassCounts => walkRuntime(entry, rulesFor(k)).charged;
    loop = { at: from, a: walk(from), b: walk(from + 1) };
    loops.set(key, loop);
  }
  if (loop.at !== from) throw new Error(`internal: loop path ${key} walked from ${loop.at}, asked from ${from}`);
  return extrapolate(loop.a, loop.b, count - from);
}

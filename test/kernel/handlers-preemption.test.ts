// Exception handlers at CPL 0 under preemption (docs/tal.md §4.10, "At CPL 0"): test/programs/kernel/raise-loop.tal
// raises 15,000 times through three frames, at CPL 0, next to a second process that spins at CPL 0 too, with the
// timer fast enough (several rates, so the ticks fall on different instructions) that interrupts, and switches to the
// other process, land on every instruction of the raise: between `mov esp, ebp` and `ret`, and on the handler's first
// instruction. The interrupt frame at CPL 0 goes on the program's own stack, below esp (Intel SDM vol. 3A §6.12.1):
// if restoring esp could expose live data to it, the sum would come out wrong or the machine would fault. Where each
// tick landed is read from the interrupted eip in the pt_regs the entry code saved (kernel/entry.ts PT.EIP).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { readProgram } from '../../tal/check/program.ts';
import { decode } from '../../tal/x86/decode.ts';
import { isRefusal } from '../../tal/x86/insn.ts';
import { bootKernel, outcome, start } from '../../kernel/talrun.ts';
import { PT } from '../../kernel/entry.ts';
import { DEFAULT_PROFILE, profileByName } from '../../emulator/profiles.ts';

const root = join(import.meta.dirname, '..', '..');
const source = readFileSync(join(root, 'test', 'programs', 'kernel', 'raise-loop.tal'), 'utf8');
const elf = assemble(source, 'raise-loop.tal').elf;
const program = readProgram(elf);

/** A verified spinner that ends by itself after `n` iterations (so the kernel's run ends when both are done). */
const spinner = assemble([
  '.intel_syntax noprefix', '.tal_import exit', '.text',
  '.tal_label main : code[r:stack]{esp: r}', 'main:', '    mov ecx, 400000', '    jmp spin',
  '.tal_label spin : code[r:stack]{ecx: int, esp: r}', 'spin:', '    dec ecx', '    jne spin',
  '    push 0', '    call DWORD PTR [exit]',
].join('\n') + '\n', 'spinner.tal').elf;

const ITERATIONS = 30_000;
let expectedSum = 0;
for (let i = 0; i < ITERATIONS; i++) expectedSum = (expectedSum + (i % 2 ? 3 * i : i)) | 0;

/** The addresses of the instructions of a labelled block, up to and including its first `ret` or `jmp`. */
function blockInsns(label: string): { addr: number; text: string }[] {
  const code = program.ann.code;
  const at = [...code.values()].find(l => l.name === label);
  if (!at) throw new Error(`no label ${label}`);
  let off = at.addr - program.textAddr;
  const out: { addr: number; text: string }[] = [];
  for (;;) {
    const d = decode(program.text, off, program.textAddr + off);
    if (isRefusal(d)) throw new Error(`undecodable code in ${label}`);
    out.push({ addr: program.textAddr + off, text: d.op });
    if (d.op === 'ret' || d.op === 'jmp') return out;
    off += d.length;
  }
}

test('raises at CPL 0 under a timer storm and switches: right sum, no fault, ticks inside the raise', t => {
  const raise = blockInsns('odd'), handler = blockInsns('caught');
  t.deepEqual(raise.map(x => x.text), ['imul', 'mov', 'ret']);
  // The interrupted eip is the next instruction to run: the `ret` (esp restored, the handler not yet popped), the
  // handler's first instruction (the frames gone, the handler running on main's frame).
  const critical = new Map([
    [raise[2].addr, 'between mov esp, ebp and ret'],
    [handler[0].addr, 'at the handler\'s first instruction'],
  ]);
  const landed = new Map<number, number>();
  let ticks = 0;
  // Ticks every 6,000 to 7,200 cycles of the default profile's clock (not multiples of one another, so they land on
  // different instructions): as fast as the kernel allows (a tick must last 4,096 cycles) with room for a switch.
  const clock = profileByName(DEFAULT_PROFILE).clock.hz;
  for (const hz of [6000, 6138, 6353, 6557, 6857, 7200].map(cycles => Math.floor(clock / cycles))) {
    const out: Uint8Array[] = [];
    const k = bootKernel({ hz, onOutput: (fd, b) => { if (fd === 1) out.push(b); } });
    k.endInput();
    const tick = k.sched.tick.bind(k.sched);
    let pid = -1;
    k.sched.tick = (task, ns) => {
      if (task.pid === pid) {
        // The timer's entry pushed pt_regs on the program's stack (CPL 0: no stack switch), then called here.
        const cpu = k.machine.cpu;
        const eip = k.machine.mem.read32(cpu.mmu.translate((cpu.regs[4] + 4 + PT.EIP) | 0, false, false)) >>> 0;
        landed.set(eip, (landed.get(eip) ?? 0) + 1);
        ticks++;
      }
      return tick(task, ns);
    };
    const other = start(k, spinner, ['spinner'], { kernel: true });
    const started = start(k, elf, ['raise-loop'], { kernel: true });
    if (typeof other !== 'number' || typeof started !== 'number') return t.fail('not started');
    pid = started;
    const exit = k.run(5e7);
    t.is(exit, 'done', `hz ${hz}`);
    const r = outcome(k, pid, exit);
    t.is(r.signal, null, `hz ${hz}: ${r.exit?.fault ?? ''}`);
    t.is(r.status, expectedSum & 255, `hz ${hz}`);
    t.is(Buffer.concat(out).toString(), `${expectedSum >>> 0}\n`, `hz ${hz}`);
    t.is(k.exits.get(other)?.status, 0, `hz ${hz}: the other process`);
  }
  t.true(ticks >= 500, `only ${ticks} ticks landed in raise-loop`);
  for (const [addr, where] of critical) {
    t.true((landed.get(addr) ?? 0) > 0, `no tick landed ${where} (0x${addr.toString(16)})`);
  }
  t.log(`${ticks} ticks in raise-loop; ${[...critical].map(([a, w]) => `${landed.get(a)} ${w}`).join(', ')}`);
});

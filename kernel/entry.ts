// The kernel's entry and exit code (arch/x86/entry/entry_32.S): real machine code in kernel memory, run by the
// emulated CPU. The hardware pushes its frame on the kernel stack from TSS.esp0 (or, at CPL 0, on the current
// stack); this code saves the registers into a pt_regs, switches to the kernel's page directory under PTI,
// dispatches through the syscall table in kernel memory (or to the timer or trap handler, which are kernel
// functions), and returns with iret. The kernel-mode path of a verified program never runs any of it: its
// imports are direct calls to kernel functions.
//
// pt_regs (Linux i386, 17 words from the saved esp): ebx ecx edx esi edi ebp eax ds es fs gs orig_eax eip cs
// eflags esp ss. esp and ss are there only when the CPU came from CPL 3.
//
// With the sysenter entry (Linux 2.6's sysenter_entry, as refined in 4.x's entry_SYSENTER_32), `sysenter` arrives
// here with nothing pushed and IF clear: the code builds the same five-word frame int 0x80 would have pushed (the
// caller's stack from ebp, its flags with IF set, the vsyscall page's return point as eip), saves the same pt_regs,
// has the kernel fetch the sixth argument from the caller's stack (copy_from_user: a bad stack is -EFAULT, never a
// kernel fault), dispatches through the same table, restores every register from pt_regs as restore_all does,
// restores the caller's flags, and leaves with sysexit (edx = eip, ecx = esp from the frame).

import { USER_CS, USER_DS } from './arch/layout.ts';
import { TSS_ESP0 } from '../emulator/tasks.ts';
import { IF, NT, AC, TF } from '../emulator/flags.ts';

/** The IDT vectors the kernel uses besides the CPU's exceptions: Linux's system-call gate and the timer's IRQ 0. */
export const SYSCALL_VECTOR = 0x80, TIMER_VECTOR = 0x20;

export const PT = {
  EBX: 0, ECX: 4, EDX: 8, ESI: 12, EDI: 16, EBP: 20, EAX: 24, DS: 28, ES: 32, FS: 36, GS: 40, ORIG_EAX: 44,
  EIP: 48, CS: 52, EFLAGS: 56, ESP: 60, SS: 64,
} as const;
export const PT_REGS_SIZE = 68;
/** Bytes of pt_regs when the CPU came from CPL 0 (no esp, ss). */
export const PT_REGS_SIZE_KERNEL = 60;

/** CR3 bit that selects the user page directory of a PTI pair. */
export const PTI_USER_BIT = 0x1000;

/** A little assembler for the entry code: bytes, labels, and rel32/rel8 fixups. */
class Code {
  readonly bytes: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: { at: number; label: string; size: 1 | 4 }[] = [];
  constructor(readonly base: number) {}

  get here(): number { return this.base + this.bytes.length; }
  label(name: string): number {
    if (this.labels.has(name)) throw new Error(`internal: label ${name} twice`);
    this.labels.set(name, this.here);
    return this.here;
  }
  addr(name: string): number {
    const a = this.labels.get(name);
    if (a === undefined) throw new Error(`internal: no label ${name}`);
    return a;
  }
  emit(...b: number[]): void { for (const x of b) this.bytes.push(x & 0xff); }
  imm32(v: number): void { this.emit(v, v >>> 8, v >>> 16, v >>> 24); }
  /** Opcode bytes, then a rel32 (or rel8) to a label or an absolute address. */
  rel(opcode: number[], target: string | number, size: 1 | 4 = 4): void {
    this.emit(...opcode);
    if (typeof target === 'number') {
      const rel = (target - (this.here + size)) | 0;
      if (size === 4) this.imm32(rel); else this.emit(rel);
      return;
    }
    this.fixups.push({ at: this.bytes.length, label: target, size });
    for (let i = 0; i < size; i++) this.emit(0);
  }
  resolve(): Uint8Array {
    for (const f of this.fixups) {
      const rel = (this.addr(f.label) - (this.base + f.at + f.size)) | 0;
      if (f.size === 1) {
        if (rel < -128 || rel > 127) throw new Error(`internal: short branch to ${f.label} out of range`);
        this.bytes[f.at] = rel & 0xff;
      } else {
        for (let i = 0; i < 4; i++) this.bytes[f.at + i] = (rel >>> (8 * i)) & 0xff;
      }
    }
    return Uint8Array.from(this.bytes);
  }
}

export interface EntryTargets {
  /** Kernel virtual address of the syscall table and its number of entries. */
  sysCallTable: number;
  nrSyscalls: number;
  /** Kernel-function addresses. */
  timerInterrupt: number;
  doTrap: number;
  doDoubleFault: number;
  /** -ENOSYS for a number beyond the table. */
  enosys: number;
  /** The sysenter entry, when the kernel offers it (KernelOptions.syscallEntry 'sysenter'). */
  sysenter?: {
    /** Where sysexit returns: the vsyscall page's SYSENTER_RETURN. */
    sysenterReturn: number;
    /** Kernel function: pt_regs.ebp ← the word at pt_regs.esp in user memory; 0, or -EFAULT. */
    fetchArg6: number;
  };
}

export interface EntryCode {
  bytes: Uint8Array;
  /** Entry points by name: int80, timer, exc0..exc31, restore_all, idle, pop_eax_ret, df_task; sysenter if offered. */
  readonly at: ReadonlyMap<string, number>;
}

const EXCEPTIONS_WITH_ERROR = new Set([8, 10, 11, 12, 13, 14, 17]);

/** Generate the entry code for a kernel at `base` (a kernel virtual address), with or without PTI. */
export function buildEntryCode(base: number, t: EntryTargets, pti: boolean): EntryCode {
  const c = new Code(base);
  const at = new Map<string, number>();

  // SAVE_ALL: push gs fs es ds eax ebp edi esi edx ecx ebx (orig_eax already pushed).
  const saveAll = (): void => c.emit(0x0f, 0xa8, 0x0f, 0xa0, 0x06, 0x1e, 0x50, 0x55, 0x57, 0x56, 0x52, 0x51, 0x53);
  // From CPL 3 under PTI: mov eax, cr3; and eax, ~PTI_USER_BIT; mov cr3, eax (eax is saved already).
  let n = 0;
  const switchToKernelCr3 = (): void => {
    if (!pti) return;
    const skip = `pti_in_${n++}`;
    c.emit(0xf6, 0x44, 0x24, PT.CS, 0x03); // test BYTE PTR [esp+PT.CS], 3
    c.rel([0x74], skip, 1); // je: came from CPL 0, already on the kernel's tables
    c.emit(0x0f, 0x20, 0xd8, 0x25); c.imm32(~PTI_USER_BIT);
    c.emit(0x0f, 0x22, 0xd8);
    c.label(skip);
  };

  // ---- int 0x80 ----
  at.set('int80', c.label('int80'));
  c.emit(0x50); // push eax: orig_eax
  saveAll();
  if (pti) {
    switchToKernelCr3();
    c.emit(0x8b, 0x44, 0x24, PT.ORIG_EAX); // mov eax, [esp+PT.ORIG_EAX]
  }
  c.emit(0x3d); c.imm32(t.nrSyscalls); // cmp eax, NR_syscalls
  c.rel([0x0f, 0x83], 'badsys'); // jae badsys
  c.emit(0xff, 0x14, 0x85); c.imm32(t.sysCallTable); // call DWORD PTR [sys_call_table+eax*4]
  c.label('syscall_exit');
  c.emit(0x89, 0x44, 0x24, PT.EAX); // mov [esp+PT.EAX], eax
  c.rel([0xe9], 'restore_all');
  c.label('badsys');
  c.rel([0xe8], t.enosys); // call sys_ni_syscall (gives -ENOSYS, and counts the call)
  c.rel([0xe9], 'syscall_exit');

  // ---- sysenter: IF clear, CPL 0, esp = IA32_SYSENTER_ESP = the TSS, whose esp0 is this task's kernel stack ----
  if (t.sysenter) {
    at.set('sysenter', c.label('sysenter'));
    c.emit(0x8b, 0x64, 0x24, TSS_ESP0); // mov esp, [esp+TSS_ESP0]
    c.emit(0x6a, USER_DS); // push USER_DS: pt_regs->ss
    c.emit(0x55); // push ebp: pt_regs->esp (__kernel_vsyscall's mov ebp, esp)
    c.emit(0x9c); // pushfd: pt_regs->eflags, the caller's (sysenter cleared IF alone) ...
    c.emit(0x81, 0x0c, 0x24); c.imm32(IF); // or DWORD PTR [esp], IF: ... as they were at CPL 3
    c.emit(0x6a, USER_CS); // push USER_CS: pt_regs->cs
    c.emit(0x68); c.imm32(t.sysenter.sysenterReturn); // push SYSENTER_RETURN: pt_regs->eip
    c.emit(0x50); // push eax: orig_eax
    saveAll();
    // sysenter, unlike a gate, leaves NT, AC and TF as the caller had them: clear them for the kernel (Linux 4.x's
    // .Lsysenter_fix_flags; an iret in the kernel with NT set would be a task return). The exit restores them.
    c.emit(0xf7, 0x44, 0x24, PT.EFLAGS); c.imm32(NT | AC | TF); // test DWORD PTR [esp+PT.EFLAGS], NT|AC|TF
    c.rel([0x75], 'sysenter_fix_flags', 1); // jne
    c.label('sysenter_flags_fixed');
    switchToKernelCr3();
    c.rel([0xe8], t.sysenter.fetchArg6); // call: the sixth argument into pt_regs->ebp (0, or -EFAULT)
    c.emit(0x85, 0xc0); // test eax, eax
    c.rel([0x75], 'sysenter_done', 1); // jne: the caller's stack is bad; the call returns -EFAULT
    c.emit(0x8b, 0x44, 0x24, PT.ORIG_EAX); // mov eax, [esp+PT.ORIG_EAX]
    c.emit(0x3d); c.imm32(t.nrSyscalls); // cmp eax, NR_syscalls
    c.rel([0x0f, 0x83], 'sysenter_badsys'); // jae
    c.emit(0xff, 0x14, 0x85); c.imm32(t.sysCallTable); // call DWORD PTR [sys_call_table+eax*4]
    c.label('sysenter_done');
    c.emit(0x89, 0x44, 0x24, PT.EAX); // mov [esp+PT.EAX], eax
    // sysexit_restore: every register back from pt_regs, as restore_all; then the frame by hand.
    if (pti) {
      c.emit(0x0f, 0x20, 0xd8, 0x0d); c.imm32(PTI_USER_BIT); // mov eax, cr3; or eax, PTI_USER_BIT
      c.emit(0x0f, 0x22, 0xd8); // mov cr3, eax
    }
    c.emit(0x5b, 0x59, 0x5a, 0x5e, 0x5f, 0x5d, 0x58, 0x1f, 0x07, 0x0f, 0xa1, 0x0f, 0xa9, 0x83, 0xc4, 0x04);
    c.emit(0x8b, 0x14, 0x24); // mov edx, [esp]: the return eip
    c.emit(0x8b, 0x4c, 0x24, 0x0c); // mov ecx, [esp+12]: the caller's esp
    // Under PTI nothing may interrupt from here on (CR3 is the user's, and an interrupt at CPL 0 would not switch
    // it): the flags are restored with IF clear and `sti` sets it, whose one-instruction shadow covers sysexit
    // (Linux 4.x does the same). Without PTI an interrupt between popfd and sysexit is harmless: it is taken on
    // this kernel stack, below the consumed frame, and its exit restores ecx and edx.
    if (pti) { c.emit(0x81, 0x64, 0x24, 0x08); c.imm32(~IF); } // and DWORD PTR [esp+8], ~IF
    c.emit(0x83, 0xc4, 0x08); // add esp, 8: at the saved eflags
    c.emit(0x9d); // popfd
    if (pti) c.emit(0xfb); // sti
    c.emit(0x0f, 0x35); // sysexit
    c.label('sysenter_badsys');
    c.rel([0xe8], t.enosys);
    c.rel([0xe9], 'sysenter_done');
    c.label('sysenter_fix_flags');
    c.emit(0x6a, 0x02, 0x9d); // push 2; popfd: only the fixed bit (IF stays clear)
    c.rel([0xeb], 'sysenter_flags_fixed', 1);
  }

  // ---- the timer interrupt ----
  at.set('timer', c.label('timer'));
  c.emit(0x6a, 0xff); // push -1: orig_eax of an interrupt
  saveAll();
  switchToKernelCr3();
  c.rel([0xe8], t.timerInterrupt);
  c.rel([0xe9], 'restore_all');

  // ---- exceptions: push 0 where the CPU pushes no error code; the error code sits in orig_eax ----
  for (let v = 0; v < 32; v++) {
    at.set(`exc${v}`, c.label(`exc${v}`));
    if (!EXCEPTIONS_WITH_ERROR.has(v)) c.emit(0x6a, 0x00);
    saveAll();
    switchToKernelCr3();
    c.emit(0x6a, v); // push vector
    c.rel([0xe8], t.doTrap);
    c.emit(0x83, 0xc4, 0x04); // add esp, 4
    c.rel([0xe9], 'restore_all');
  }

  // ---- restore_all: back to where pt_regs says ----
  at.set('restore_all', c.label('restore_all'));
  if (pti) {
    c.emit(0xf6, 0x44, 0x24, PT.CS, 0x03); // test BYTE PTR [esp+PT.CS], 3
    c.rel([0x74], 'restore_regs', 1);
    c.emit(0x0f, 0x20, 0xd8, 0x0d); c.imm32(PTI_USER_BIT); // mov eax, cr3; or eax, PTI_USER_BIT
    c.emit(0x0f, 0x22, 0xd8); // mov cr3, eax
    c.label('restore_regs');
  }
  // pop ebx ecx edx esi edi ebp eax ds es fs gs; add esp, 4 (orig_eax); iret
  c.emit(0x5b, 0x59, 0x5a, 0x5e, 0x5f, 0x5d, 0x58, 0x1f, 0x07, 0x0f, 0xa1, 0x0f, 0xa9, 0x83, 0xc4, 0x04, 0xcf);

  // ---- the idle task: sti; hlt; jmp idle ----
  at.set('idle', c.label('idle'));
  c.emit(0xfb, 0xf4);
  c.rel([0xeb], 'idle', 1);

  // ---- resuming a task switched out with a result: pop eax; ret ----
  at.set('pop_eax_ret', c.label('pop_eax_ret'));
  c.emit(0x58, 0xc3);

  // ---- the double-fault task (entered through a task gate, on its own stack): handle, iret to the chosen task ----
  at.set('df_task', c.label('df_task'));
  c.rel([0xe8], t.doDoubleFault);
  c.emit(0xcf); // iret: NT is set, so this switches back to the (rewritten) main task
  c.rel([0xeb], 'df_task', 1);

  return { bytes: c.resolve(), at };
}

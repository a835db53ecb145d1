// What a task keeps while another runs: the inactive task frame that switch_to leaves on the outgoing task's stack
// (Linux: arch/x86/entry/entry_32.S __switch_to_asm, arch/x86/include/asm/switch_to.h struct inactive_task_frame).
//
// A task leaves the CPU only inside a kernel function (it blocks, exits, or is preempted on the way out of one).
// Its caller may be verified code at CPL 0, to which docs/tal.md §6 promises that every import preserves ebx, esi,
// edi, ebp and esp, and returns with IF set and DF clear: the checker keeps the types of those registers across the
// call. So the switch saves exactly the callee-saved registers and EFLAGS, under the address the task resumes at,
// and the switch back loads them all, whatever context it happens from (the timer's interrupt gate, the idle loop,
// the double-fault task). The caller-saved registers (eax, ecx, edx) come back zeroed rather than holding the
// previous task's values, which would leak one process's data into another's registers.
//
// Layout from the saved esp (task_struct.SP), as Linux's 32-bit frame: flags, esi, edi, ebx, ebp, return address.

/** Byte offsets in the frame. */
export const SF = { FLAGS: 0, ESI: 4, EDI: 8, EBX: 12, EBP: 16, RET: 20 } as const;
/** Bytes from the saved esp to just above the return address: where esp points once the task runs again. */
export const SWITCH_FRAME_SIZE = 24;

/** Register numbers as the CPU keeps them (eax ecx edx ebx esp ebp esi edi). */
const EBX = 3, EBP = 5, ESI = 6, EDI = 7;

/** The context a switched-out task resumes with. */
export interface SavedContext {
  eip: number;
  esp: number;
  eflags: number;
  ebx: number;
  esi: number;
  edi: number;
  ebp: number;
}

/** The words switch_to pushes (the first ends on top), under a return address already on the stack. */
export function saveWords(eflags: number, reg: (r: number) => number): number[] {
  return [eflags, reg(ESI), reg(EDI), reg(EBX), reg(EBP)];
}

/** A frame for a task that has never run: it starts at `ret` with interrupts off and zeroed registers. */
export function firstFrame(ret: number): number[] {
  return [0x2, 0, 0, 0, 0, ret];
}

/** Read the frame at `sp` through `read32` (kernel virtual addresses of the task's own stack). */
export function readFrame(sp: number, read32: (addr: number) => number): SavedContext {
  const w = (off: number): number => read32((sp + off) | 0);
  return {
    eflags: w(SF.FLAGS), esi: w(SF.ESI), edi: w(SF.EDI), ebx: w(SF.EBX), ebp: w(SF.EBP), eip: w(SF.RET),
    esp: (sp + SWITCH_FRAME_SIZE) | 0,
  };
}

/** Load a saved context's registers (not eip, esp: the caller continues there its own way). */
export function loadRegisters(c: SavedContext, setReg: (r: number, v: number) => void): void {
  setReg(0, 0);
  setReg(1, 0);
  setReg(2, 0);
  setReg(EBX, c.ebx);
  setReg(ESI, c.esi);
  setReg(EDI, c.edi);
  setReg(EBP, c.ebp);
}

// How a fault travels from deep inside an instruction (an MMU access, a descriptor check) to the trap logic: one
// preallocated object is thrown (no Error, so no stack trace is captured) and caught by the run loop, which delivers
// the exception with the faulting instruction's eip. Handlers never change architectural state before their last
// possible fault, so a faulting instruction has no effect and can be restarted, as on real hardware.

export const Vec = {
  DE: 0, DB: 1, NMI: 2, BP: 3, OF: 4, BR: 5, UD: 6, NM: 7, DF: 8, TS: 10, NP: 11, SS: 12, GP: 13, PF: 14, AC: 17,
} as const;

export const VECTOR_NAMES: Record<number, string> = {
  0: '#DE', 1: '#DB', 2: 'NMI', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF', 10: '#TS', 11: '#NP',
  12: '#SS', 13: '#GP', 14: '#PF',
};

/** The exceptions that push an error code. */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}

/** The one thrown object. `error` is -1 when the exception has no error code. */
export class FaultSignal {
  vector = 0;
  error = -1;
}
export const FAULT = new FaultSignal();

/** Raise an exception: never returns. */
export function fault(vector: number, error = -1): never {
  FAULT.vector = vector;
  FAULT.error = hasErrorCode(vector) ? (error < 0 ? 0 : error) : -1;
  throw FAULT;
}

/**
 * A guest fault met by a kernel function (a TypeScript function at a kernel address) through its context: a real
 * JS error, so that kernel code can catch it (copy_from_user returning -EFAULT) or let it escape, in which case the
 * machine delivers the fault to the guest at the function's address.
 */
export class GuestFault extends Error {
  override name = 'GuestFault';
  constructor(readonly vector: number, readonly error: number, readonly address: number) {
    super(`${VECTOR_NAMES[vector] ?? `vector ${vector}`}${error >= 0 ? ` (error 0x${error.toString(16)})` : ''}${vector === 14 ? ` at 0x${(address >>> 0).toString(16)}` : ''}`);
  }
}

// Architectural constants shared by the CPU's parts (a leaf module: the parts import each other, and constants used
// at module load must not sit inside that cycle).

// Segment registers, numbered as in the ModRM reg field of mov Sreg.
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

export const CR0_PE = 0x1, CR0_MP = 0x2, CR0_EM = 0x4, CR0_TS = 0x8, CR0_ET = 0x10, CR0_NE = 0x20;
export const CR0_WP = 0x10000, CR0_AM = 0x40000, CR0_NW = 0x20000000, CR0_CD = 0x40000000, CR0_PG = 0x80000000 | 0;
export const CR4_TSD = 0x4, CR4_PGE = 0x80;

// General registers.
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

// The fast system-call MSRs (Intel SDM vol. 3, 5.8.7 and vol. 2B SYSENTER): the CPL 0 code selector (SS is it + 8,
// the CPL 3 CS + 16 and SS + 24), the CPL 0 stack pointer and entry point.
export const MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176;

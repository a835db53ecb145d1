// Paging: U/S and R/W protection at CPL 3 and CPL 0 (CR0.WP), #PF error codes and CR2, accessed/dirty bits,
// accesses that cross a page boundary, and the TLB's misses and hits around CR3 writes and invlpg.
import test from 'ava';
import { Rig, USER_CODE, USER_DATA } from '../util/machine.ts';
import { PAGE_OFFSET, USER_CS, KERNEL_CS } from '../../kernel/arch/layout.ts';
import { haveBinutils } from '../util/binutils.ts';

const tb = haveBinutils() ? test : test.skip;
const SUP = PAGE_OFFSET + 0x1000; // a supervisor-only page (the kernel's direct map)

/** Run `body` at CPL 3 (USER_DATA mapped read-write unless told otherwise) and return the rig after it trapped. */
function user(body: string,
  setup: (r: Rig) => void = r => r.bare.mapFresh(USER_DATA, 0x2000, { user: true, writable: true })): Rig {
  const r = new Rig();
  setup(r);
  const sym = r.code(`${body}\n  hlt`);
  r.user(sym._start).run();
  return r;
}

tb('a CPL 3 read of a supervisor page raises #PF with error P|U and CR2 = the address', t => {
  const r = user(`fault: mov eax, DWORD PTR [${SUP}]`);
  const trap = r.lastTrap!;
  t.is(trap.vector, 14);
  t.is(trap.error, 0b101); // present, read, user
  t.is(trap.cr2, SUP);
  t.is(trap.eip, USER_CODE);
  t.is(trap.cs, USER_CS);
  t.is(r.reg(0), 0, 'the faulting load did not complete');
});

tb('a CPL 3 write of a supervisor page raises #PF with error P|W|U', t => {
  const r = user(`mov DWORD PTR [${SUP + 8}], 1`);
  t.like(r.lastTrap, { vector: 14, error: 0b111, cr2: SUP + 8 });
  t.is(r.m.mem.read32(0x1008), 0, 'memory unchanged');
});

tb('a CPL 3 access to a page that is not present raises #PF without P', t => {
  t.like(user('mov eax, DWORD PTR [0x40000000]').lastTrap, { vector: 14, error: 0b100, cr2: 0x40000000 });
  t.like(user('mov DWORD PTR [0x40000010], eax').lastTrap, { vector: 14, error: 0b110, cr2: 0x40000010 });
});

tb('a CPL 3 write to a read-only user page raises #PF (P|W|U); reading it is fine', t => {
  const r = user(`mov eax, DWORD PTR [${USER_DATA}]\n  mov DWORD PTR [${USER_DATA}], 5`,
    rig => rig.bare.mapFresh(USER_DATA, 0x1000, { user: true, writable: false }));
  t.like(r.lastTrap, { vector: 14, error: 0b111, cr2: USER_DATA, eip: USER_CODE + 5 });
});

tb('at CPL 0 a write to a read-only page faults only when CR0.WP=1', t => {
  for (const wp of [true, false]) {
    const r = new Rig();
    r.bare.mapFresh(USER_DATA, 0x1000, { user: true, writable: false });
    const sym = r.kernelCode(`
      mov eax, cr0
      ${wp ? 'or eax, 0x10000' : 'and eax, 0xfffeffff'}
      mov cr0, eax
    store:
      mov DWORD PTR [${USER_DATA}], 0x1234
      hlt`);
    r.kernel(sym._start);
    const exit = r.run();
    if (wp) {
      t.like(r.lastTrap, { vector: 14, error: 0b011, cr2: USER_DATA, eip: sym.store, cs: KERNEL_CS });
    } else {
      t.is(exit, 'halted', 'ran to hlt (interrupts off)');
      t.is(r.traps.length, 0);
      t.is(r.bare.read32(USER_DATA), 0x1234);
    }
  }
});

tb('a write that crosses into a read-only page faults at the second page and writes nothing', t => {
  const r = user(`mov DWORD PTR [${USER_DATA + 0xffe}], 0x11223344`, rig => {
    rig.bare.mapFresh(USER_DATA, 0x1000, { user: true, writable: true });
    rig.bare.mapFresh(USER_DATA + 0x1000, 0x1000, { user: true, writable: false });
  });
  t.like(r.lastTrap, { vector: 14, error: 0b111, cr2: USER_DATA + 0x1000 });
  t.deepEqual([...r.bare.read(USER_DATA + 0xffe, 4)], [0, 0, 0, 0]);
});

tb('a read that crosses into a missing page faults at the second page; within the first page it works', t => {
  const r = user(`mov eax, DWORD PTR [${USER_DATA + 0xffc}]\n  mov eax, DWORD PTR [${USER_DATA + 0xffd}]`,
    rig => rig.bare.mapFresh(USER_DATA, 0x1000, { user: true, writable: true }));
  t.like(r.lastTrap, { vector: 14, error: 0b100, cr2: USER_DATA + 0x1000, eip: USER_CODE + 5 });
});

tb('walks set the accessed bit on a read and the dirty bit on a write', t => {
  const r = new Rig();
  r.bare.mapFresh(USER_DATA, 0x2000, { user: true, writable: true });
  const sym = r.code(`mov eax, DWORD PTR [${USER_DATA}]\n  mov DWORD PTR [${USER_DATA + 0x1000}], eax\n  hlt`);
  const pte = (v: number) => {
    const pde = r.m.mem.read32(r.bare.pageDirectory + ((v >>> 22) << 2));
    return r.m.mem.read32((pde & -4096) + (((v >>> 12) & 0x3ff) << 2));
  };
  t.is(pte(USER_DATA) & 0x60, 0);
  r.user(sym._start).run();
  t.is(pte(USER_DATA) & 0x60, 0x20, 'read: accessed, not dirty');
  t.is(pte(USER_DATA + 0x1000) & 0x60, 0x60, 'written: accessed and dirty');
});

tb('the TLB misses after a CR3 write and invlpg, and hits after; global kernel pages survive CR3 writes', t => {
  const r = new Rig();
  r.bare.mapFresh(USER_DATA, 0x1000, { user: true, writable: true });
  const sym = r.kernelCode(`
    mov eax, DWORD PTR [${USER_DATA}]
    mov eax, DWORD PTR [${USER_DATA}]
    mov ecx, cr3
    mov cr3, ecx
    mov eax, DWORD PTR [${USER_DATA}]
    mov eax, DWORD PTR [${USER_DATA}]
    invlpg [${USER_DATA}]
    mov eax, DWORD PTR [${USER_DATA}]
    mov eax, DWORD PTR [${USER_DATA}]
    hlt`);
  r.kernel(sym._start);
  // One instruction at a time; each step also looks up its code page once (the first misses: the TLB starts cold;
  // after that the kernel's code page is global and survives the CR3 write).
  const steps: { misses: number; hits: number; cr3: number }[] = [];
  let prev = r.m.stats();
  for (let i = 0; i < 9; i++) {
    r.run(1);
    const s = r.m.stats();
    steps.push({ misses: s.tlbMisses - prev.tlbMisses, hits: s.tlbHits - prev.tlbHits,
      cr3: s.cr3Writes - prev.cr3Writes });
    prev = s;
  }
  t.deepEqual(steps.map(s => s.misses), [2, 0, 0, 0, 1, 0, 0, 1, 0], 'misses per instruction');
  t.deepEqual(steps.map(s => s.hits), [0, 2, 1, 1, 1, 2, 1, 1, 2], 'hits: the fetch, plus the load when it hits');
  t.is(steps[3].cr3, 1);
});

tb('a non-global page is refilled after a CR3 write even for a supervisor access; a global one is not', t => {
  const r = new Rig();
  r.bare.mapFresh(USER_DATA, 0x1000, { writable: true }); // supervisor, not global
  const sym = r.kernelCode(`
    mov eax, DWORD PTR [${USER_DATA}]
    mov eax, DWORD PTR [${PAGE_OFFSET + 0x2000}]
    mov ecx, cr3
    mov cr3, ecx
    mov eax, DWORD PTR [${USER_DATA}]
    mov eax, DWORD PTR [${PAGE_OFFSET + 0x2000}]
    hlt`);
  r.kernel(sym._start);
  const misses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const before = r.m.stats().tlbMisses;
    r.run(1);
    misses.push(r.m.stats().tlbMisses - before);
  }
  t.deepEqual(misses, [2, 1, 0, 0, 1, 0], 'the first step also misses on the cold code page');
});

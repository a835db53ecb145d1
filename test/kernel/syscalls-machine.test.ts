// The file system calls reached from machine code through kernel functions, with contextUserMemory: user copies
// go through the machine's page tables and check U/S and R/W, so supervisor pages, read-only pages (for writes),
// unmapped pages, ranges straddling into them and addresses above TASK_SIZE are -EFAULT.
import test from 'ava';
import { EFAULT } from '../../kernel/errno.ts';
import { FdTable } from '../../kernel/fdtable.ts';
import { O_RDONLY } from '../../kernel/fs/fcntl.ts';
import { ROOT } from '../../kernel/fs/permission.ts';
import { STAT64_SIZE, encodeStat64 } from '../../kernel/fs/stat.ts';
import { sys_getcwd, sys_open, sys_read, sys_stat64, type FileProc } from '../../kernel/syscalls/files.ts';
import { contextUserMemory } from '../../kernel/syscalls/usermem.ts';
import { haveBinutils } from '../util/binutils.ts';
import { fresh, must, put } from '../util/kfs.ts';
import { Rig, USER_DATA } from '../util/machine.ts';
import { statat } from '../../kernel/fs/namei.ts';

const tb = haveBinutils() ? test : test.skip;

tb('stat64, open, read and getcwd through kernel functions: page-table-checked copies', t => {
  const { vfs, root } = fresh();
  put(root, '/file', 'contents');
  const proc: FileProc = { fs: vfs.context(ROOT), files: new FdTable() };
  const r = new Rig();
  const RW = USER_DATA, RO = USER_DATA + 0x1000, SUP = USER_DATA + 0x2000, NONE = USER_DATA + 0x5000;
  r.bare.mapFresh(RW, 0x1000, { user: true, writable: true });
  r.bare.mapFresh(RO, 0x1000, { user: true, writable: false });
  r.bare.mapFresh(SUP, 0x1000, { user: false, writable: true });
  r.bare.mapFresh(NONE - 0x1000, 0x1000, { user: true, writable: true }); // and nothing at NONE
  const enc = (s: string) => Buffer.from(s + '\0', 'latin1');
  r.bare.write(RW, enc('/file'));
  r.bare.write(RO - 3, enc('/file')); // crosses into the read-only page: readable
  r.bare.write(SUP, enc('/file'));
  r.bare.write(NONE - 2, Buffer.from('/f', 'latin1')); // its NUL would be on the unmapped page
  const results: number[] = [];
  const stat = r.m.kfuncs.register('stat64',
    ctx => { const v = sys_stat64(proc, contextUserMemory(ctx), ctx.arg(0), ctx.arg(1)); results.push(v); return v; });
  const open = r.m.kfuncs.register('open',
    ctx => { const v = sys_open(proc, contextUserMemory(ctx), ctx.arg(0), ctx.arg(1),
    ctx.arg(2)); results.push(v); return v; });
  const read = r.m.kfuncs.register('read',
    ctx => { const v = sys_read(proc, contextUserMemory(ctx), ctx.arg(0), ctx.arg(1),
    ctx.arg(2)); results.push(v); return v; });
  const cwd = r.m.kfuncs.register('getcwd',
    ctx => { const v = sys_getcwd(proc, contextUserMemory(ctx), ctx.arg(0), ctx.arg(1)); results.push(v); return v; });
  const call = (fn: number, ...args: number[]) => [...args].reverse().map(a => `push ${a >>> 0}`).join('\n')
    + `\n call ${fn}\n add esp, ${4 * args.length}`;
  const sym = r.kernelCode([
    call(stat, RW, RW + 0x100),
    call(stat, RO - 3, RW + 0x200),
    call(stat, RW, RO),
    call(stat, RW, RO - 40),
    call(stat, SUP, RW + 0x300),
    call(stat, NONE - 2, RW + 0x300),
    call(stat, 0xc0001000, RW + 0x300),
    call(open, RW, O_RDONLY, 0),
    call(read, 0, RW + 0x800, 100),
    call(read, 0, RO, 100), // at the end of the file: nothing to copy, 0
    call(open, RW, O_RDONLY, 0),
    call(read, 1, RO, 100),
    call(cwd, RW + 0x900, 10),
    call(cwd, SUP, 10),
    'hlt',
  ].join('\n'));
  const want = new Uint8Array(STAT64_SIZE); // before the read below updates the access time
  encodeStat64(must(statat(root, undefined, '/file')), want);
  r.kernel(sym._start);
  t.is(r.run(), 'halted');
  t.deepEqual(results, [0, 0, -EFAULT, -EFAULT, -EFAULT, -EFAULT, -EFAULT, 0, 8, 0, 1, -EFAULT, 2, -EFAULT]);
  t.deepEqual(r.bare.read(RW + 0x100, STAT64_SIZE), want);
  t.deepEqual(r.bare.read(RW + 0x200, STAT64_SIZE), want);
  t.deepEqual(r.bare.read(RO - 40, 32), new Uint8Array(32), 'a straddling copy-out writes nothing');
  t.is(Buffer.from(r.bare.read(RW + 0x800, 8)).toString('latin1'), 'contents');
  t.is(Buffer.from(r.bare.read(RW + 0x900, 2)).toString('latin1'), '/\0');
});

// Hand-made programs aimed at speed3's changes (test/red/speed.md, "speed3"): the shared field and element
// locations, the non-null type built field by field, the jump memo that compares only the registers its target
// names, and a label inside an instruction found by the next label's offset. Each names the class the checker must
// give (or 'ok'); test/red/speed3/targeted.ts runs them through the old checker and this tree's, and
// test/tal/red-speed3.test.ts holds this tree's verdicts.
export interface Prog { name: string; expect: string; src: string }

const HEAD = (imports = 'exit') => ['.intel_syntax noprefix', `.tal_import ${imports}`];
const QUIT = ['.tal_label quit : code[r:stack]{esp: r}', 'quit:', '    push 0', '    call DWORD PTR [exit]'];
/** A program with a block `use` of type `ty` between main's block and quit. */
const withUse = (src: string, ty: string, body: string[]) => src.replace('    jmp quit\n.tal_label quit',
  ['.tal_label use : ' + ty, 'use:', ...body, '    jmp quit', '.tal_label quit'].join('\n'));
const main = (body: string[], data: string[] = [], defs: string[] = [], imports?: string) =>
  [...HEAD(imports), ...defs, '.text', '.tal_label main : code[r:stack]{esp: r}',
    'main:', ...body, '    jmp quit', ...QUIT,
    ...(data.length ? ['.data', ...data] : [])].join('\n') + '\n';
/** A pointer loaded from a data cell of type `cell` into ebx, tested, and `use` on the non-null edge. */
const tested = (cell: string, init: string, use: string[], extra: string[] = []) => main([
  '    mov ebx, DWORD PTR [cell]', '    test ebx, ebx', '    je quit', ...use,
], ['.tal_label cell : *[' + cell + '^rw]', `cell: .long ${init}`, ...extra]);

export const PROGRAMS: Prog[] = [
  // ---- non-null types built field by field (refine's nonNull) ----
  { name: 'nullable rbytes tested, byte stored: still read-only', expect: 'readonly-write', src: tested('?*rbytes',
    'msg', [
    '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]', '    jae quit', '    mov BYTE PTR [ebx+esi*1+4], 72'],
  ['.tal_label msg : *rbytes', 'msg: .tal_bytes "hello"']) },
  { name: 'nullable rbytes tested, byte loaded', expect: 'ok', src: tested('?*rbytes', 'msg', [
    '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]', '    jae quit', '    movzx eax, BYTE PTR [ebx+esi*1+4]'],
  ['.tal_label msg : *rbytes', 'msg: .tal_bytes "hello"']) },
  { name: 'nullable bytes tested, byte stored', expect: 'ok', src: tested('?*bytes', 'buf', [
    '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]', '    jae quit', '    mov BYTE PTR [ebx+esi*1+4], 72'],
  ['.tal_label buf : *bytes', 'buf: .tal_bytes "hello"']) },
  { name: 'nullable tuple with a read-only field tested, field stored', expect: 'readonly-write',
    src: tested('?*[int^r, int^rw]', 'pair', [
    '    mov DWORD PTR [ebx], 1'], ['.tal_label pair : *[int^r, int^rw]', 'pair: .long 1, 2']) },
  { name: 'nullable tuple tested, its rw field stored and its r field read', expect: 'ok',
    src: tested('?*[int^r, int^rw]', 'pair', [
    '    mov DWORD PTR [ebx+4], 1', '    mov eax, DWORD PTR [ebx]'], ['.tal_label pair : *[int^r, int^rw]',
      'pair: .long 1, 2']) },
  { name: 'nullable tuple tested, past its last field', expect: 'bad-address', src: tested('?*[int^r, int^rw]',
    'pair', [
    '    mov eax, DWORD PTR [ebx+8]'], ['.tal_label pair : *[int^r, int^rw]', 'pair: .long 1, 2']) },
  { name: 'nullable array tested, element stored of the wrong type', expect: 'store-type',
    src: tested('?*arr(*[int^rw])', 'arr', [
    '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]', '    jae quit', '    mov DWORD PTR [ebx+esi*4+4], 5'],
  ['.tal_label arr : *arr(*[int^rw])', 'arr: .long 1, one', '.tal_label one : *[int^rw]', 'one: .long 1']) },
  { name: 'nullable array tested, element of its type stored', expect: 'ok', src: tested('?*arr(*[int^rw])', 'arr', [
    '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]', '    jae quit', '    mov eax, DWORD PTR [ebx+esi*4+4]',
      '    mov DWORD PTR [ebx+esi*4+4], eax'],
  ['.tal_label arr : *arr(*[int^rw])', 'arr: .long 1, one', '.tal_label one : *[int^rw]', 'one: .long 1']) },
  { name: 'nullable array tested, length written', expect: 'readonly-write', src: tested('?*arr(int)', 'arr', [
    '    mov DWORD PTR [ebx], 9'], ['.tal_label arr : *arr(int)', 'arr: .long 1, 7']) },
  { name: 'tested on the wrong edge', expect: 'null-deref', src: main([
    '    mov ebx, DWORD PTR [cell]', '    test ebx, ebx', '    jne quit', '    mov eax, DWORD PTR [ebx]',
  ], ['.tal_label cell : *[?*[int^rw]^rw]', 'cell: .long one', '.tal_label one : *[int^rw]', 'one: .long 1']) },
  { name: 'a named nullable list tested: its tail field read, its head field written', expect: 'readonly-write',
    src: main([
    '    mov ebx, DWORD PTR [cell]', '    test ebx, ebx', '    je quit', '    mov ecx, DWORD PTR [ebx+4]',
      '    mov DWORD PTR [ebx], 3',
  ], ['.tal_label cell : *[lst^rw]', 'cell: .long node', '.tal_label node : *[int^r, lst^r]', 'node: .long 1, 0'],
  ['.tal_type lst = ?*[int^r, lst^r]']) },
  { name: 'a named nullable list tested twice down the list', expect: 'ok', src: main([
    '    mov ebx, DWORD PTR [cell]', '    test ebx, ebx', '    je quit', '    mov ebx, DWORD PTR [ebx+4]',
      '    test ebx, ebx',
    '    je quit', '    mov eax, DWORD PTR [ebx]',
  ], ['.tal_label cell : *[lst^rw]', 'cell: .long node', '.tal_label node : *[int^r, lst^r]', 'node: .long 1, 0'],
  ['.tal_type lst = ?*[int^r, lst^r]']) },
  { name: 'a named nullable list: the tail read is not tested', expect: 'null-deref', src: main([
    '    mov ebx, DWORD PTR [cell]', '    test ebx, ebx', '    je quit', '    mov ebx, DWORD PTR [ebx+4]',
      '    mov eax, DWORD PTR [ebx]',
  ], ['.tal_label cell : *[lst^rw]', 'cell: .long node', '.tal_label node : *[int^r, lst^r]', 'node: .long 1, 0'],
  ['.tal_type lst = ?*[int^r, lst^r]']) },

  // ---- the shared field and element locations (FIELD_LOC, ELEM_LOC): one location alive at a time ----
  { name: 'a fresh tuple: ^u field stored through eax, read through eax; read through the copy', expect: 'uninit-read',
    src: main([
    '    push 8', '    .tal_inst *[int, int]', '    call DWORD PTR [tal_alloc]', '    add esp, 4', '    mov ebx, eax',
    '    mov DWORD PTR [eax+4], 5', '    mov ecx, DWORD PTR [eax+4]', '    mov edx, DWORD PTR [ebx+4]',
  ], [], [], 'exit, tal_alloc') },
  { name: 'a fresh tuple: field 1 stored, field 0 still uninitialised when read', expect: 'uninit-read', src: main([
    '    push 8', '    .tal_inst *[int, int]', '    call DWORD PTR [tal_alloc]', '    add esp, 4',
    '    mov DWORD PTR [eax+4], 5', '    mov ecx, DWORD PTR [eax]',
  ], [], [], 'exit, tal_alloc') },
  { name: 'a fresh tuple: a ^u field incremented (read before written)', expect: 'uninit-read', src: main([
    '    push 8', '    .tal_inst *[int, int]', '    call DWORD PTR [tal_alloc]', '    add esp, 4',
    '    add DWORD PTR [eax+4], 1',
  ], [], [], 'exit, tal_alloc') },
  { name: 'push of one field, pop into another of a different tuple (two locations in turn)', expect: 'ok', src: main([
    '    mov ebx, OFFSET a', '    mov esi, OFFSET b', '    push DWORD PTR [ebx+4]', '    pop DWORD PTR [esi]',
  ], ['.tal_label a : *[int^r, int^r]', 'a: .long 1, 2', '.tal_label b : *[int^rw]', 'b: .long 0']) },
  { name: 'push of a pointer field, pop into an int field of another tuple', expect: 'store-type', src: main([
    '    mov ebx, OFFSET a', '    mov esi, OFFSET b', '    push DWORD PTR [ebx+4]', '    pop DWORD PTR [esi]',
  ], ['.tal_label a : *[int^r, *[int^rw]^r]', 'a: .long 1, b', '.tal_label b : *[int^rw]', 'b: .long 0']) },
  { name: 'push of an int field, pop into a pointer field of another tuple', expect: 'store-type', src: main([
    '    mov ebx, OFFSET a', '    mov esi, OFFSET b', '    push DWORD PTR [ebx]', '    pop DWORD PTR [esi]',
  ], ['.tal_label a : *[int^r, *[int^rw]^r]', 'a: .long 1, c', '.tal_label b : *[*[int^rw]^rw]', 'b: .long c',
    '.tal_label c : *[int^rw]', 'c: .long 0']) },
  { name: 'a bounds check, a field load between it and its jae: the check still holds', expect: 'ok', src: main([
    '    mov ebx, OFFSET arr', '    mov edi, OFFSET pair', '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]',
    '    mov edx, DWORD PTR [edi+4]', '    jae quit', '    mov eax, DWORD PTR [ebx+esi*4+4]',
  ], ['.tal_label arr : *arr(int)', 'arr: .long 1, 7', '.tal_label pair : *[int^r, int^r]', 'pair: .long 1, 2']) },
  { name: 'an element load, then a store into a read-only field of another object', expect: 'readonly-write',
    src: main([
    '    mov ebx, OFFSET arr', '    mov edi, OFFSET pair', '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]',
      '    jae quit',
    '    mov eax, DWORD PTR [ebx+esi*4+4]', '    mov DWORD PTR [edi], eax',
  ], ['.tal_label arr : *arr(int)', 'arr: .long 1, 7', '.tal_label pair : *[int^r, int^rw]', 'pair: .long 1, 2']) },
  { name: 'an element of pointers loaded, then stored into an int array', expect: 'store-type', src: main([
    '    mov ebx, OFFSET ptrs', '    mov edi, OFFSET ints', '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]',
      '    jae quit',
    '    cmp esi, DWORD PTR [edi]', '    jae quit', '    mov eax, DWORD PTR [ebx+esi*4+4]',
      '    mov DWORD PTR [edi+esi*4+4], eax',
    '    mov DWORD PTR [ebx+esi*4+4], 5',
  ], ['.tal_label ptrs : *arr(*[int^rw])', 'ptrs: .long 1, one', '.tal_label ints : *arr(int)', 'ints: .long 1, 7',
    '.tal_label one : *[int^rw]', 'one: .long 1']) },
  { name: 'an int element stored into a pointer array after a pointer-array load', expect: 'store-type', src: main([
    '    mov ebx, OFFSET ptrs', '    mov edi, OFFSET ints', '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]',
      '    jae quit',
    '    cmp esi, DWORD PTR [edi]', '    jae quit', '    mov eax, DWORD PTR [edi+esi*4+4]',
      '    mov ecx, DWORD PTR [ebx+esi*4+4]',
    '    mov DWORD PTR [ebx+esi*4+4], eax',
  ], ['.tal_label ptrs : *arr(*[int^rw])', 'ptrs: .long 1, one', '.tal_label ints : *arr(int)', 'ints: .long 1, 7',
    '.tal_label one : *[int^rw]', 'one: .long 1']) },
  { name: 'absolute field store into a read-only data tuple after a load of another', expect: 'readonly-write',
    src: main([
    '    mov eax, DWORD PTR [b+4]', '    mov DWORD PTR [a], eax',
  ], ['.tal_label a : *[int^r]', 'a: .long 1', '.tal_label b : *[int^rw, int^rw]', 'b: .long 1, 2']) },

  // ---- the jump memo: only the registers its target names are compared ----
  { name: 'memo: two jumps to one target from one stack, ebx unnamed by the target then used there',
    expect: 'not-a-pointer',
    src: withUse(main([
    '    mov ebx, OFFSET one', '    xor eax, eax', '    test eax, eax', '    je use', '    mov ebx, 5', '    jmp use',
  ], ['.tal_label one : *[int^rw]', 'one: .long 1']), 'code[r:stack]{esp: r}', ['    mov DWORD PTR [ebx], 1']) },
  { name: 'memo: the first jump passes with ebx a pointer, the second presents an int', expect: 'jump-type',
    src: withUse(main([
    '    mov ebx, OFFSET one', '    xor eax, eax', '    test eax, eax', '    je use', '    mov ebx, 5', '    jmp use',
  ], ['.tal_label one : *[int^rw]',
    'one: .long 1']), 'code[r:stack]{ebx: *[int^rw], esp: r}', ['    mov DWORD PTR [ebx], 1']) },
  { name: 'memo: a variable bound by eax and ebx: eax the same object, ebx not', expect: 'jump-type',
    src: withUse(main([
    '    mov eax, OFFSET one', '    mov ebx, OFFSET one', '    xor ecx, ecx', '    test ecx, ecx', '    je use',
      '    mov ebx, 5', '    jmp use',
  ], ['.tal_label one : *[int^rw]', 'one: .long 1']), 'code[a, r:stack]{eax: a, ebx: a, esp: r}', []) },
  { name: 'memo: the stack changes between two jumps (one slot stored): the new slot is compared', expect: 'jump-type',
    src: withUse(main([
    '    push OFFSET one', '    xor ecx, ecx', '    test ecx, ecx', '    je use', '    mov DWORD PTR [esp], 7',
      '    jmp use',
  ], ['.tal_label one : *[int^rw]', 'one: .long 1']), 'code[r:stack]{esp: *[int^rw] :: r}', ['    add esp, 4']) },
  { name: 'memo: esp moved by sub between the jumps (the same cells below)', expect: 'jump-type', src: withUse(main([
    '    push OFFSET one', '    xor ecx, ecx', '    test ecx, ecx', '    je use', '    sub esp, 4',
      '    mov DWORD PTR [esp], 0', '    jmp use',
  ], ['.tal_label one : *[int^rw]', 'one: .long 1']), 'code[r:stack]{esp: *[int^rw] :: r}', ['    add esp, 4']) },
  { name: 'memo: a jump remembered, then a nullable test refines ebx and the jump needs it non-null', expect: 'ok',
    src: withUse(main([
    '    mov ebx, DWORD PTR [cell]', '    test ebx, ebx', '    je quit', '    jmp use',
  ], ['.tal_label cell : *[?*[int^rw]^rw]', 'cell: .long one', '.tal_label one : *[int^rw]',
    'one: .long 1']), 'code[r:stack]{ebx: *[int^rw], esp: r}', ['    mov DWORD PTR [ebx], 1']) },
  { name: 'memo: a remembered nullable jump, then the same register reloaded (nullable again) to a non-null target',
    expect: 'jump-type',
    src: withUse(main([
    '    mov ebx, DWORD PTR [cell]', '    test ebx, ebx', '    je quit', '    jne use',
      '    mov ebx, DWORD PTR [cell]', '    jmp use',
  ], ['.tal_label cell : *[?*[int^rw]^rw]', 'cell: .long one', '.tal_label one : *[int^rw]',
    'one: .long 1']), 'code[r:stack]{ebx: *[int^rw], esp: r}', ['    mov DWORD PTR [ebx], 1']) },
  { name: 'memo: a bounds fact at the first jump, none at the second: the target knows no fact',
    expect: 'unchecked-index',
    src: withUse(main([
    '    mov ebx, OFFSET arr', '    xor esi, esi', '    cmp esi, DWORD PTR [ebx]', '    jb use', '    jmp use',
  ], ['.tal_label arr : *arr(int)',
    'arr: .long 1, 7']), 'code[r:stack]{ebx: *arr(int), esi: int, esp: r}', ['    mov eax, DWORD PTR [ebx+esi*4+4]']) },
  { name: 'memo: callee-saved ebx carried by a variable across a call: the callee returns with ebx changed',
    expect: 'fallthrough-type',
    src: [
    ...HEAD(), '.text', '.tal_label main : code[r:stack]{esp: r}', 'main:', '    mov ebx, OFFSET one', '    call f',
      '    call f',
    '    mov DWORD PTR [ebx], 1', '    jmp quit', ...QUIT,
    '.tal_label f : code[s, r:stack]{ebx: s, esp: code{ebx: s, esp: r} :: r}', 'f:', '    xor ecx, ecx',
      '    test ecx, ecx',
    '    je back', '    mov ebx, 5', '.tal_label back : code[s, r:stack]{ebx: s, esp: code{ebx: s, esp: r} :: r}',
      'back:', '    ret',
    '.data', '.tal_label one : *[int^rw]', 'one: .long 1'].join('\n') + '\n' },

  // ---- a label inside an instruction ----
  { name: 'a label at the very end of .text', expect: 'annotation', src: [...HEAD(), '.text',
    '.tal_label main : code[r:stack]{esp: r}',
    'main:', '    push 0', '    call DWORD PTR [exit]', '.tal_label end : code[r:stack]{esp: r}',
      'end:'].join('\n') + '\n' },
  { name: 'a jump to a label inside a later instruction (the jump checked first)', expect: 'bad-label', src: main([
    '    jmp inner', '.tal_label blk : code[r:stack]{esp: r}', 'blk:', '    .byte 0xb9, 0x01',
      '.tal_label inner : code[r:stack]{esp: r}',
    'inner:', '    .byte 0x02, 0x03, 0x04', '    jmp quit']) },
  { name: 'a backward jump to a label inside an earlier instruction', expect: 'bad-label', src: main([
    '    .byte 0xb9, 0x01', '.tal_label inner : code[r:stack]{esp: r}', 'inner:', '    .byte 0x02, 0x03, 0x04',
      '    jmp inner']) },
  { name: 'a label inside the first instruction of main, which is the only label before it', expect: 'bad-label',
    src: main([
    '    .byte 0x68', '.tal_label inner : code[r:stack]{esp: r}', 'inner:', '    .byte 0, 0, 0, 0',
      '    call DWORD PTR [exit]']) },
  { name: 'a label on the last byte of .text, inside the last instruction', expect: 'bad-label', src: [...HEAD(),
    '.text',
    '.tal_label main : code[r:stack]{esp: r}', 'main:', '    push 0', '    .byte 0xff, 0x15',
      '.tal_label last : code[r:stack]{esp: r}',
    'last:', '    .byte 0, 0, 0, 0'].join('\n') + '\n' },
  { name: 'a 6-byte jcc over two labels: the first named', expect: 'bad-label', src: main([
    '    xor eax, eax', '    test eax, eax', '    .byte 0x0f, 0x84', '.tal_label l1 : code[r:stack]{esp: r}', 'l1:',
      '    .byte 0',
    '.tal_label l2 : code[r:stack]{esp: r}', 'l2:', '    .byte 0, 0, 0', '    jmp quit']) },
  { name: 'an instruction truncated at the end of .text, a label inside it', expect: 'truncated', src: [...HEAD(),
    '.text',
    '.tal_label main : code[r:stack]{esp: r}', 'main:', '    push 0', '    call DWORD PTR [exit]',
      '.tal_label t : code[r:stack]{esp: r}', 't:',
    '    .byte 0xb8, 0x01', '.tal_label u : code[r:stack]{esp: r}', 'u:', '    .byte 0x02'].join('\n') + '\n' },
];

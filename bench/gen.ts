// A generated TAL program of a chosen size, for measuring the checker: many functions, each with a loop, a bounds
// check, array and tuple accesses, a null test and calls — the shapes popc emits.

export function generateProgram(functions: number): string {
  const out: string[] = [
    '.intel_syntax noprefix',
    '.tal_import exit, tal_new_array',
    '.tal_type node = ?*[int^r, node^r]',
    '.tal_type fret<r:stack> = code{eax: int, esp: *arr(int) :: node :: r}',
    '.text',
    '.tal_label main : code[r:stack]{esp: r}',
    'main:',
    '    push 0',
    '    push 16',
    '    call DWORD PTR [tal_new_array]',
    '    add esp, 8',
    '    push eax',                                   // the array, kept in a stack slot across the calls
  ];
  for (let i = 0; i < Math.min(functions, 64); i++) out.push('    push 0', '    push DWORD PTR [esp+4]',
    `    call f${i}`, '    add esp, 8');
  out.push('    push 0', '    call DWORD PTR [exit]');
  for (let i = 0; i < functions; i++) {
    const T = `[r:stack]{esp: fret<r> :: *arr(int) :: node :: r}`;
    out.push(
      `.tal_label f${i} : code${T}`,
      `f${i}:`,
      '    mov ebx, DWORD PTR [esp+4]',
      '    xor ecx, ecx',
      '    xor eax, eax',
      `    jmp f${i}_loop`,
      `.tal_label f${i}_loop : code[r:stack]{eax: int, ebx: *arr(int), ecx: int, esp: fret<r> :: *arr(int) :: node :: ` +
        `r}`,
      `f${i}_loop:`,
      '    cmp ecx, DWORD PTR [ebx]',
      `    jae f${i}_list`,
      '    mov edx, DWORD PTR [ebx+ecx*4+4]',
      '    imul edx, edx, 3',
      '    add eax, edx',
      '    lea edx, [eax+ecx*2]',
      '    mov DWORD PTR [ebx+ecx*4+4], edx',
      '    inc ecx',
      `    jmp f${i}_loop`,
      `.tal_label f${i}_list : code[r:stack]{eax: int, esp: fret<r> :: *arr(int) :: node :: r}`,
      `f${i}_list:`,
      '    mov ecx, DWORD PTR [esp+8]',
      `    jmp f${i}_walk`,
      `.tal_label f${i}_walk : code[r:stack]{eax: int, ecx: node, esp: fret<r> :: *arr(int) :: node :: r}`,
      `f${i}_walk:`,
      '    test ecx, ecx',
      `    je f${i}_done`,
      '    add eax, DWORD PTR [ecx]',
      '    mov ecx, DWORD PTR [ecx+4]',
      `    jmp f${i}_walk`,
      `.tal_label f${i}_done : code[r:stack]{eax: int, esp: fret<r> :: *arr(int) :: node :: r}`,
      `f${i}_done:`,
      '    ret',
    );
  }
  return out.join('\n') + '\n';
}

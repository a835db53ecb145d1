# The entry point of the code-quality benchmark's C programs (bench/quality/c/*.c), which are linked without a C
# library (gcc -m32 -O2 -ffreestanding -nostdlib -static): the i386 System V ABI's process start (argc at [esp],
# argv above it, as the Linux kernel's ELF loader lays out the initial stack, binfmt_elf.c create_elf_tables) turned
# into a cdecl call of main(argc, argv), whose result becomes the exit status, as crt1.o and __libc_start_main do.
    .intel_syntax noprefix
    .text
    .globl _start
_start:
    xor ebp, ebp                # the outermost frame, as crt1.o marks it
    mov eax, DWORD PTR [esp]    # argc
    lea ecx, [esp+4]            # argv
    and esp, -16                # the ABI's 16-byte alignment at the call (gcc -O2 may rely on it)
    sub esp, 8
    push ecx
    push eax
    call main
    mov DWORD PTR [esp], eax
    call sys_exit
    hlt                         # sys_exit does not return
    .section .note.GNU-stack,"",@progbits

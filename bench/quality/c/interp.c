/* Code-quality benchmark (bench/quality.ts), a small interpreter: the C twin of ../interp.pop (a stack machine's
 * bytecode run by a switch in a loop, summing i * i mod 1000003 for i below N, default 6000). */
#include "rt.h"

enum { HALT, PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, LT, JZ, JMP, PRINT };

/* Variables: 0 is i, 1 is sum, 2 is n (set before the run). */
static const int program[] = {
  1, 0, 3, 0,                      /*  0: i = 0 */
  1, 0, 3, 1,                      /*  4: sum = 0 */
  2, 0, 2, 2, 8, 9, 37,            /*  8: if !(i < n) goto 37 */
  2, 1, 2, 0, 2, 0, 6, 4, 1, 1000003, 7, 3, 1,   /* 15: sum = (sum + i * i) % 1000003 */
  2, 0, 1, 1, 4, 3, 0,             /* 28: i = i + 1 */
  10, 8,                           /* 35: goto 8 */
  2, 1, 11, 0                      /* 37: print sum; halt */
};

/* Runs code with the variables vars; returns the number of instructions executed. */
static int run(const int *code, int *vars) {
  int stack[64];
  int sp = 0, pc = 0, executed = 0;
  for (;;) {
    int op = code[pc];
    executed++;
    switch (op) {
    case HALT: return executed;
    case PUSH: stack[sp++] = code[pc + 1]; pc += 2; break;
    case LOAD: stack[sp++] = vars[code[pc + 1]]; pc += 2; break;
    case STORE: vars[code[pc + 1]] = stack[--sp]; pc += 2; break;
    case ADD: sp--; stack[sp - 1] = stack[sp - 1] + stack[sp]; pc++; break;
    case SUB: sp--; stack[sp - 1] = stack[sp - 1] - stack[sp]; pc++; break;
    case MUL: sp--; stack[sp - 1] = stack[sp - 1] * stack[sp]; pc++; break;
    case MOD: sp--; stack[sp - 1] = stack[sp - 1] % stack[sp]; pc++; break;
    case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp] ? 1 : 0; pc++; break;
    case JZ: sp--; if (stack[sp] == 0) pc = code[pc + 1]; else pc += 2; break;
    case JMP: pc = code[pc + 1]; break;
    case PRINT: sp--; print_int(stack[sp]); print_newline(); pc++; break;
    default: print_string("bad opcode\n"); return executed;
    }
  }
}

int main(int argc, char **argv) {
  int vars[3] = { 0, 0, 0 };
  vars[2] = argc > 1 ? int_of_string(argv[1]) : 6000;
  int executed = run(program, vars);
  print_string("executed "); print_int(executed); print_newline();
  flush();
  return 0;
}

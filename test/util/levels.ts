// popc's optimisation levels every corpus runs at (issue 17): 0, the stack machine (compiler/codegen.ts), and 2,
// the optimiser (compiler/ir/). Tests loop over these instead of copying themselves per level.
export const LEVELS = [0, 2] as const;
export type Level = (typeof LEVELS)[number];
/** How a test title names the level, as popc's flag. */
export const flag = (level: Level): string => `-O${level}`;

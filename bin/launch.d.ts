// The types of bin/launch.js, for the TypeScript that uses it (bench/startup.ts).
/** The folders dist/ is built from. */
export const SOURCES: readonly string[];
/** Whether the tree at `top` (default: this package) has a dist/ at least as new as every source. */
export function distIsFresh(top?: string): boolean;
/** Run the command whose source is `rel` (e.g. 'kernel/cli/talrun'): from dist/ when it is fresh, else through tsx. */
export function launch(rel: string): Promise<void>;

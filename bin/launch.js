// How every command starts: from the JavaScript that `npm run build` compiled into dist/ (run by `prepare`, so
// `npm ci` builds it), which starts in a small multiple of Node's own start-up; or, when dist/ is missing or older
// than any TypeScript source (a developer's edit since the last build), from the sources through tsx's loader,
// which transpiles them at every run. Either way the same code runs: dist/ is only ever a build of the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The folders dist/ is built from (tsconfig.build.json's "include"). */
export const SOURCES = ['compiler', 'tal', 'emulator', 'kernel'];

/** The newest modification time of the sources (TypeScript, popc's library) and the build's configuration, in ms. */
function newestSource(top) {
  let newest = statSync(join(top, 'tsconfig.build.json')).mtimeMs;
  for (const dir of SOURCES) {
    for (const e of readdirSync(join(top, dir), { recursive: true, withFileTypes: true })) {
      // The TypeScript, and popc's library (copied into dist/ by the build).
      if (e.isFile() && /\.(ts|pop)$/.test(e.name)) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
    }
  }
  return newest;
}

/** Whether the tree at `top` (default: this package) has a dist/ at least as new as every source. */
export function distIsFresh(top = root) {
  const stamp = join(top, 'dist', '.built');
  return existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource(top);
}

/** Run the command whose source is `rel` (e.g. 'kernel/cli/talrun', without an extension). */
export async function launch(rel) {
  const built = join(root, 'dist', `${rel}.js`);
  if (existsSync(built) && distIsFresh()) {
    await import(pathToFileURL(built).href);
    return;
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, `${rel}.ts`)).href);
}

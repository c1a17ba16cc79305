// @ts-check
/**
 * npm run build (and before npm start, doctor, client, token): compiles src/ into dist/
 * incrementally (tsc -b: nothing to do when nothing changed) and builds the dashboard
 * page into dist/web only when a file in web/ is newer than it. So the commands start at
 * once after the first build. `--clean` starts from an empty dist/ (npm pack uses it).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const clean = process.argv.includes('--clean');

if (clean) rmSync(join(root, 'dist'), { recursive: true, force: true });
run(join(root, 'node_modules', 'typescript', 'bin', 'tsc'), ['-b', 'tsconfig.build.json']);
if (newestIn(join(root, 'web')) > modified(join(root, 'dist', 'web', 'index.html'))) {
  run(join(root, 'node_modules', 'vite', 'bin', 'vite.js'), ['build', '--config', 'web/vite.config.ts']);
}

/** @param {string} script @param {string[]} args */
function run(script, args) {
  const result = spawnSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Newest modification time of any file under `dir`. @param {string} dir @returns {number} */
function newestIn(dir) {
  return Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? newestIn(join(dir, entry.name)) : modified(join(dir, entry.name)),
    ),
  );
}

/** @param {string} path @returns {number} 0 when missing */
function modified(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * The dashboard page, as Vite built it into dist/web (npm run build). The
 * files are few and small, so they are read once into memory: only those
 * exact paths are served (no path from a request ever reaches the disk).
 * Asset names carry a content hash, so browsers may keep them for good;
 * index.html is checked every time, so a new build is picked up at once.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  body: Buffer;
  type: string;
  cache: string;
}

/** Where the build puts the page: the same from src/dashboard (tsx) and dist/dashboard (built). */
export const WEB_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));
/** The URL path the page's assets are served under (Vite's `base`). */
export const BASE = '/dashboard/';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/** URL path → file; undefined if the page has not been built. */
export function loadStaticFiles(dir = WEB_DIR): Map<string, StaticFile> | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, StaticFile>();
  for (const path of walk(dir)) {
    const urlPath = BASE + relative(dir, path).split(sep).join('/');
    const index = urlPath === `${BASE}index.html`;
    files.set(urlPath, {
      body: readFileSync(path),
      type: TYPES[extname(path)] ?? 'application/octet-stream',
      cache: index ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
  }
  return files;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

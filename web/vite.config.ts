// Builds the dashboard page into dist/web, served by the server under /dashboard/ (see src/dashboard/static-files.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/dashboard/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No CDN, no network: everything the page needs is in these files.
    assetsInlineLimit: 0,
  },
  logLevel: 'warn',
});

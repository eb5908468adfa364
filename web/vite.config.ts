import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard: built into dist/web, which tripline serves at `/` (src/api/routes/dashboard.ts).
 * `npx vite web` serves it with hot reload; API calls go to a platform on TRIPLINE_API (default :8080).
 */
const api = process.env.TRIPLINE_API ?? 'http://127.0.0.1:8080';
const proxied = ['/v1', '/oauth', '/dashboard', '/metrics', '/healthz', '/openapi.json'];

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1000,
    reportCompressedSize: false,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: { proxy: Object.fromEntries(proxied.map((path) => [path, { target: api }])) },
});

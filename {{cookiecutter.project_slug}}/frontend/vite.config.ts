import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// Django (daphne) serves the API, the health check and the WebSockets. In
// development the Vite server forwards those paths to it, so the browser talks
// to a single origin, as in production where Django also serves dist/.
const backendUrl = process.env.BACKEND_URL ?? 'http://127.0.0.1:8000';

// The proxy keeps the browser's Host and Origin headers (no changeOrigin), so
// Django checks them against ALLOWED_HOSTS as if the page came from Django.
const backendProxy = {
  '/api': { target: backendUrl },
  '/healthz': { target: backendUrl },
  '/ws': { target: backendUrl, ws: true },
};

export default defineConfig({
  base: '/',
  plugins: [react()],
  server: {
    // FRONTEND_HOST=0.0.0.0 makes the dev server reachable from outside a container.
    host: process.env.FRONTEND_HOST ?? 'localhost',
    port: 5173,
    strictPort: true,
    proxy: backendProxy,
  },
  preview: {
    host: process.env.FRONTEND_HOST ?? 'localhost',
    proxy: backendProxy,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    unstubGlobals: true,
  },
});

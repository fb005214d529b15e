import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The web app: built into web/dist (served by src/server/web.ts); `vite` in web/ proxies /api to a running server. */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', sourcemap: false },
  server: {
    proxy: {
      '/api': { target: process.env.DW_API_URL ?? 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
});

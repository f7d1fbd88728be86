import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Served by the backend at /console/ (core/console.py); `npm run dev` proxies the API to a local backend.
export default defineConfig({
  base: '/console/',
  plugins: [vue()],
  server: {
    proxy: { '/api': `http://127.0.0.1:${process.env.PORT || 8080}` },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1600,
  },
})

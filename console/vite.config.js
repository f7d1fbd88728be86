import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Pre-compressed copies beside the hashed assets: the backend's FileResponse sends `x.js.br` or `x.js.gz` to browsers
// that accept them, so the phone view downloads about a third of the bytes, and nothing is compressed per request.
function precompress() {
  return {
    name: 'ipa-precompress',
    apply: 'build',
    closeBundle() {
      const folder = path.resolve('dist/assets')
      for (const name of readdirSync(folder)) {
        const file = path.join(folder, name)
        if (!/\.(js|css|svg|json)$/.test(name) || statSync(file).size < 1024) continue
        const data = readFileSync(file)
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }))
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }))
      }
    },
  }
}

// Served by the backend at /console/ (core/console.py); `npm run dev` proxies the API to a local backend.
export default defineConfig({
  base: '/console/',
  plugins: [vue(), precompress()],
  server: {
    proxy: { '/api': `http://127.0.0.1:${process.env.PORT || 8080}` },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1600,
  },
})

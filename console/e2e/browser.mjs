// Debian's Chromium driven by playwright-core: no browser is ever downloaded.
import { mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const BASE = process.env.E2E_BASE
export const FIXTURES = JSON.parse(readFileSync(process.env.E2E_FIXTURES, 'utf8'))
const here = path.dirname(fileURLToPath(import.meta.url))
// Screenshots for docs/ only when asked (`make console-screenshots`), so test runs leave the tree alone.
const SHOTS = process.env.SCREENSHOTS_DIR ? path.resolve(here, '..', process.env.SCREENSHOTS_DIR) : null
export const DESKTOP = { width: 1366, height: 860 }
export const PHONE = { width: 390, height: 844 }

// playwright-core gives every launch a fresh temporary --user-data-dir of its own (and refuses one passed in
// args), so each test file starts from an empty profile and each context from empty storage.
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  })
  return {
    browser,
    async close() {
      await browser.close()
    },
  }
}

export async function newPage(browser, viewport = DESKTOP, { lang = 'zh', userAgent } = {}) {
  const context = await browser.newContext({ viewport, locale: lang === 'en' ? 'en-GB' : 'zh-CN', timezoneId: 'Asia/Shanghai', isMobile: viewport === PHONE, hasTouch: viewport === PHONE, ...(userAgent ? { userAgent } : {}) })
  const page = await context.newPage()
  page.setDefaultTimeout(15000)
  const problems = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (4\d\d)/.test(message.text())) problems.push(`console: ${message.text()}`)
  })
  page.problems = problems
  if (lang === 'en') await context.addInitScript(() => localStorage.setItem('ipa.lang', 'en'))
  return page
}

export async function loginAs(page, username, password = FIXTURES.password, { mobile = false } = {}) {
  await page.goto(`${BASE}/console/${mobile ? 'm/login' : 'login'}`)
  await page.locator(typed('username')).fill(username)
  await page.locator(typed('password')).fill(password)
  await page.locator('[data-test=login-submit]').click()
  await page.waitForURL((url) => !url.pathname.endsWith('/login'))
}

export async function shot(page, name, { top = true, full = false } = {}) {
  if (!SHOTS) return
  mkdirSync(SHOTS, { recursive: true })
  if (top) await page.evaluate(() => window.scrollTo(0, 0))
  await page.evaluate(() => document.querySelectorAll('.el-message').forEach((toast) => toast.remove()))
  await page.waitForTimeout(600) // let charts finish their entry animation and toasts settle
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: full })
}

// The error Element Plus shows under a form item, found by the item's label (within `scope`, e.g. a dialog).
export function fieldError(page, labelText, scope = page) {
  return scope
    .locator('.el-form-item')
    .filter({ has: page.locator('.el-form-item__label', { hasText: labelText }) })
    .locator('.el-form-item__error')
}

// The text box an Element Plus input was given `data-test` on (el-input puts it on the <input> or <textarea>
// itself, el-input-number on its wrapper).
export function typed(name) {
  return `:is(input, textarea)[data-test="${name}"], [data-test="${name}"] :is(input, textarea)`
}

// The official keeps the protection centres the fast-track planner reads: the seeded centres by region, a new one
// refused without its name then added, corrected (scope confirmed), its audit, and removed.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fieldError, launch, loginAs, newPage, shot, typed } from './browser.mjs'

let session
let page
const rows = () => page.locator('[data-test=centre-table] .el-table__body tr')

before(async () => {
  session = await launch()
  page = await newPage(session.browser)
  await loginAs(page, 'e2e_official')
})

after(async () => {
  assert.deepEqual(page.problems, [], 'no script errors in the page')
  await session.close()
})

async function showRegion(code) {
  await page.locator(typed('centre-region')).fill(code)
  await page.locator('[data-test=centre-search]').click()
}

test('the seeded centres: those serving a Shenzhen district, its own first', async () => {
  await page.locator('[data-test="nav-/centres"]').click()
  await page.waitForURL('**/console/centres')
  await rows().first().waitFor()
  assert.ok((await rows().count()) > 30, 'the real centres are seeded')
  await showRegion('440305')
  await page.waitForFunction(() => document.querySelectorAll('[data-test=centre-table] .el-table__body tr').length === 2)
  const names = await rows().locator('td:first-child').allTextContents()
  assert.deepEqual(names.map((n) => n.trim()), ['中国（深圳）知识产权保护中心', '中国（广东）知识产权保护中心'])
  await shot(page, 'desktop-centres')
})

test('a centre is added once named, corrected, audited and removed', async () => {
  await page.locator('[data-test=centre-new]').click()
  const dialog = page.locator('[data-test=centre-dialog]')
  await dialog.locator('[data-test=centre-submit]').click()
  await fieldError(page, '名称', dialog).waitFor()
  await dialog.locator(typed('centre-name')).fill('余杭（模具）测试中心')
  await dialog.locator(typed('centre-seat')).fill('330100')
  await dialog.locator(typed('centre-regions')).fill('330100')
  await dialog.locator(typed('centre-words')).fill('模具、注塑')
  await dialog.locator('[data-test=centre-submit]').click()
  await dialog.waitFor({ state: 'hidden' })

  await showRegion('330110')
  const row = rows().filter({ hasText: '余杭（模具）测试中心' })
  await row.waitFor()
  assert.match(await row.textContent(), /模具、注塑/)
  assert.match(await row.textContent(), /领域未核实/)

  await row.locator('[data-test^=centre-edit-]').click()
  await dialog.locator('[data-test=centre-confirmed]').click()
  await dialog.locator('[data-test=centre-submit]').click()
  await dialog.waitFor({ state: 'hidden' })
  await row.getByText('领域已核实').waitFor()

  await row.locator('[data-test^=centre-audit-]').click()
  const audit = page.locator('[data-test=centre-audit] .el-table__body tr')
  await audit.nth(1).waitFor()
  const lines = await audit.allTextContents()
  assert.match(lines[0], /新增/)
  assert.match(lines[1], /修改/)
  assert.match(lines[1], /scope_confirmed: false → true/)
  await page.keyboard.press('Escape')

  await row.locator('[data-test^=centre-remove-]').click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await row.waitFor({ state: 'detached' })
})

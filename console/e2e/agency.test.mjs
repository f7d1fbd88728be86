// The agency's walk: its profile (regulated fields read-only, prices checked), the redemption waiting for it
// confirmed with the evidence form, its credit record; then the official settles it with an explicit decision.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, FIXTURES, PHONE, fieldError, launch, loginAs, newPage, shot, typed } from './browser.mjs'

let session
let page

before(async () => {
  session = await launch()
  page = await newPage(session.browser)
  await loginAs(page, 'e2e_agency')
})

after(async () => {
  assert.deepEqual(page.problems, [], 'no script errors in the page')
  await session.close()
})

test('agency staff keep their profile: regulated fields read-only, a bad price named beside the prices', async () => {
  await page.waitForURL('**/console/my/agency')
  const regulated = page.locator('[data-test=regulated]')
  await regulated.getByText(FIXTURES.agency.name).waitFor()
  assert.equal(await regulated.locator('input').count(), 0, 'regulated fields are not editable')
  await page.locator(typed('price-max-0')).fill('1')
  await page.locator('[data-test=profile-save]').click()
  await fieldError(page, '服务与价格').waitFor()
  await page.locator(typed('price-max-0')).fill('9000')
  await page.locator(typed('profile-contact_phone')).fill('0571-88886666')
  await page.locator('[data-test=profile-save]').click()
  await page.getByText('已保存').first().waitFor()
  await shot(page, 'desktop-agency-profile')
})

test('agency staff confirm a redemption with its evidence; missing evidence is named beside each field', async () => {
  await page.locator('[data-test="nav-/my/redemptions"]').click()
  const confirm = page.locator(`[data-test=confirm-${FIXTURES.redemption.id}]`)
  await confirm.waitFor()
  await shot(page, 'desktop-agency-redemptions')
  await confirm.click()
  await page.locator('[data-test=confirm-submit]').click()
  await fieldError(page, '合同编号').waitFor()
  await fieldError(page, '发票号').waitFor()
  await page.locator(typed('evidence-contract')).fill('HT-2026-0001')
  await page.locator(typed('evidence-invoice')).fill('INV-33010600001')
  await page.locator(typed('evidence-payment')).fill('企业自付 1000 元银行回单 BR-778899')
  await page.locator(typed('evidence-deliverable')).fill('申请号 202620000001.X')
  await page.locator('[data-test=confirm-submit]').click()
  await page.getByText('已确认交付').first().waitFor()
  await confirm.waitFor({ state: 'detached' })
})

test('agency staff see their own credit record, without the official tools', async () => {
  await page.locator('[data-test="nav-/my/credit"]').click()
  await page.locator('[data-test=rating-score]').waitFor()
  assert.equal(await page.locator('[data-test=credit-form]').count(), 0)
})

test('the official sees the flag with its evidence and settles the redemption with an explicit decision', async () => {
  const official = await newPage(session.browser)
  await loginAs(official, 'e2e_official')
  await official.goto(`${BASE}/console/flags`)
  // Confirmed seconds after the redemption: flagged, with its evidence, and settling it needs an explicit decision.
  const flags = official.locator('[data-test=flag-table]')
  await flags.getByText('核销后极短时间内确认交付').waitFor()
  await flags.getByText('threshold_seconds').waitFor()
  await shot(official, 'desktop-flags')
  const settle = official.locator(`[data-test=decide-${FIXTURES.redemption.id}]`)
  await settle.click()
  const dialog = official.locator('.el-dialog', { hasText: '对被预警的核销作出决定' })
  await dialog.locator('[data-test=decision-submit]').click()
  await dialog.locator('.el-form-item__error, .el-alert--error').first().waitFor()
  await dialog.locator('[data-test=decision]').getByText('同意结算').click()
  await official.locator(typed('decision-reason')).fill('材料齐全，同意结算')
  await official.locator('[data-test=decision-submit]').click()
  await settle.waitFor({ state: 'detached' })
  await official.goto(`${BASE}/console/audit/${FIXTURES.voucher.id}`)
  const audit = official.locator('[data-test=audit-table]')
  await audit.getByText('确认交付', { exact: true }).waitFor()
  await audit.getByText('结算', { exact: true }).waitFor()
  await shot(official, 'desktop-voucher-audit')

  // The programme's report now has money in every column; its screenshots are taken here.
  await official.goto(`${BASE}/console/programs/${FIXTURES.program.id}/report`)
  assert.equal(await official.locator('[data-test=total-settled_fen] .value').textContent(), '¥1,000.00')
  for (const chart of ['chart-time', 'chart-service', 'chart-agency']) await official.locator(`[data-test=${chart}] canvas`).waitFor()
  await shot(official, 'desktop-report')
  await official.setViewportSize(PHONE)
  await official.waitForTimeout(300)
  await shot(official, 'phone-console-report')
  assert.deepEqual(official.problems, [])
})

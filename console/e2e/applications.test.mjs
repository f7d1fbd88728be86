// An enterprise applies for a voucher in the phone view, an official approves it in the console, and the enterprise
// sees the decision and the voucher.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, DESKTOP, FIXTURES, PHONE, launch, loginAs, newPage, shot, typed } from './browser.mjs'
import { login } from './fixtures.mjs'

const { programId, programName, enterpriseName } = FIXTURES.applications
let session
let phone
let desk

before(async () => {
  session = await launch()
  phone = await newPage(session.browser, PHONE)
  desk = await newPage(session.browser, DESKTOP)
})

after(async () => {
  assert.deepEqual(phone.problems, [], 'no script errors in the phone view')
  assert.deepEqual(desk.problems, [], 'no script errors in the console')
  await session.close()
})

test('an enterprise sees it qualifies, is told the missing document, and applies', async () => {
  await loginAs(phone, 'e2e_applicant', FIXTURES.password, { mobile: true })
  await phone.locator('[data-test=tab-apply]').click()
  const card = phone.locator(`[data-test=m-program-${programId}]`)
  await card.waitFor()
  assert.match(await card.locator('[data-test=m-qualifies]').textContent(), /符合申领条件/)
  await card.locator(`[data-test=m-apply-${programId}]`).click()
  // Submitted without the document's reference: told beside the field, nothing stored.
  await phone.locator('[data-test=m-apply-submit]').click()
  await phone.locator('[data-test=m-apply-form] .el-form-item__error').first().waitFor()
  await phone.locator(typed('m-doc-0')).fill('营业执照 91330106 副本')
  await shot(phone, 'phone-apply')
  await phone.locator('[data-test=m-apply-submit]').click()
  await card.locator('[data-test=m-my-application]').waitFor()
  assert.match(await card.locator('[data-test=m-my-application]').textContent(), /已提交/)
})

test('an official finds the application, sees the applicant, and approves it', async () => {
  await loginAs(desk, 'e2e_official')
  await desk.goto(`${BASE}/console/applications`)
  await desk.locator(typed('app-q')).fill(enterpriseName)
  await desk.locator('[data-test=app-search]').click()
  const row = desk.locator('[data-test=app-table] tbody tr', { hasText: enterpriseName })
  await row.waitFor()
  assert.match(await row.textContent(), new RegExp(programName.slice(0, 6)))
  await row.locator('[data-test^=app-open-]').click()
  await desk.locator('[data-test=app-detail]').getByText('营业执照 91330106 副本').waitFor()
  await shot(desk, 'desktop-application')
  await desk.keyboard.press('Escape')
  await row.locator('.el-checkbox').click()
  await desk.locator('[data-test=app-bulk]').click()
  await desk.locator(typed('app-reason')).fill('材料齐全，同意发放')
  await desk.locator('[data-test=app-decision-submit]').click()
  await desk.locator('.el-message--success').waitFor()
  await desk.locator('[data-test=app-state]').click()
  await desk.locator('.el-select-dropdown__item:visible', { hasText: '已通过' }).click()
  await desk.locator('[data-test=app-table] tbody tr', { hasText: enterpriseName }).filter({ hasText: '材料齐全' }).waitFor()
})

test('the enterprise sees the approval and the voucher', async () => {
  await phone.reload()
  const mine = phone.locator(`[data-test=m-program-${programId}] [data-test=m-my-application]`)
  await mine.waitFor()
  await phone.waitForFunction((id) => /已通过/.test(document.querySelector(`[data-test=m-program-${id}] [data-test=m-my-application]`).textContent), programId)
  assert.match(await mine.locator('[data-test=m-decision-reason]').textContent(), /材料齐全/)
  await mine.locator('[data-test=m-see-voucher]').click()
  await phone.waitForURL('**/console/m/vouchers')
  await phone.locator('article.voucher', { hasText: programName }).waitFor()
  assert.match(await phone.locator('article.voucher', { hasText: programName }).textContent(), /¥3,000\.00/)
})

test('an official opens an existing programme for applications in the console', async () => {
  const token = await login(BASE, 'e2e_official')
  const now = Date.now()
  // A programme of its own, in a region no e2e enterprise is in (the other walks' programmes stay as they expect).
  const response = await fetch(`${BASE}/api/v1/voucher-programs`, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({
      name: `申领设置演示（E2E ${FIXTURES.stamp}）`, region_code: '110000', budget_fen: 1000000, face_value_fen: 500000,
      share_bp: 5000, services: ['invention'], valid_from: new Date(now - 86400000).toISOString(),
      valid_until: new Date(now + 90 * 86400000).toISOString(),
    }),
  })
  assert.equal(response.status, 201)
  const program = await response.json()
  assert.equal(program.applications, null)

  await loginAs(desk, 'e2e_official')
  await desk.goto(`${BASE}/console/programs/${program.id}`)
  const card = desk.locator('[data-test=apps-card]')
  await card.getByText('尚未开放申领').waitFor()
  // A closing time before the opening: told beside the field, nothing saved.
  await card.locator(typed('apps-close')).fill('2020-01-01 00:00:00')
  await card.locator(typed('apps-close')).press('Enter')
  await card.locator('[data-test=apps-submit]').click()
  await card.locator('.el-form-item__error').first().waitFor()
  await card.getByText('尚未开放申领').waitFor()
  await card.locator(typed('apps-close')).fill('')
  await card.locator(typed('apps-close')).press('Enter')
  await card.locator('[data-test=apps-documents]').click()
  await desk.locator('.el-select-dropdown__item:visible', { hasText: '营业执照' }).click()
  await desk.keyboard.press('Escape')
  await card.locator('[data-test=apps-review]').getByText('先到先得').click()
  await card.locator('[data-test=apps-submit]').click()
  await card.locator('[data-test=apps-now]').getByText('正在受理').waitFor()
  await shot(desk, 'desktop-program-applications')
  const saved = await (await fetch(`${BASE}/api/v1/voucher-programs/${program.id}`, { headers: { Authorization: `Bearer ${token}` } })).json()
  assert.deepEqual([saved.applications.review, saved.applications.documents, saved.applications.accepting], ['fcfs', ['营业执照'], true])
})

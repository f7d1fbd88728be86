// The official's walk: agencies → credit record (add / reverse with a reason) → a bad evaluation file → programme →
// issue one and from a file → revoke → report with charts and CSV → a voucher's audit history.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, DESKTOP, FIXTURES, PHONE, fieldError, launch, loginAs, newPage, shot, typed } from './browser.mjs'
import { creditCode } from './fixtures.mjs'

let session
let page

before(async () => {
  session = await launch()
  page = await newPage(session.browser)
  await loginAs(page, 'e2e_official')
})

after(async () => {
  assert.deepEqual(page.problems, [], 'no script errors in the page')
  await session.close()
})

test('the agency list filters by name and pages through the directory', async () => {
  await page.waitForURL('**/console/agencies**')
  const rows = page.locator('[data-test=agency-table] .el-table__body tr')
  await rows.first().waitFor()
  assert.ok((await rows.count()) > 1, 'the seeded directory is listed')
  await shot(page, 'desktop-agencies')
  await page.locator(typed('filter-q')).fill(FIXTURES.agency.shortName)
  await page.locator('[data-test=filter-submit]').click()
  await page.waitForFunction(() => document.querySelectorAll('[data-test=agency-table] .el-table__body tr').length === 1)
  await page.getByRole('link', { name: FIXTURES.agency.name }).click()
  await page.waitForURL(`**/console/agencies/${FIXTURES.agency.id}`)
})

test('a credit event needs a reason, moves the score, and a reversal needs its own reason', async () => {
  const score = page.locator('[data-test=rating-score]')
  assert.equal(await score.textContent(), '100')
  await page.locator('[data-test=credit-submit]').click()
  await fieldError(page, '事由').waitFor()
  assert.equal(await score.textContent(), '100', 'nothing recorded without a reason')
  await page.locator(typed('credit-reason')).fill('国家知识产权局通报：非正常专利申请 3 件')
  await page.locator('[data-test=credit-submit]').click()
  await page.waitForFunction(() => document.querySelector('[data-test=rating-score]').textContent === '95')
  assert.equal(await page.locator('[data-test=rating-level]').textContent(), 'A')
  await shot(page, 'desktop-credit-record')

  await page.locator('[data-test^=reverse-]').first().click()
  const dialog = page.locator('.el-dialog', { hasText: '撤销信用事件' })
  await dialog.locator('[data-test=reverse-submit]').click()
  await fieldError(page, '撤销原因', dialog).waitFor()
  await dialog.locator(typed('reverse-reason')).fill('经复核，通报有误')
  await dialog.locator('[data-test=reverse-submit]').click()
  await page.waitForFunction(() => document.querySelector('[data-test=rating-score]').textContent === '100')
  const events = page.locator('[data-test=credit-events]')
  await events.getByText('已撤销').waitFor({ timeout: 3000 }).catch(async () => assert.fail(await events.textContent()))
})

test('a bad evaluation file is refused whole, every problem shown by line and column', async () => {
  await page.locator('[data-test="nav-/credit-import"]').click()
  const [template] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=import-template]').click()])
  let header = ''
  for await (const chunk of await template.createReadStream()) header += chunk
  assert.match(header, /^\ufeff?credit_code,name,score,level,evaluated_on,reference_doc\n/)
  const csv = [
    'credit_code,name,score,level,evaluated_on,reference_doc',
    '91330106MA2E00000X,校验位错误,95,A,2026-05-01,国知发运字〔2026〕1号',
    ',缺代码,88,B,2026-05-01,',
    '91330106MA2E00001X,分数错,abc,B,not-a-date,',
  ].join('\n')
  await page.locator('[data-test=import-file]').setInputFiles({ name: 'results.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
  await page.locator('[data-test=import-submit]').click()
  const problems = page.locator('[data-test=file-problems]')
  await problems.waitFor()
  const text = await problems.textContent()
  assert.match(text, /未保存/)
  for (const line of ['2', '3', '4']) await problems.locator('td', { hasText: new RegExp(`^${line}$`) }).first().waitFor()
  assert.match(text, /score/)
  assert.match(text, /evaluated_on/)
  await shot(page, 'desktop-import-errors')
})

test('an enterprise is registered (a wrong credit code named beside it) and its qualification verified', async () => {
  await page.locator('[data-test="nav-/enterprises"]').click()
  await page.locator('[data-test=enterprise-new]').click()
  await page.locator(typed('enterprise-name')).fill(`宁波浏览器测试科技有限公司${FIXTURES.stamp}`)
  await page.locator(typed('enterprise-credit_code')).fill('91330200MA2H000000')
  await page.locator(typed('enterprise-region_code')).fill('330203')
  await page.locator('[data-test=enterprise-submit]').click()
  await fieldError(page, '统一社会信用代码').waitFor()
  await page.locator(typed('enterprise-credit_code')).fill(creditCode(`91330200MA2H${FIXTURES.stamp.slice(0, 5)}`))
  await page.locator('[data-test=enterprise-submit]').click()
  await page.getByText('已登记').first().waitFor()
  await page.locator(typed('enterprise-q')).fill(`宁波浏览器测试科技有限公司${FIXTURES.stamp}`)
  await page.locator(typed('enterprise-q')).press('Enter')
  await page.waitForFunction(() => document.querySelectorAll('[data-test=enterprise-table] .el-table__body tr').length === 1)
  await page.locator('[data-test^=qualify-]').first().click()
  const dialog = page.locator('.el-dialog', { hasText: '核验企业资质' })
  await dialog.locator('[data-test=qualify-level]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '省级专精特新' }).click()
  await dialog.locator(typed('qualify-certificate')).fill('ZJ-ZJTX-2026-0001')
  await dialog.locator(typed('qualify-expires')).fill('2028-12-31')
  await dialog.locator(typed('qualify-expires')).press('Enter')
  await dialog.getByRole('button', { name: '保存' }).click()
  await page.locator('[data-test=enterprise-table]').getByText('ZJ-ZJTX-2026-0001').waitFor()
})

test('a programme is created with its budget and rules; a wrong field is named beside it', async () => {
  await page.locator('[data-test="nav-/programs"]').click()
  await page.locator('[data-test=program-new]').click()
  await page.locator(typed('program-name')).fill('E2E 专利申请服务券')
  await page.locator(typed('program-region')).fill('33')
  await page.locator('[data-test=program-submit]').click()
  await fieldError(page, '地区代码').waitFor()
  await page.locator(typed('program-region')).fill('330106')
  await page.locator('[data-test=program-submit]').click()
  await page.waitForURL(/\/console\/programs\/\d+$/)
  assert.equal(await page.locator('[data-test=remaining-budget]').textContent(), '¥100,000.00')
})

test('vouchers are issued one by one and from a file, never silently: a bad file is refused with its lines', async () => {
  await page.locator(typed('issue-who')).fill(FIXTURES.second.creditCode)
  await page.locator('[data-test=issue-submit]').click()
  const rows = page.locator('[data-test=voucher-table] .el-table__body tr')
  await page.waitForFunction(() => document.querySelectorAll('[data-test=voucher-table] .el-table__body tr').length === 1)

  await page.locator('[data-test=issue-file]').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('credit_code,amount\nXYZ,1\n') })
  await page.locator('[data-test=issue-file-submit]').click()
  await page.locator('[data-test=file-problems]').waitFor()
  assert.match(await page.locator('[data-test=file-problems]').textContent(), /amount/)
  assert.equal(await rows.count(), 1, 'nothing issued from a bad file')

  const good = `credit_code,face_value_fen\n${FIXTURES.enterprise.creditCode},300000\n`
  await page.locator('[data-test=issue-file]').setInputFiles({ name: 'batch.csv', mimeType: 'text/csv', buffer: Buffer.from(good) })
  await page.locator('[data-test=issue-file-submit]').click()
  await page.waitForFunction(() => document.querySelectorAll('[data-test=voucher-table] .el-table__body tr').length === 2)
  assert.equal(await page.locator('[data-test=remaining-budget]').textContent(), '¥92,000.00')
  await shot(page, 'desktop-programme', { full: true })
})

test('a voucher is revoked with a reason and its audit history shows every step', async () => {
  const revoke = page.locator('[data-test^=revoke-]').first()
  const id = (await revoke.getAttribute('data-test')).replace('revoke-', '')
  await revoke.click()
  await page.locator('[data-test=revoke-submit]').click()
  await fieldError(page, '撤回原因').waitFor()
  await page.locator(typed('revoke-reason')).fill('企业不再符合申领条件')
  await page.locator('[data-test=revoke-submit]').click()
  await page.locator('[data-test=voucher-table] [data-state=revoked]').waitFor()

  await page.goto(`${BASE}/console/audit/${id}`)
  const audit = page.locator('[data-test=audit-table]')
  await audit.getByText('撤回', { exact: true }).waitFor()
  await audit.getByText('发放', { exact: true }).waitFor()
  await audit.getByText('企业不再符合申领条件').waitFor()
  await page.goBack()
})

test('the report shows totals, three charts and exports CSV', async () => {
  await page.locator('[data-test=to-report]').click()
  await page.waitForURL(/\/report$/)
  await page.locator('[data-test=report-totals]').waitFor()
  assert.equal(await page.locator('[data-test=total-issued_fen] .value').textContent(), '¥8,000.00')
  for (const chart of ['chart-time', 'chart-service', 'chart-agency']) await page.locator(`[data-test=${chart}] canvas`).waitFor()
  // The same console at phone width: the menu folds into a drawer, the charts and tables stack.
  await page.setViewportSize(PHONE)
  await page.locator('[data-test=chart-time] canvas').waitFor()
  await page.setViewportSize(DESKTOP)
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=report-csv]').click()])
  const stream = await download.createReadStream()
  let csv = ''
  for await (const chunk of stream) csv += chunk
  assert.match(csv, /budget|issued/i)
})

test('the language switches to English with one click', async () => {
  await page.locator('[data-test=lang-switch]').click()
  await page.getByText('Programme report').first().waitFor()
  await page.locator('[data-test=lang-switch]').click()
  await page.getByText('项目报表').first().waitFor()
})

test("the assistant's unanswered questions and handoff tickets are listed for officials", async () => {
  await page.locator('[data-test="nav-/assistant"]').click()
  await page.locator('[data-test=unanswered-table]').waitFor()
  await page.getByRole('tab', { name: '人工咨询工单' }).click()
  await page.locator('[data-test=ticket-table]').waitFor()
})

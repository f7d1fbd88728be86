// The fast-track plan on the phone view (issue 20): a signed-in enterprise answers the questions, sees the routes
// ranked soonest first, downloads the drafted priority-examination request (a real .docx: python-docx reads the
// filled fields back), and opens an agency that can carry the plan out.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { BASE, PHONE, launch, loginAs, newPage, shot, typed } from './browser.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const python = path.resolve(root, process.env.PYTHON || '.venv/bin/python')

let session
let page

before(async () => {
  session = await launch()
  page = await newPage(session.browser, PHONE)
  await loginAs(page, 'e2e_enterprise', undefined, { mobile: true })
})

after(async () => {
  assert.deepEqual(page.problems, [], 'no script errors in the page')
  await session.close()
})

// The text of a .docx as python-docx reads it (paragraphs and table cells), by the planner's own reader.
function readDocx(file) {
  const script = 'import sys\nfrom fast_track.drafts import read_back\nprint(read_back(open(sys.argv[1], "rb").read()))'
  const done = spawnSync(python, ['-c', script, file], { cwd: root, encoding: 'utf8' })
  assert.equal(done.status, 0, done.stderr)
  return done.stdout
}

test('the questions, then the routes ranked soonest first with a verdict each', async () => {
  await page.goto(`${BASE}/console/m/`)
  await page.locator('[data-test=m-plan-link]').click()
  await page.waitForURL('**/console/m/plan')
  await page.locator('[data-test=plan-kind-invention]').click()
  await page.locator('[data-test=plan-stage-substantive_exam]').click()
  await page.locator(typed('plan-field')).fill('锂电池隔膜')
  await page.locator('[data-test=plan-office-US]').click()
  await page.locator('[data-test=plan-submit]').click()
  await page.locator('[data-test=plan-result]').waitFor()
  const order = await page.locator('[data-test^=plan-track-]').evaluateAll((nodes) => nodes.map((n) => n.dataset.test.replace('plan-track-', '')))
  // PPH (claims allowed in the US) before priority examination (new energy: a key industry), both before the
  // normal path; fast pre-examination is closed for a filed application.
  assert.ok(order.indexOf('pph') < order.indexOf('priority_exam'), order.join())
  assert.ok(order.indexOf('priority_exam') < order.indexOf('normal'), order.join())
  assert.equal(await page.locator('[data-test=plan-verdict-priority_exam]').textContent(), '可走')
  assert.equal(await page.locator('[data-test=plan-verdict-pph]').textContent(), '可走')
  assert.equal(await page.locator('[data-test=plan-verdict-fast_preexam]').textContent(), '不可')
  assert.match(await page.locator('[data-test=plan-field-match]').textContent(), /锂电池.*新能源/)
  assert.match(await page.locator('[data-test=plan-track-priority_exam]').textContent(), /来源：《专利优先审查管理办法》/)
  await shot(page, 'phone-plan', { full: true })
})

test('the drafted priority-examination request downloads as a .docx with the answers filled in', async () => {
  await page.locator(typed('plan-application-number')).fill('202410123456.7')
  await page.locator(typed('plan-title')).fill('一种锂电池隔膜及其制备方法')
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=plan-draft-priority_exam]').click()])
  const file = await download.path()
  assert.equal(readFileSync(file).subarray(0, 2).toString(), 'PK', 'a .docx is a zip file')
  const text = readDocx(file)
  assert.match(text, /专利优先审查请求书（草稿）/)
  assert.match(text, /杭州测试科技有限公司/, 'the applicant, from the signed-in company')
  assert.match(text, /202410123456\.7/)
  assert.match(text, /一种锂电池隔膜及其制备方法/)
  assert.match(text, /锂电池隔膜/)
  assert.match(text, /☑ 第三条第（一）项/, 'the ground chosen, with its article')
})

test('an agency that can carry out the plan opens from it', async () => {
  const first = page.locator('[data-test=plan-agencies] [data-test^=plan-agency-]').first()
  await first.waitFor()
  const id = (await first.getAttribute('data-test')).replace('plan-agency-', '')
  await first.click()
  await page.waitForURL(`**/console/m/agencies/${id}`)
  await page.locator('[data-test=m-rating]').waitFor()
})

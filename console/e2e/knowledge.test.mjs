// The knowledge loop, end to end: an official answers a group of queued questions in the console with a source, and
// a new, differently worded question gets that answer in the enterprise's chat; the asker finds it in their tickets.
// Rasa does not run in this harness (RASA_URL is a closed port), so the chat reaches the answer through the chat
// gateway's fallback path (bot.gateway → bot.knowledge.serve); with Rasa running, the fallback actions serve it
// the same way (tests/bot/test_knowledge.py).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, FIXTURES, PHONE, fieldError, launch, loginAs, newPage, shot, typed } from './browser.mjs'
import { login } from './fixtures.mjs'

const ANSWER = '符合条件的小微企业可按85%的比例减缴专利年费，在专利业务办理系统提交费减备案即可。'
const NEW_WORDING = '交专利年费有减免政策没'

let session
let desk
let phone

before(async () => {
  session = await launch()
  desk = await newPage(session.browser)
  phone = await newPage(session.browser, PHONE)
})

after(async () => {
  assert.deepEqual(desk.problems, [], 'no script errors in the console')
  assert.deepEqual(phone.problems, [], 'no script errors in the phone view')
  await session.close()
})

async function ask(text) {
  const before = await phone.locator('[data-test=chat-bot]').count()
  await phone.locator(typed('chat-input')).fill(text)
  await phone.locator('[data-test=chat-send]').click()
  await phone.waitForFunction((n) => document.querySelectorAll('[data-test=chat-bot]').length > n, before, { timeout: 20000 })
  return phone.locator('[data-test=chat-bot]').last().textContent()
}

test('before any answer, the new wording gets the menu', async () => {
  await loginAs(phone, 'e2e_enterprise', FIXTURES.password, { mobile: true })
  await phone.goto(`${BASE}/console/m/chat`)
  const said = await ask(NEW_WORDING)
  assert.ok(!said.includes(ANSWER), said)
})

test('an official answers the group of alike questions with a source', async () => {
  await loginAs(desk, 'e2e_official')
  await desk.locator('[data-test="nav-/assistant"]').click()
  await desk.getByRole('tab', { name: '相似问题分组' }).click()
  const group = desk.locator('[data-test=question-group]').filter({ hasText: FIXTURES.knowledge.questions[0] })
  await group.waitFor()
  for (const question of FIXTURES.knowledge.questions) assert.ok((await group.textContent()).includes(question), question)
  assert.ok(!(await group.textContent()).includes('软件著作权'), 'another topic is another group')
  await group.locator('[data-test=answer-group]').click()
  const dialog = desk.locator('[data-test=publish-dialog]')
  await dialog.locator(typed('publish-question')).fill('专利年费能减缴吗？')
  await dialog.locator(typed('publish-answer')).fill(ANSWER)
  // Without the source's date the form says which field is missing, and nothing is published.
  await dialog.locator(typed('publish-document')).fill('专利收费减缴办法')
  await dialog.locator(typed('publish-article')).fill('第三条')
  await dialog.locator('[data-test=publish-submit]').click()
  await fieldError(desk, '文件日期', dialog).waitFor()
  await dialog.locator(typed('publish-date')).fill('2016-09-01')
  await dialog.locator(typed('publish-date')).press('Enter')
  await shot(desk, 'desktop-knowledge-answer')
  await dialog.locator('[data-test=publish-submit]').click()
  await desk.locator('.el-message--success').filter({ hasText: `${FIXTURES.knowledge.questions.length} 位提问者` }).waitFor()
  await desk.locator('[data-test=knowledge-table]').filter({ hasText: ANSWER }).waitFor()
  await desk.locator('[data-test=question-group]').filter({ hasText: FIXTURES.knowledge.questions[0] }).waitFor({ state: 'detached' })
  assert.equal(await desk.locator('[data-test=knowledge-state]').first().textContent(), '生效中')
  await shot(desk, 'desktop-knowledge')
})

test('a new, differently worded question gets that answer in the chat, with its source and date', async () => {
  const said = await ask(NEW_WORDING)
  assert.ok(said.includes(ANSWER), said)
  assert.ok(said.includes('来源：《专利收费减缴办法》第三条（2016-09-01，现行有效）'), said)
  assert.match(said, /主管部门答复，\d{4}-\d{2}-\d{2}/)
  await shot(phone, 'phone-knowledge-answer')
})

test('the asker of a queued question is told: the answer is in their tickets', async () => {
  const token = await login(BASE, 'e2e_enterprise')
  const response = await fetch(`${BASE}/api/v1/me/tickets`, { headers: { Authorization: `Bearer ${token}` } })
  const tickets = (await response.json()).items
  const told = tickets.find((ticket) => ticket.question === FIXTURES.knowledge.questions[0])
  assert.ok(told, JSON.stringify(tickets))
  assert.equal(told.status, 'answered')
  assert.ok(told.answer.includes(ANSWER))
})

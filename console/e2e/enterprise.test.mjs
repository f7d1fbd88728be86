// The enterprise view in a phone-sized window: search with rating badges, an agency's page with its rating history,
// follow, my vouchers with balance and expiry, and the assistant's chat with its buttons.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, FIXTURES, PHONE, fieldError, launch, newPage, shot, typed } from './browser.mjs'

let session
let page

before(async () => {
  session = await launch()
  page = await newPage(session.browser, PHONE)
})

after(async () => {
  assert.deepEqual(page.problems, [], 'no script errors in the page')
  await session.close()
})

test('anyone can search agencies and see their rating badges', async () => {
  await page.goto(`${BASE}/console/m/`)
  await page.locator('[data-test=m-results] a').first().waitFor()
  await page.locator('[data-test=m-results] [data-level]').first().waitFor()
  await shot(page, 'phone-search')
  await page.locator(typed('m-q')).fill(FIXTURES.agency.shortName)
  await page.locator('[data-test=m-search]').click()
  await page.waitForFunction(() => document.querySelectorAll('[data-test=m-results] a').length === 1)
})

test('an agency page shows its rating, history and prices; following needs a login, then works', async () => {
  await page.locator(`[data-test=m-agency-${FIXTURES.agency.id}]`).click()
  await page.locator('[data-test=m-rating]').waitFor()
  assert.ok((await page.locator('[data-test=m-history-row]').count()) >= 1)
  // Following needs an account: the button leads to the login, which leads back to this agency.
  await page.locator('[data-test=m-follow-login]').click()
  await page.waitForURL('**/console/m/login**')
  await page.locator(typed('username')).fill('e2e_enterprise')
  await page.locator(typed('password')).fill(FIXTURES.password)
  await page.locator('[data-test=login-submit]').click()
  await page.waitForURL(`**/console/m/agencies/${FIXTURES.agency.id}`)
  const follow = page.locator('[data-test=m-follow]')
  await follow.waitFor()
  await follow.click()
  await page.waitForFunction(() => document.querySelector('[data-test=m-follow]').textContent.includes('✓'))
  await shot(page, 'phone-agency')
})

test('my vouchers show balance and expiry', async () => {
  await page.locator('[data-test=tab-vouchers]').click()
  const voucher = page.locator(`[data-test=m-voucher-${FIXTURES.voucher.id}]`)
  await voucher.waitFor()
  assert.equal(await voucher.locator('[data-test=m-voucher-balance]').textContent(), '¥4,000.00')
  assert.match(await voucher.textContent(), /到期/)
  await shot(page, 'phone-vouchers')
})

async function pick(selectTest, optionText) {
  await page.locator(`[data-test=${selectTest}]`).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: optionText }).first().click()
}

test('a voucher is used at an agency for a service; a price above the listed maximum is named beside the price', async () => {
  const voucher = page.locator(`[data-test=m-voucher-${FIXTURES.voucher.id}]`)
  await page.locator(`[data-test=m-use-${FIXTURES.voucher.id}]`).click()
  await pick('m-redeem-agency', FIXTURES.agency.name)
  await pick('m-redeem-service', '实用新型专利申请')
  await page.locator(typed('m-redeem-price')).fill('99999')
  await page.locator('[data-test=m-redeem-submit]').click()
  await fieldError(page, '服务价格').waitFor()
  await page.locator(typed('m-redeem-price')).fill('2000')
  assert.match(await page.locator('[data-test=m-redeem-split]').textContent(), /¥1,000\.00.*¥1,000\.00/)
  await shot(page, 'phone-redeem', { top: false })
  await page.locator('[data-test=m-redeem-submit]').click()
  await page.waitForFunction(
    (id) => document.querySelector(`[data-test=m-voucher-${id}] [data-test=m-voucher-balance]`).textContent === '¥3,000.00',
    FIXTURES.voucher.id,
  )
  await voucher.waitFor()
})

test('the chat answers with buttons that can be tapped', async () => {
  await page.locator('[data-test=tab-chat]').click()
  await page.locator(typed('chat-input')).fill('你好')
  await page.locator('[data-test=chat-send]').click()
  const button = page.locator('[data-test=chat-button]').first()
  await button.waitFor({ timeout: 20000 })
  const before = await page.locator('[data-test=chat-bot]').count()
  await button.click()
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=chat-bot]').length > n, before, { timeout: 20000 })
  await shot(page, 'phone-chat')
  // A card opens the page it points to: the fallback menu's card is the agency search.
  const card = page.locator('a[data-test=chat-card]').first()
  if (await card.count()) {
    await card.click()
    await page.locator('[data-test=m-results]').waitFor()
  }
})

test('an expired session is said so plainly and leads back to the login', async () => {
  await page.evaluate(() => {
    const saved = JSON.parse(localStorage.getItem('ipa.session'))
    saved.token = 'no-longer-valid'
    localStorage.setItem('ipa.session', JSON.stringify(saved))
  })
  await page.goto(`${BASE}/console/m/vouchers`)
  await page.locator('[data-test=expired-notice]').waitFor()
  assert.match(page.url(), /\/m\/login/)
})

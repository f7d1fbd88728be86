// Onboarding: a new mini-program user binds to their enterprise in the phone view and an official approves it in
// the console; an official invites an agency clerk, who accepts on the join page with a password of their own.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, DESKTOP, FIXTURES, PHONE, launch, loginAs, newPage, shot, typed } from './browser.mjs'

let session
let phone
let desk

before(async () => {
  session = await launch()
  phone = await newPage(session.browser, PHONE)
  desk = await newPage(session.browser, DESKTOP)
  await loginAs(desk, 'e2e_official')
})

after(async () => {
  assert.deepEqual(phone.problems, [], 'no script errors in the phone view')
  assert.deepEqual(desk.problems, [], 'no script errors in the console')
  await session.close()
})

test('a new WeChat user asks to bind to their enterprise and sees only public data until approved', async () => {
  const wx = FIXTURES.wechatUser
  // The mini-program hands its web view the token wechat-login gave it.
  await phone.goto(`${BASE}/console/m/`)
  await phone.evaluate((saved) => localStorage.setItem('ipa.session', JSON.stringify(saved)), {
    token: wx.token,
    user: wx.user,
    expiresAt: wx.expires_at,
  })
  await phone.goto(`${BASE}/console/m/bind`)
  // A mistyped credit code is refused on its field, nothing sent.
  const code = FIXTURES.second.creditCode
  await phone.locator(typed('m-credit-code')).fill(code.slice(0, 17) + (code[17] === '0' ? '1' : '0'))
  await phone.locator(typed('m-person')).fill('周小青')
  await phone.locator(typed('m-phone')).fill('13800571111')
  await phone.locator('[data-test=m-bind-submit]').click()
  await phone.locator('.el-form-item__error', { hasText: 'check character' }).waitFor()
  await phone.locator(typed('m-credit-code')).fill(code)
  await phone.locator('[data-test=m-bind-submit]').click()
  await phone.locator('[data-test=m-binding-status]', { hasText: '待审批' }).waitFor()
  await shot(phone, 'phone-binding-pending')
  const mine = await phone.evaluate(async (token) => (await fetch('/api/v1/me/vouchers', { headers: { Authorization: `Bearer ${token}` } })).status, wx.token)
  assert.equal(mine, 403, 'no vouchers before approval')
})

test('the official approves the binding in the console, and the phone view shows the enterprise', async () => {
  await desk.goto(`${BASE}/console/people`)
  const row = desk.locator('[data-test=binding-table] .el-table__body tr', { hasText: '周小青' })
  await row.waitFor()
  await shot(desk, 'desktop-bindings')
  await row.locator('[data-test^=approve-]').click()
  await desk.locator('[data-test=binding-table] .el-table__body tr', { hasText: '周小青' }).waitFor({ state: 'detached' })
  await desk.locator('.el-tabs__item', { hasText: '账号审计' }).click()
  await desk.locator('[data-test=account-audit] .el-table__body tr', { hasText: '通过绑定' }).first().waitFor()

  await phone.locator('[data-test=m-binding-refresh]').click()
  await phone.locator('[data-test=m-bound-enterprise]').waitFor()
  const mine = await phone.evaluate(async (token) => (await fetch('/api/v1/me/vouchers', { headers: { Authorization: `Bearer ${token}` } })).status, FIXTURES.wechatUser.token)
  assert.equal(mine, 200, 'the enterprise vouchers are theirs now')
})

test('an invited agency clerk accepts with a password and lands in the agency console', async () => {
  await desk.goto(`${BASE}/console/people`)
  await desk.locator('.el-tabs__item', { hasText: '邀请代理机构员工' }).click()
  await desk.locator(typed('invite-agency')).fill(String(FIXTURES.agency.id))
  await desk.locator(typed('invite-name')).fill('吴新人')
  await desk.locator('[data-test=invite-submit]').click()
  const code = (await desk.locator('[data-test=invitation-code]').textContent()).trim()
  assert.ok(code.length >= 16)
  await shot(desk, 'desktop-invitation')

  const clerk = await newPage(session.browser, DESKTOP)
  await clerk.goto(`${BASE}/console/join?code=${encodeURIComponent(code)}`)
  await clerk.locator(typed('join-username')).fill(`clerk_${FIXTURES.stamp}`)
  await clerk.locator(typed('join-password')).fill('short')
  await clerk.locator('[data-test=join-submit]').click()
  await clerk.locator('.el-form-item__error').first().waitFor()
  await clerk.locator(typed('join-password')).fill('clerk-password-2026')
  await clerk.locator('[data-test=join-submit]').click()
  await clerk.waitForURL('**/console/my/agency')
  // The code was for one person: using it again is refused with a clear message.
  const again = await clerk.evaluate(async (used) => {
    const response = await fetch('/api/v1/invitations/accept', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: used, username: 'someone_else', password: 'another-password-1' }),
    })
    return [response.status, (await response.json()).error.code]
  }, code)
  assert.deepEqual(again, [409, 'invitation_invalid'])
  assert.deepEqual(clerk.problems, [])
})

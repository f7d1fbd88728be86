// Credit objections and reviews on screen. An agency objects to a deduction in its credit record (reason and
// evidence named beside the fields when missing), its rating shows "under objection" in the console, on its phone
// page and in search; an official decides in the objection queue and the score comes back. An enterprise with a
// delivered voucher service rates and reviews the agency in the phone view, the agency answers once, an official
// hides an abusive review with a reason, and the average follows on the page and in search.
// It works on the fixture agency the other walks use and leaves it with objections, reversals and reviews, so it is
// named to run after them (node --test takes the files in name order).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, FIXTURES, PHONE, fieldError, launch, loginAs, newPage, shot, typed } from './browser.mjs'
import { login } from './fixtures.mjs'

const AGENCY = FIXTURES.agency.id
let session
let tokens

async function api(method, path, token, body) {
  const response = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  const data = await response.json()
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(data)}`)
  return data
}

before(async () => {
  session = await launch()
  tokens = {
    official: await login(BASE, 'e2e_official'),
    agency: await login(BASE, 'e2e_agency'),
    enterprise: await login(BASE, 'e2e_enterprise'),
  }
})

after(async () => {
  await session.close()
})

test('an agency objects to a deduction and an official reverses it: the score comes back', async () => {
  const before = await api('GET', `/agencies/${AGENCY}`, tokens.official)
  const event = (
    await api('POST', `/agencies/${AGENCY}/credit-events`, tokens.official, {
      category: 'abnormal_applications',
      points: -10,
      reason: '国家知识产权局通报：非正常专利申请 2 件',
      reference_doc: '国知办函运字〔2026〕12号',
    })
  ).event

  const agency = await newPage(session.browser)
  await loginAs(agency, 'e2e_agency')
  await agency.locator('[data-test="nav-/my/credit"]').click()
  await agency.locator(`[data-test=object-${event.id}]`).click()
  const dialog = agency.locator('.el-dialog', { hasText: '对信用事件提出异议' })
  await dialog.locator('[data-test=objection-submit]').click()
  await fieldError(agency, '异议理由', dialog).waitFor()
  await fieldError(agency, '证据材料', dialog).waitFor()
  await dialog.locator(typed('objection-reason')).fill('两件申请均有真实研发背景，系误报')
  await dialog.locator(typed('objection-evidence')).fill('研发立项书 RD-2025-031；实验记录；委托合同 HT-2025-88')
  await dialog.locator('[data-test=objection-submit]').click()
  await agency.locator('[data-test=under-objection]').waitFor()
  await agency.locator(`[data-test=event-objection-${event.id}]`).getByText('异议待决定').waitFor()
  assert.equal(await agency.locator(`[data-test=object-${event.id}]`).count(), 0, 'one objection per event')
  await shot(agency, 'desktop-agency-objection')

  // Anyone sees it on the phone page and in search.
  const phone = await newPage(session.browser, PHONE)
  await phone.goto(`${BASE}/console/m/agencies/${AGENCY}`)
  await phone.locator('[data-test=m-under-objection]').waitFor()
  await phone.goto(`${BASE}/console/m/`)
  await phone.locator(typed('m-q')).fill(FIXTURES.agency.shortName)
  await phone.locator('[data-test=m-search]').click()
  await phone.locator(`[data-test=m-objection-${AGENCY}]`).waitFor()

  // The official decides in the queue: a decision needs an outcome and a reason.
  const official = await newPage(session.browser)
  await loginAs(official, 'e2e_official')
  await official.locator('[data-test="nav-/objections"]').click()
  const row = official.locator('[data-test=objection-table] tr', { hasText: '两件申请均有真实研发背景' })
  await row.waitFor()
  await shot(official, 'desktop-objection-queue')
  await row.locator('[data-test^=decide-objection-]').click()
  const decision = official.locator('.el-dialog', { hasText: '对异议作出决定' })
  await decision.locator('[data-test=decision-submit]').click()
  await fieldError(official, '决定理由', decision).waitFor()
  await decision.locator('[data-test=decision-outcome]').getByText('撤销扣分').click()
  await decision.locator(typed('decision-reason')).fill('经核实两件申请有真实研发背景，撤销扣分')
  await decision.locator('[data-test=decision-submit]').click()
  await row.waitFor({ state: 'detached' })

  // The agency sees the decision, its score back and no "under objection"; the audit has every step.
  await official.goto(`${BASE}/console/agencies/${AGENCY}`)
  await official.waitForFunction((score) => document.querySelector('[data-test=rating-score]')?.textContent === String(score), before.rating.score)
  await agency.reload()
  await agency.locator(`[data-test=event-objection-${event.id}]`).getByText('异议成立').waitFor()
  assert.equal(await agency.locator('[data-test=under-objection]').count(), 0)
  const audit = agency.locator('[data-test=agency-audit]')
  for (const step of ['记录信用事件', '提出异议', '异议成立（撤销扣分）']) await audit.getByText(step, { exact: true }).first().waitFor()
  await shot(agency, 'desktop-agency-objection-decided')
  for (const page of [agency, phone, official]) assert.deepEqual(page.problems, [], 'no script errors in the page')
})

test('an enterprise reviews a delivered service, the agency answers once, an official hides an abusive review', async () => {
  // The fixture's redemption is delivered once the agency confirms it (agency.test.mjs does; alone, we do).
  const redemption = await api('GET', `/redemptions/${FIXTURES.redemption.id}`, tokens.agency)
  if (redemption.state === 'pending') {
    await api('POST', `/redemptions/${FIXTURES.redemption.id}/confirm`, tokens.agency, {
      contract_no: 'HT-2026-0002', invoice_no: 'INV-33010600002', payment_proof: '银行回单 BR-778900', deliverable: '申请号 202620000002.X',
    })
  }
  const phone = await newPage(session.browser, PHONE)
  await loginAs(phone, 'e2e_enterprise', FIXTURES.password, { mobile: true })
  await phone.goto(`${BASE}/console/m/agencies/${AGENCY}`)
  const form = phone.locator('[data-test=m-review-form]')
  await form.waitFor()
  await form.locator('[data-test=m-review-submit]').click()
  await fieldError(phone, '评分', form).waitFor()
  await form.locator('[data-test=m-review-rating] .el-rate__item').nth(3).click()
  await form.locator(typed('m-review-comment')).fill('撰写质量高，沟通及时')
  await form.locator('[data-test=m-review-submit]').click()
  await form.waitFor({ state: 'detached' })
  const mine = phone.locator('[data-test=m-reviews] .review', { hasText: '撰写质量高，沟通及时' })
  await mine.waitFor()
  await phone.locator('[data-test=m-review-summary]').getByText('4.0').waitFor()
  await shot(phone, 'phone-agency-review')

  // A second, abusive review, by the second enterprise through the API, for a service paid from a voucher of a
  // programme of its own (the fixture's vouchers and programme stay as the other walks expect them).
  const now = Date.now()
  const program = await api('POST', '/voucher-programs', tokens.official, {
    name: `评价演示服务券（E2E ${FIXTURES.stamp}）`,
    region_code: '330106',
    budget_fen: 1000000,
    face_value_fen: 300000,
    share_bp: 5000,
    services: ['utility_model'],
    valid_from: new Date(now - 86400000).toISOString(),
    valid_until: new Date(now + 90 * 86400000).toISOString(),
  })
  const [voucher] = (await api('POST', `/voucher-programs/${program.id}/vouchers`, tokens.official, { enterprises: [{ enterprise_id: FIXTURES.second.id }] })).issued
  const secondToken = await login(BASE, 'e2e_enterprise2')
  const redeemed = await api('POST', `/vouchers/${voucher.id}/redeem`, secondToken, { agency_id: AGENCY, service_code: 'utility_model', price_fen: 150000 })
  await api('POST', `/redemptions/${redeemed.id}/confirm`, tokens.agency, {
    contract_no: 'HT-2026-0003', invoice_no: 'INV-33010600003', payment_proof: '银行回单 BR-778901', deliverable: '申请号 202620000003.X',
  })
  const abusive = await api('POST', `/agencies/${AGENCY}/reviews`, secondToken, { redemption_id: redeemed.id, rating: 1, comment: '垃圾机构，经办人是骗子' })

  // The agency answers once, in its console.
  const agency = await newPage(session.browser)
  await loginAs(agency, 'e2e_agency')
  await agency.locator('[data-test="nav-/my/credit"]').click()
  const reviews = agency.locator('[data-test=agency-reviews]')
  const card = reviews.locator('.review', { hasText: '撰写质量高，沟通及时' })
  await card.locator('[data-test^=reply-]').click()
  const replyDialog = agency.locator('.el-dialog', { hasText: '回复评价' })
  await replyDialog.locator('[data-test=review-dialog-submit]').click()
  await fieldError(agency, '回复内容', replyDialog).waitFor()
  await replyDialog.locator(typed('reply-text')).fill('感谢认可，我们会继续做好服务')
  await replyDialog.locator('[data-test=review-dialog-submit]').click()
  await card.getByText('感谢认可，我们会继续做好服务').waitFor()
  assert.equal(await card.locator('[data-test^=reply-]').count(), 0, 'an agency answers once')

  // The official hides the abusive one with a reason.
  const official = await newPage(session.browser)
  await loginAs(official, 'e2e_official')
  await official.goto(`${BASE}/console/agencies/${AGENCY}`)
  const bad = official.locator(`[data-test=review-${abusive.id}]`)
  await bad.locator(`[data-test=hide-${abusive.id}]`).click()
  const hideDialog = official.locator('.el-dialog', { hasText: '隐藏评价' })
  await hideDialog.locator('[data-test=review-dialog-submit]').click()
  await fieldError(official, '隐藏原因', hideDialog).waitFor()
  await hideDialog.locator(typed('hide-reason')).fill('含人身攻击')
  await hideDialog.locator('[data-test=review-dialog-submit]').click()
  await bad.getByText('已被主管部门隐藏：含人身攻击').waitFor()
  await shot(official, 'desktop-agency-reviews')

  // The public page and search show the reply and the average of the visible reviews only.
  const visitor = await newPage(session.browser, PHONE)
  await visitor.goto(`${BASE}/console/m/agencies/${AGENCY}`)
  await visitor.locator('[data-test=m-reviews]').getByText('感谢认可，我们会继续做好服务').waitFor()
  assert.equal(await visitor.getByText('垃圾机构，经办人是骗子').count(), 0, 'a hidden review is not public')
  await visitor.locator('[data-test=m-review-summary]').getByText('4.0').waitFor()
  await visitor.goto(`${BASE}/console/m/`)
  await visitor.locator(typed('m-q')).fill(FIXTURES.agency.shortName)
  await visitor.locator('[data-test=m-search]').click()
  await visitor.locator(`[data-test=m-stars-${AGENCY}]`).getByText('4.0').waitFor()
  // The writer's enterprise still sees the hidden review, and why; another enterprise does not see it.
  const writer = await newPage(session.browser, PHONE)
  await loginAs(writer, 'e2e_enterprise2', FIXTURES.password, { mobile: true })
  await writer.goto(`${BASE}/console/m/agencies/${AGENCY}`)
  await writer.locator(`[data-test=m-review-${abusive.id}]`).getByText('已被主管部门隐藏：含人身攻击').waitFor()
  await phone.reload()
  await phone.locator('[data-test=m-reviews]').getByText('感谢认可，我们会继续做好服务').waitFor()
  assert.equal(await phone.locator(`[data-test=m-review-${abusive.id}]`).count(), 0)
  // Hidden by mistake: the official shows it again with a reason, and it is public again.
  await bad.locator(`[data-test=restore-${abusive.id}]`).click()
  const restoreDialog = official.locator('.el-dialog', { hasText: '恢复显示评价' })
  await restoreDialog.locator('[data-test=review-dialog-submit]').click()
  await fieldError(official, '恢复原因', restoreDialog).waitFor()
  await restoreDialog.locator(typed('restore-reason')).fill('核实后恢复')
  await restoreDialog.locator('[data-test=review-dialog-submit]').click()
  await bad.locator(`[data-test=hide-${abusive.id}]`).waitFor()
  await visitor.goto(`${BASE}/console/m/agencies/${AGENCY}`)
  await visitor.locator('[data-test=m-reviews]').getByText('垃圾机构，经办人是骗子').waitFor()
  for (const page of [phone, agency, official, visitor, writer]) assert.deepEqual(page.problems, [], 'no script errors in the page')
})

// Inside WeChat people are already signed in. A follower scans an agency's poster in the official account, taps the
// follow link in the answer, and lands in the phone view through WeChat's web authorization (the stand-in's
// authorization page) — signed in as that follower, no form — and follows the agency; the chat knows them as the
// same account. The same link outside WeChat gets the login choice. Officials download the poster.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, DESKTOP, FIXTURES, PHONE, launch, loginAs, newPage, typed } from './browser.mjs'

const STANDIN = process.env.E2E_STANDIN
const WECHAT_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.193 Mobile Safari/537.36 MicroMessenger/8.0.50.2701(0x28003253) NetType/WIFI Language/zh_CN'
const FOLLOWER = `e2efollower${Date.now() % 100000}`

let session
const pages = []

before(async () => {
  session = await launch()
})

after(async () => {
  for (const page of pages) assert.deepEqual(page.problems, [], 'no script errors in the page')
  await session.close()
})

async function standin(path, body) {
  const response = await fetch(`${STANDIN}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  assert.ok(response.ok, `${path} → ${response.status}`)
  return response.status === 204 ? null : response.json()
}

function linkIn(reply, pattern) {
  const found = [...reply.matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]).find((href) => pattern.test(href))
  assert.ok(found, `a link matching ${pattern} in: ${reply}`)
  return found
}

let followLink
let signedInUser

test('inside WeChat, the link from a scanned poster lands signed in as the follower, who follows the agency', async () => {
  const agency = FIXTURES.agency.id
  const scanned = await standin('/_standin/scan', { user: FOLLOWER, scene: `agency:${agency}`, new: true })
  assert.equal(scanned.status, 200)
  followLink = linkIn(scanned.reply, new RegExp(`/console/m/agencies/${agency}\\?follow=1$`))
  assert.ok(followLink.startsWith(BASE))
  await standin('/_standin/oauth-user', { user: FOLLOWER }) // who the authorization page answers as

  const page = await newPage(session.browser, PHONE, { userAgent: WECHAT_UA })
  pages.push(page)
  // WeChat's own bridge, which the JS-SDK talks to: record what the page asks of it.
  await page.context().addInitScript(() => {
    window.__bridge = []
    window.WeixinJSBridge = {
      invoke(name, args, done) {
        window.__bridge.push({ name, args })
        if (done) done({ err_msg: `${name}:ok` })
      },
      on() {},
      call() {},
    }
  })
  const visited = []
  page.on('framenavigated', (frame) => frame === page.mainFrame() && visited.push(frame.url()))
  await page.goto(followLink)
  await page.waitForURL(`**/console/m/agencies/${agency}?follow=1`)
  assert.ok(visited.some((url) => url.startsWith(`${BASE}/console/m/signin`)), `passed through the sign-in hand-over: ${visited.join(' → ')}`)
  assert.ok(!visited.some((url) => url.includes('/console/m/login')), 'no login form on the way')
  const follow = page.locator('[data-test=m-follow]')
  await follow.waitFor()
  assert.equal(await page.locator('[data-test=m-follow-login]').count(), 0)
  await follow.click()
  await page.waitForFunction(() => document.querySelector('[data-test=m-follow]').textContent.includes('✓'))
  signedInUser = await page.evaluate(() => JSON.parse(localStorage.getItem('ipa.session')).user)
  assert.equal(signedInUser.role, 'enterprise')
  assert.ok(!page.url().includes('#t='), 'the one-time token left the address bar')

  // The JS-SDK was configured for this page and the share card names the agency.
  await page.waitForFunction(() => window.__bridge.some((call) => call.name === 'updateAppMessageShareData'))
  const bridge = await page.evaluate(() => window.__bridge)
  assert.ok(bridge.some((call) => call.name === 'preVerifyJSAPI' && call.args.verifySignature), JSON.stringify(bridge))
  const share = bridge.find((call) => call.name === 'updateAppMessageShareData')
  const card = JSON.stringify(share.args)
  assert.ok([FIXTURES.agency.name, FIXTURES.agency.shortName].some((name) => card.includes(name)), card)
})

test('the chat knows the same person as the same account', async () => {
  const clicked = await standin('/_standin/event', { user: FOLLOWER, event: 'CLICK', key: 'MY_ACCOUNT' })
  const link = linkIn(clicked.reply, /\/console\/m\/signin#t=/)
  const token = link.split('#t=')[1]
  const response = await fetch(`${BASE}/api/v1/auth/sign-in-link`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) })
  assert.equal(response.status, 200)
  assert.equal((await response.json()).user.user_id, signedInUser.user_id)
})

test('outside WeChat the same link shows the page and, to follow, the login choice', async () => {
  const page = await newPage(session.browser, PHONE)
  pages.push(page)
  await page.goto(followLink)
  await page.locator('[data-test=m-rating]').waitFor()
  assert.ok(page.url().endsWith(`/console/m/agencies/${FIXTURES.agency.id}?follow=1`), page.url())
  await page.locator('[data-test=m-follow-login]').click()
  await page.waitForURL('**/console/m/login**')
  await page.locator('[data-test=login-choice-password]').waitFor()
  await page.locator(typed('username')).waitFor()
  const wechat = page.locator('[data-test=login-choice-wechat]')
  await wechat.waitFor()
  assert.match(await wechat.textContent(), /电脑端登录/)
})

test("an official downloads an agency's poster QR code", async () => {
  const page = await newPage(session.browser, DESKTOP)
  pages.push(page)
  await loginAs(page, 'e2e_official')
  await page.goto(`${BASE}/console/agencies/${FIXTURES.agency.id}`)
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=poster-agency]').click()])
  assert.equal(download.suggestedFilename(), `qrcode-agency-${FIXTURES.agency.id}.png`)
})

test("the programme's report counts the scans of its poster", async () => {
  const page = await newPage(session.browser, DESKTOP)
  pages.push(page)
  await loginAs(page, 'e2e_official')
  await page.goto(`${BASE}/console/programs/${FIXTURES.program.id}`)
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=poster-program]').click()])
  assert.equal(download.suggestedFilename(), `qrcode-program-${FIXTURES.program.id}.png`)
  const scanned = await standin('/_standin/scan', { user: `${FOLLOWER}b`, scene: `program:${FIXTURES.program.id}`, new: true })
  assert.match(scanned.reply, new RegExp(`/console/m/vouchers\\?program=${FIXTURES.program.id}`))
  await standin('/_standin/scan', { user: FOLLOWER, scene: `program:${FIXTURES.program.id}`, new: false })
  await page.goto(`${BASE}/console/programs/${FIXTURES.program.id}/report`)
  const scans = page.locator('[data-test=report-scans]')
  await scans.waitFor()
  assert.match(await scans.textContent(), /新关注 1 人次 · 已关注用户 1 人次/)
})

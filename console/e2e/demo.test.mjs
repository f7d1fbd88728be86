// What a newcomer does after `make run`: log in with each demo account that `seed` prints and open every page of
// that role. No page may throw, and no API call a page makes may fail.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BASE, DESKTOP, FIXTURES, PHONE, launch, loginAs, newPage } from './browser.mjs'

let session

before(async () => {
  session = await launch()
})

after(async () => {
  await session.close()
})

async function visitAll(username, paths, viewport = DESKTOP) {
  const page = await newPage(session.browser, viewport)
  const failures = []
  page.on('response', (response) => {
    if (response.url().includes('/api/') && response.status() >= 400) failures.push(`${response.status()} ${response.url()}`)
  })
  await loginAs(page, username, FIXTURES.demoPassword, { mobile: viewport === PHONE })
  for (const path of paths) {
    await page.goto(`${BASE}/console${path}`)
    await page.waitForLoadState('networkidle')
    assert.doesNotMatch(page.url(), /\/login/, `${username} stays logged in on ${path}`)
  }
  assert.deepEqual(failures, [], `API calls of ${username}'s pages`)
  assert.deepEqual(page.problems, [], `script errors on ${username}'s pages`)
  await page.context().close()
}

test('the demo official opens every official page', { skip: !FIXTURES.demoPassword && 'no demo password' }, async () => {
  await visitAll('official_demo', ['/agencies', '/agencies/1', '/credit-import', '/enterprises', '/programs', '/programs/1', '/programs/1/report', '/applications', '/flags', '/audit/1', '/assistant', '/m/'])
})

test('the demo agency staff open their pages', { skip: !FIXTURES.demoPassword && 'no demo password' }, async () => {
  await visitAll('agency_demo', ['/my/agency', '/my/redemptions', '/my/credit'])
})

test('the demo enterprise opens the phone view', { skip: !FIXTURES.demoPassword && 'no demo password' }, async () => {
  await visitAll('enterprise_demo', ['/m/', '/m/agencies/1', '/m/vouchers', '/m/apply', '/m/chat'], PHONE)
})

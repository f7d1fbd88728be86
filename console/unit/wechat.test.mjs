// Inside WeChat a phone-view page without a session goes through WeChat's authorization — once, not in a loop.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inWeChat, needsWeChatSignIn } from '../src/wechat.js'

const WECHAT = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50(0x1800322c) NetType/WIFI Language/zh_CN'
const SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1'
const agency = { path: '/m/agencies/3', name: 'm-agency' }

test('WeChat is recognised by MicroMessenger in the user agent', () => {
  assert.equal(inWeChat(WECHAT), true)
  assert.equal(inWeChat(SAFARI), false)
})

test('a phone-view page in WeChat without a session signs in through WeChat', () => {
  assert.equal(needsWeChatSignIn(agency, false, WECHAT, 1000, null), true)
})

test('not with a session, not outside WeChat, not for the console or the sign-in pages', () => {
  assert.equal(needsWeChatSignIn(agency, true, WECHAT, 1000, null), false)
  assert.equal(needsWeChatSignIn(agency, false, SAFARI, 1000, null), false)
  assert.equal(needsWeChatSignIn({ path: '/agencies', name: 'agencies' }, false, WECHAT, 1000, null), false)
  assert.equal(needsWeChatSignIn({ path: '/m/login', name: 'm-login' }, false, WECHAT, 1000, null), false)
  assert.equal(needsWeChatSignIn({ path: '/m/signin', name: 'm-signin' }, false, WECHAT, 1000, null), false)
})

test('a tab that just tried does not try again for a minute (no redirect loop after a failure)', () => {
  assert.equal(needsWeChatSignIn(agency, false, WECHAT, 30000, '1000'), false)
  assert.equal(needsWeChatSignIn(agency, false, WECHAT, 62000, '1000'), true)
})

// Inside WeChat: web authorization (a page without a session goes through WeChat's OAuth and comes back signed in)
// and the JS-SDK (share a page into a chat with a title, description and image). Outside WeChat none of it runs.
import { paths } from './endpoints.js'

const TRIED = 'ipa.wxauth'
const RETRY_AFTER_MS = 60000

export function inWeChat(userAgent = navigator.userAgent) {
  return /MicroMessenger/i.test(userAgent)
}

// Whether to send this navigation through WeChat's authorization: inside WeChat, no session, a phone-view page
// other than the sign-in pages, and not already tried in this tab within the last minute (a failure shows the
// backend's page; coming back without a session must not loop).
export function needsWeChatSignIn(to, hasSession, userAgent = navigator.userAgent, now = Date.now(), tried = null) {
  if (hasSession || !inWeChat(userAgent)) return false
  if (!to.path.startsWith('/m') || ['m-signin', 'm-login'].includes(to.name)) return false
  return !(tried && now - Number(tried) < RETRY_AFTER_MS)
}

export function startWeChatSignIn(fullPath) {
  sessionStorage.setItem(TRIED, String(Date.now()))
  window.location.assign(`/api/v1/auth/wechat-oauth?next=${encodeURIComponent(fullPath)}`)
}

export function lastTried() {
  return sessionStorage.getItem(TRIED)
}

export function clearTried() {
  sessionStorage.removeItem(TRIED)
}

// WeChat's official JS-SDK (the npm build of jweixin), bundled with the console and loaded only inside WeChat:
// the console's Content-Security-Policy keeps allowing its own scripts only.
let sdk = null
function loadSdk() {
  sdk ??= import('weixin-js-sdk').then((module) => {
    const wx = module.default || module
    if (!wx || typeof wx.config !== 'function') throw new Error('no JS-SDK')
    return wx
  })
  return sdk
}

// Share this page into a chat / Moments with a proper card. Best effort: outside WeChat, or when the SDK or the
// signature is unavailable, nothing happens.
export async function shareThisPage({ title, desc, imgUrl }) {
  if (!inWeChat()) return
  try {
    const { get } = await import('./api') // (here, so the functions above stay pure and unit-tested)
    const page = window.location.href.split('#')[0]
    const [wx, config] = await Promise.all([loadSdk(), get(paths.jssdkConfig, { url: page })])
    wx.config({ debug: false, ...config })
    wx.ready(() => {
      const card = { title, desc, link: page, imgUrl: imgUrl || `${window.location.origin}/console/favicon.svg` }
      wx.updateAppMessageShareData(card)
      wx.updateTimelineShareData({ title, link: page, imgUrl: card.imgUrl })
    })
  } catch {
    /* sharing is a nicety: the page works without it */
  }
}

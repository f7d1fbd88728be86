import { createRouter, createWebHistory } from 'vue-router'
import { ElMessage } from 'element-plus'
import { whenSessionExpires } from './api'
import { i18n } from './i18n'
import { homeOf, session } from './session'
import { lastTried, needsWeChatSignIn, startWeChatSignIn } from './wechat'

const official = { roles: ['official'] }
const agency = { roles: ['agency'] }

const routes = [
  { path: '/login', name: 'login', component: () => import('./views/Login.vue'), meta: { public: true } },
  { path: '/join', name: 'join', component: () => import('./views/Join.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('./layouts/ConsoleLayout.vue'),
    children: [
      { path: '', name: 'home', redirect: () => homeOf(session.user) },
      { path: 'agencies', name: 'agencies', component: () => import('./views/official/Agencies.vue'), meta: official },
      { path: 'agencies/:id', name: 'agency-credit', component: () => import('./views/official/AgencyCredit.vue'), meta: official, props: true },
      { path: 'objections', name: 'objections', component: () => import('./views/official/Objections.vue'), meta: official },
      { path: 'credit-import', name: 'credit-import', component: () => import('./views/official/CreditImport.vue'), meta: official },
      { path: 'programs', name: 'programs', component: () => import('./views/official/Programs.vue'), meta: official },
      { path: 'programs/:id', name: 'program', component: () => import('./views/official/ProgramDetail.vue'), meta: official, props: true },
      { path: 'programs/:id/report', name: 'program-report', component: () => import('./views/official/ProgramReport.vue'), meta: official, props: true },
      { path: 'enterprises', name: 'enterprises', component: () => import('./views/official/Enterprises.vue'), meta: official },
      { path: 'centres', name: 'centres', component: () => import('./views/official/Centres.vue'), meta: official },
      { path: 'assistant', name: 'assistant', component: () => import('./views/official/Assistant.vue'), meta: official },
      { path: 'applications', name: 'applications', component: () => import('./views/official/Applications.vue'), meta: official },
      { path: 'flags', name: 'flags', component: () => import('./views/official/Flags.vue'), meta: official },
      { path: 'people', name: 'people', component: () => import('./views/official/People.vue'), meta: official },
      { path: 'password', name: 'password', component: () => import('./views/Password.vue') },
      { path: 'my/staff', name: 'my-staff', component: () => import('./views/agency/Staff.vue'), meta: agency },
      { path: 'audit/:id?', name: 'audit', component: () => import('./views/official/VoucherAudit.vue'), meta: official, props: true },
      { path: 'my/agency', name: 'my-agency', component: () => import('./views/agency/Profile.vue'), meta: agency },
      { path: 'my/redemptions', name: 'my-redemptions', component: () => import('./views/agency/Redemptions.vue'), meta: agency },
      { path: 'my/credit', name: 'my-credit', component: () => import('./views/agency/MyCredit.vue'), meta: agency },
    ],
  },
  {
    path: '/m',
    component: () => import('./layouts/MobileLayout.vue'),
    children: [
      { path: '', name: 'm-search', component: () => import('./views/m/Search.vue'), meta: { public: true } },
      { path: 'agencies/:id', name: 'm-agency', component: () => import('./views/m/AgencyPage.vue'), meta: { public: true }, props: true },
      { path: 'plan', name: 'm-plan', component: () => import('./views/m/Plan.vue'), meta: { public: true } },
      { path: 'vouchers', name: 'm-vouchers', component: () => import('./views/m/Vouchers.vue'), meta: { roles: ['enterprise'] } },
      { path: 'bind', name: 'm-bind', component: () => import('./views/m/Bind.vue'), meta: { roles: ['enterprise'] } },
      { path: 'apply', name: 'm-apply', component: () => import('./views/m/Apply.vue'), meta: { roles: ['enterprise'] } },
      { path: 'chat', name: 'm-chat', component: () => import('./views/m/Chat.vue'), meta: { roles: ['enterprise'] } },
      { path: 'login', name: 'm-login', component: () => import('./views/Login.vue'), meta: { public: true, mobile: true } },
      { path: 'signin', name: 'm-signin', component: () => import('./views/m/SignIn.vue'), meta: { public: true, mobile: true } },
    ],
  },
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({ history: createWebHistory('/console/'), routes })

router.beforeEach((to) => {
  // Inside WeChat the reader is already someone: WeChat's authorization signs them in, no form (then back here).
  if (needsWeChatSignIn(to, Boolean(session.token), navigator.userAgent, Date.now(), lastTried())) {
    startWeChatSignIn(to.fullPath)
    return false
  }
  if (to.meta.public) return true
  if (!session.token) {
    const mobile = to.path.startsWith('/m')
    return { name: mobile ? 'm-login' : 'login', query: { next: to.fullPath } }
  }
  const roles = to.meta.roles
  if (roles && !roles.includes(session.user.role)) return homeOf(session.user)
  return true
})

whenSessionExpires(() => {
  const current = router.currentRoute.value
  ElMessage({ type: 'warning', message: i18n.global.t('errors.expired'), showClose: true, duration: 8000 })
  if (current.meta.public && !current.meta.roles) return
  const mobile = current.path.startsWith('/m')
  router.push({ name: mobile ? 'm-login' : 'login', query: { next: current.fullPath } })
})

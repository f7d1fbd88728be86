// Who is logged in: the bearer token from POST /api/v1/auth/login and the user it belongs to.
// Kept in localStorage so a reload keeps the session; cleared on logout or when the API says the token is invalid.
import { reactive } from 'vue'

const KEY = 'ipa.session'

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || 'null')
    if (saved && saved.token && saved.user) return saved
  } catch {
    /* a damaged entry is the same as none */
  }
  return null
}

const saved = load()

export const session = reactive({
  token: saved ? saved.token : null,
  user: saved ? saved.user : null,
  expiresAt: saved ? saved.expiresAt : null,
  // Set when the API answered 401 for our token: the login page says so.
  expired: false,
})

export function signIn({ token, user, expires_at: expiresAt }) {
  session.token = token
  session.user = user
  session.expiresAt = expiresAt
  session.expired = false
  localStorage.setItem(KEY, JSON.stringify({ token, user, expiresAt }))
}

export function signOut({ expired = false } = {}) {
  session.token = null
  session.user = null
  session.expiresAt = null
  session.expired = expired
  localStorage.removeItem(KEY)
}

export function role() {
  return session.user ? session.user.role : null
}

// Where each role starts.
export function homeOf(user) {
  if (!user) return '/login'
  if (user.role === 'official') return '/agencies'
  if (user.role === 'agency') return '/my/agency'
  return '/m/'
}

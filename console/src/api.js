// The one way the console talks to the backend: the public /api/v1 API with the session's bearer token.
// Every failure becomes an ApiError carrying the contract's {code, message, details}.
import { session, signOut } from './session'

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
  }
}

let onExpired = () => {}
// The router installs this: it sends the user to the login page with a "session expired" notice.
export function whenSessionExpires(handler) {
  onExpired = handler
}

function buildUrl(path, query) {
  const url = new URL(`/api/v1${path}`, window.location.origin)
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === '') continue
    if (Array.isArray(value)) value.forEach((v) => url.searchParams.append(key, v))
    else url.searchParams.set(key, String(value))
  }
  return url
}

export async function request(method, path, { body, query, headers = {}, raw = false, text } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } }
  if (session.token) init.headers.Authorization = `Bearer ${session.token}`
  if (text !== undefined) {
    init.body = text
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let response
  try {
    response = await fetch(buildUrl(path, query), init)
  } catch {
    throw new ApiError(0, 'network', 'network', null)
  }
  if (response.ok && raw) return response
  if (response.status === 204) return null
  const type = response.headers.get('Content-Type') || ''
  const data = type.includes('json') ? await response.json().catch(() => null) : await response.text()
  if (!response.ok) {
    const error = (data && data.error) || {}
    const failure = new ApiError(response.status, error.code || `http_${response.status}`, error.message || response.statusText, error.details)
    if (response.status === 401 && session.token && path !== '/auth/login') {
      signOut({ expired: true })
      onExpired(failure)
    }
    throw failure
  }
  return data
}

export const get = (path, query) => request('GET', path, { query })
export const post = (path, body, options = {}) => request('POST', path, { body, ...options })
export const patch = (path, body) => request('PATCH', path, { body })
export const put = (path, body) => request('PUT', path, { body })
export const del = (path) => request('DELETE', path)

// A file download through the API (with the token), e.g. a report as CSV.
export async function download(path, query, filename) {
  const response = await request('GET', path, { query, raw: true, headers: { Accept: 'text/csv' } })
  const blob = await response.blob()
  const link = document.createElement('a')
  link.href = URL.createObjectURL(blob)
  link.download = filename
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(link.href), 1000)
}

// A small file made in the browser (a CSV template) handed to the user as a download.
export function saveText(filename, text, type = 'text/csv;charset=utf-8') {
  const link = document.createElement('a')
  link.href = URL.createObjectURL(new Blob(['\ufeff', text], { type }))
  link.download = filename
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(link.href), 1000)
}

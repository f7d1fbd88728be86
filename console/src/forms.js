// Form errors from the API shown beside the field they name: 422 details are [{field, message}], where field is the
// pydantic location ("budget_fen", "enterprises.3.credit_code", "query.page"). Errors no field on the form claims
// are shown above the form.
import { reactive } from 'vue'
import { ElMessage } from 'element-plus'
import { i18n } from './i18n'

export function useFormErrors(fieldNames = []) {
  const errors = reactive({ fields: {}, general: '' })

  function clear() {
    errors.fields = {}
    errors.general = ''
  }

  function owner(path) {
    const clean = String(path || '').replace(/^(body|query)\./, '')
    if (fieldNames.includes(clean)) return clean
    // The longest declared field that the path starts with ("services.2" belongs to "services").
    const match = fieldNames
      .filter((name) => clean === name || clean.startsWith(`${name}.`))
      .sort((a, b) => b.length - a.length)[0]
    return match || null
  }

  // Returns true when the error was shown on the form.
  function show(error) {
    clear()
    const details = Array.isArray(error && error.details) ? error.details : []
    const leftovers = []
    for (const detail of details) {
      const field = detail && (detail.field || detail.loc)
      const name = owner(field)
      const text = String((detail && detail.message) || '').replace(/^Value error, /, '')
      if (name) errors.fields[name] = errors.fields[name] ? `${errors.fields[name]}; ${text}` : text
      else if (text) leftovers.push(field && field !== 'body' ? `${field}: ${text}` : text)
    }
    if (leftovers.length || !Object.keys(errors.fields).length) {
      errors.general = leftovers.length ? leftovers.join('\n') : messageOf(error)
    }
    return true
  }

  return { errors, clear, show, err: (name) => errors.fields[name] || '' }
}

export function messageOf(error) {
  const t = i18n.global.t
  if (!error) return t('errors.unknown')
  if (error.code === 'network') return t('errors.network')
  if (error.status === 403) return `${t('errors.forbidden')} ${error.message || ''}`.trim()
  if (error.status === 429) return t('errors.tooMany')
  if (error.status >= 500) return t('errors.server')
  return error.message || t('errors.unknown')
}

// For actions without a form: a toast with the API's message (401 is handled by the session-expiry notice).
export function toastError(error) {
  if (error && error.status === 401) return
  ElMessage({ type: 'error', message: messageOf(error), showClose: true, duration: 6000 })
}

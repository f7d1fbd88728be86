// Form errors from the API shown beside the field they name: 422 details are [{field, message}], where field is the
// pydantic location ("budget_fen", "enterprises.3.credit_code", "query.page"). Errors no field on the form claims
// are shown above the form.
import { reactive } from 'vue'
import { ElMessage } from 'element-plus'
import { splitDetails } from './fieldErrors'
import { i18n } from './i18n'

export function useFormErrors(fieldNames = []) {
  const errors = reactive({ fields: {}, general: '' })

  function clear() {
    errors.fields = {}
    errors.general = ''
  }

  // Returns true when the error was shown on the form.
  function show(error) {
    clear()
    const { fields, leftovers } = splitDetails(error && error.details, fieldNames)
    errors.fields = fields
    if (leftovers.length || !Object.keys(fields).length) errors.general = leftovers.length ? leftovers.join('\n') : messageOf(error)
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

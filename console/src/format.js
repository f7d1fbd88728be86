// Money is integer fen in the API and yuan on screen; dates are UTC in the API and local time on screen.
import { i18n } from './i18n'

export { percentOfBp, toFen, toYuan, yuan, yuanRange } from './money'

function locale() {
  return i18n.global.locale.value === 'en' ? 'en-GB' : 'zh-CN'
}

export function dateTime(value) {
  if (!value) return '—'
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return String(value)
  return date.toLocaleString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
}

export function dateOnly(value) {
  if (!value) return '—'
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return String(value)
  return date.toLocaleDateString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit' })
}


// Credit levels as people write them (the API says A_plus).
export function levelText(level) {
  return level === 'A_plus' ? 'A+' : level || '—'
}

export function levelType(level) {
  return { A_plus: 'success', A: 'success', B: 'primary', C: 'warning', D: 'danger' }[level] || 'info'
}

// A label in the current language from an API object carrying label_zh / label_en.
export function label(item) {
  if (!item) return ''
  const en = i18n.global.locale.value === 'en'
  return (en ? item.label_en : item.label_zh) || item.label_zh || item.label_en || item.code || ''
}

export function agencyName(agency) {
  if (!agency) return ''
  const en = i18n.global.locale.value === 'en'
  return (en && agency.name_en) || agency.name_zh || agency.name || ''
}

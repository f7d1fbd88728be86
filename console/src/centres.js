// The protection-centres form (official console): lists typed as text ("330100, 330200" / "锂电 新材料") to the API's
// arrays and back. Pure functions, unit-tested in unit/centres.test.mjs.

export const APPLICATION_TYPES = ['invention', 'utility_model', 'design']
const LIST_FIELDS = ['region_codes', 'fields', 'ipc_classes', 'words']

// "330100，330200 330300" → ['330100', '330200', '330300']: commas (ASCII or Chinese), 、, semicolons and spaces
// separate; duplicates and blanks dropped, order kept.
export function listOf(text) {
  const seen = []
  for (const item of String(text || '').split(/[\s,，、;；]+/)) {
    const value = item.trim()
    if (value && !seen.includes(value)) seen.push(value)
  }
  return seen
}

export function emptyForm() {
  return {
    name: '', name_en: '', kind: 'protection', seat_region: '', region_codes: '', fields: [], ipc_classes: '',
    words: '', application_types: [...APPLICATION_TYPES], contact: '', record_url: '', scope_confirmed: false, source: '',
  }
}

// A centre as the API returns it → the form's values (lists as text, except the chosen fields and types).
export function formOf(centre) {
  return {
    ...emptyForm(),
    ...centre,
    region_codes: (centre.region_codes || []).join(', '),
    ipc_classes: (centre.ipc_classes || []).join(', '),
    words: (centre.words || []).join('、'),
    fields: [...(centre.fields || [])],
    application_types: [...(centre.application_types || [])],
    record_url: centre.record_url || '',
  }
}

// The form → the API's body: text lists split, an empty link is no link; on an edit only what changed is sent
// (the seat region cannot change: it decides whose jurisdiction the centre is in).
export function bodyOf(form, original = null) {
  const body = {}
  for (const [key, value] of Object.entries(form)) {
    if (['id', 'seat_region_name', 'updated_at'].includes(key)) continue
    if (original && key === 'seat_region') continue
    let out = value
    if (LIST_FIELDS.includes(key) && typeof value === 'string') out = key === 'words' ? listOf(value) : listOf(value).map((v) => (key === 'ipc_classes' ? v.toUpperCase() : v))
    if (key === 'record_url') out = String(value || '').trim() || null
    if (typeof out === 'string') out = out.trim()
    if (original && JSON.stringify(out) === JSON.stringify(bodyOf({ [key]: original[key] })[key])) continue
    body[key] = out
  }
  return body
}

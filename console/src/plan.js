// The fast-track plan page's answers ↔ the planner's request (POST /api/v1/fast-track/plan, contract field names).
// Pure: unit-tested.

export const KINDS = ['invention', 'utility_model', 'design', 'trademark']
export const STAGES = ['not_filed', 'filed', 'substantive_exam', 'office_action', 'granted']
export const OFFICES = ['none', 'US', 'JP', 'EP', 'KR']
export const MARK_TYPES = ['word', 'figurative', 'collective', 'certification']
export const YES_NO = ['true', 'false']
// The yes/no questions, in the order the page asks them (patents only).
export const BOOLEAN_FIELDS = ['centre_record', 'exploiting', 'filed_abroad_after_china', 'pct_national_phase']

const TEXT_FIELDS = ['technical_field', 'region', 'situation']

// The answers as the page keeps them (strings; '' = not answered), from a link's query (the assistant's card).
export function answersFromQuery(query = {}) {
  const one = (name) => (typeof query[name] === 'string' ? query[name] : '')
  const answers = { kind: '', stage: '', foreign_allowed_office: '', mark_type: '' }
  for (const name of [...TEXT_FIELDS, ...BOOLEAN_FIELDS]) answers[name] = ''
  if (KINDS.includes(one('kind'))) answers.kind = one('kind')
  if (STAGES.includes(one('stage'))) answers.stage = one('stage')
  if (MARK_TYPES.includes(one('mark_type'))) answers.mark_type = one('mark_type')
  const office = one('foreign_allowed_office').toUpperCase()
  if (office === 'NONE') answers.foreign_allowed_office = 'none'
  else if (/^[A-Z]{2}$/.test(office)) answers.foreign_allowed_office = office
  for (const name of TEXT_FIELDS) answers[name] = one(name)
  for (const name of BOOLEAN_FIELDS) if (YES_NO.includes(one(name))) answers[name] = one(name)
  return answers
}

// The request body: only what was answered ("no foreign office" is an explicit null, as the contract says), so the
// planner marks what a missing answer decides `unknown` and lists it in `asked`.
export function planRequest(answers, lang) {
  const body = {}
  if (answers.kind) body.kind = answers.kind
  if (answers.stage) body.stage = answers.stage
  for (const name of TEXT_FIELDS) {
    const value = (answers[name] || '').trim()
    if (value) body[name] = value
  }
  const trademark = answers.kind === 'trademark'
  if (trademark) {
    if (answers.mark_type) body.mark_type = answers.mark_type
    delete body.technical_field
  } else {
    if (answers.foreign_allowed_office === 'none') body.foreign_allowed_office = null
    else if (answers.foreign_allowed_office) body.foreign_allowed_office = answers.foreign_allowed_office
    for (const name of BOOLEAN_FIELDS) if (answers[name]) body[name] = answers[name] === 'true'
    delete body.situation
  }
  if (lang) body.lang = lang
  return body
}

// The API path of a route's drafted request: the planner gives it as `draft_url` ("/api/v1/…"); the API client adds
// the prefix itself.
export function draftPath(url) {
  if (!url) return null
  const path = String(url).replace(/^https?:\/\/[^/]+/, '')
  return path.startsWith('/api/v1/') ? path.slice('/api/v1'.length) : null
}

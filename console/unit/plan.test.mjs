// The plan page's answers ↔ the planner's request body (contract field names).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { answersFromQuery, draftPath, planRequest } from '../src/plan.js'

test("the assistant's link prefills the answers; unknown values are dropped", () => {
  const answers = answersFromQuery({ kind: 'invention', stage: 'substantive_exam', foreign_allowed_office: 'us', centre_record: 'false', region: '330100', mark_type: 'sound', exploiting: 'maybe' })
  assert.equal(answers.kind, 'invention')
  assert.equal(answers.stage, 'substantive_exam')
  assert.equal(answers.foreign_allowed_office, 'US')
  assert.equal(answers.centre_record, 'false')
  assert.equal(answers.region, '330100')
  assert.equal(answers.mark_type, '')
  assert.equal(answers.exploiting, '')
  assert.equal(answersFromQuery({ kind: 'patent' }).kind, '')
})

test('only answered questions are sent; "no foreign office" is an explicit null; yes/no become booleans', () => {
  const answers = answersFromQuery({ kind: 'invention', stage: 'filed', foreign_allowed_office: 'none', exploiting: 'true' })
  assert.deepEqual(planRequest(answers, 'zh'), { kind: 'invention', stage: 'filed', foreign_allowed_office: null, exploiting: true, lang: 'zh' })
  assert.deepEqual(planRequest(answersFromQuery({}), 'en'), { lang: 'en' })
})

test('a trademark sends its mark type and situation, never patent-only answers', () => {
  const answers = { ...answersFromQuery({ kind: 'trademark', mark_type: 'word', centre_record: 'true', technical_field: '电池' }), situation: ' 新品上市 ' }
  assert.deepEqual(planRequest(answers), { kind: 'trademark', mark_type: 'word', situation: '新品上市' })
})

test("a draft's download path is the planner's URL without the API prefix; anything else is not downloaded", () => {
  assert.equal(draftPath('/api/v1/fast-track/drafts/priority_exam?kind=invention'), '/fast-track/drafts/priority_exam?kind=invention')
  assert.equal(draftPath('http://127.0.0.1:8080/api/v1/fast-track/drafts/pph'), '/fast-track/drafts/pph')
  assert.equal(draftPath('https://evil.example/x'), null)
  assert.equal(draftPath(null), null)
})

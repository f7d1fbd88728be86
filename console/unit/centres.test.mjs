// The protection-centres form: typed lists to the API's arrays, and an edit sends only what changed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bodyOf, emptyForm, formOf, listOf } from '../src/centres.js'

test('lists split on ASCII and Chinese separators, drop blanks and duplicates, keep the order', () => {
  assert.deepEqual(listOf('330100，330200 330300、330100;; '), ['330100', '330200', '330300'])
  assert.deepEqual(listOf(''), [])
  assert.deepEqual(listOf(null), [])
})

test('a new centre: text lists become arrays, IPC classes upper-case, an empty link is no link', () => {
  const form = { ...emptyForm(), name: ' 中国（测试）知识产权保护中心 ', seat_region: '330100', region_codes: '330100, 330200', ipc_classes: 'h01m, c04b', words: '锂电、新材料' }
  const body = bodyOf(form)
  assert.equal(body.name, '中国（测试）知识产权保护中心')
  assert.deepEqual(body.region_codes, ['330100', '330200'])
  assert.deepEqual(body.ipc_classes, ['H01M', 'C04B'])
  assert.deepEqual(body.words, ['锂电', '新材料'])
  assert.equal(body.record_url, null)
  assert.deepEqual(body.application_types, ['invention', 'utility_model', 'design'])
})

test('an edit sends only the changed fields and never the seat region', () => {
  const centre = {
    id: 3, name: '中国（宁波）知识产权保护中心', name_en: '', kind: 'protection', seat_region: '330200', seat_region_name: '浙江省宁波市',
    region_codes: ['330200'], fields: [], ipc_classes: [], words: [], application_types: ['invention'], contact: '', record_url: null,
    scope_confirmed: false, source: 'S26', updated_at: '2026-12-04T00:00:00Z',
  }
  const form = formOf(centre)
  assert.equal(form.region_codes, '330200')
  assert.deepEqual(bodyOf(form, centre), {})
  form.fields = ['new_materials']
  form.words = '新材料、 模具'
  form.scope_confirmed = true
  form.seat_region = '330100'
  assert.deepEqual(bodyOf(form, centre), { fields: ['new_materials'], words: ['新材料', '模具'], scope_confirmed: true })
})

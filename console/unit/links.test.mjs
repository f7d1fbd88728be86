// The assistant's cards point at mini-program pages; the phone view opens its own page for each.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cardLink } from '../src/links.js'

test("an agency card opens that agency's page", () => {
  assert.equal(cardLink({ link: 'pages/agency/detail?id=7' }), '/m/agencies/7')
  assert.equal(cardLink({ link: '/pages/agency/detail?id=12' }), '/m/agencies/12')
})

test('a "see all results" card opens the search with the same filters, not an agency named by a region code', () => {
  assert.deepEqual(cardLink({ link: 'pages/agency/search?region=330100&service=invention' }), {
    path: '/m/',
    query: { region: '330100', service: 'invention' },
  })
})

test('voucher cards open my vouchers; the login card opens the login and comes back to the chat', () => {
  assert.equal(cardLink({ link: 'pages/voucher/detail?id=3' }), '/m/vouchers')
  assert.deepEqual(cardLink({ link: 'pages/login/index' }), { name: 'm-login', query: { next: '/m/chat' } })
})

test("the assistant's plan card opens the plan page with the answers given in the chat", () => {
  assert.deepEqual(cardLink({ link: 'pages/fast-track/plan?kind=invention&stage=substantive_exam&foreign_allowed_office=US' }), {
    path: '/m/plan',
    query: { kind: 'invention', stage: 'substantive_exam', foreign_allowed_office: 'US' },
  })
})

test('cards without a link, or with one the phone view lacks, are not links', () => {
  assert.equal(cardLink({ title: 'x' }), null)
  assert.equal(cardLink({ link: 'pages/agency/detail?id=abc' }), null)
  assert.equal(cardLink({ link: 'pages/unknown' }), null)
  assert.equal(cardLink(null), null)
})

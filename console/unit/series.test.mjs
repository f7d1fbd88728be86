// The report chart's series: which buckets are asked for, China days, and the points the chart draws.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chinaDay, seriesPoints, seriesQuery } from '../src/series.js'

test('an instant counts for its China day: 23:30 UTC is the next morning in China', () => {
  assert.equal(chinaDay('2026-03-01T23:30:00Z'), '2026-03-02')
  assert.equal(chinaDay('2026-03-01T15:59:00Z'), '2026-03-01')
})

test('days for a short programme, weeks for a year, months for a long one', () => {
  const after = Date.parse('2040-01-01T00:00:00Z')
  assert.deepEqual(seriesQuery({ valid_from: '2026-01-01T00:00:00Z', valid_until: '2026-06-30T00:00:00Z' }, after), { bucket: 'day' })
  assert.deepEqual(seriesQuery({ valid_from: '2026-01-01T00:00:00Z', valid_until: '2026-12-31T00:00:00Z' }, after), { bucket: 'week' })
  assert.deepEqual(seriesQuery({ valid_from: '2026-01-01T00:00:00Z', valid_until: '2030-12-31T00:00:00Z' }, after), { bucket: 'month' })
})

test('a running programme is charted up to today (China), a finished or future one over its whole validity', () => {
  const program = { valid_from: '2026-01-01T00:00:00Z', valid_until: '2026-03-01T00:00:00Z' }
  assert.deepEqual(seriesQuery(program, Date.parse('2026-02-10T20:00:00Z')), { bucket: 'day', to: '2026-02-11' })
  assert.deepEqual(seriesQuery(program, Date.parse('2025-12-01T00:00:00Z')), { bucket: 'day' })
})

test('points keep the server\'s fen; months are labelled by month', () => {
  const point = { start: '2026-03-04', end: '2026-03-31', redeemed_fen: 120000, spent_fen: 180000, budget_fen: 10000000 }
  assert.deepEqual(seriesPoints({ bucket: 'month', points: [point] }), [
    { label: '2026-03', spentFen: 180000, redeemedFen: 120000, budgetFen: 10000000 },
  ])
  assert.equal(seriesPoints({ bucket: 'week', points: [point] })[0].label, '2026-03-04')
})

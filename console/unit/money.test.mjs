// Money on screen: integer fen from the API shown as yuan, yuan typed by people turned back into exact fen.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { percentOfBp, toFen, toYuan, yuan, yuanRange } from '../src/money.js'

test('fen are shown as yuan with two decimals and thousands separators', () => {
  assert.equal(yuan(123450), '¥1,234.50')
  assert.equal(yuan(0), '¥0.00')
  assert.equal(yuan(1), '¥0.01')
  assert.equal(yuan(10000000000), '¥100,000,000.00')
})

test('a missing amount is a dash, not ¥NaN', () => {
  for (const nothing of [null, undefined, '', 'abc']) assert.equal(yuan(nothing), '—')
})

test('a range collapses when both ends are equal', () => {
  assert.equal(yuanRange(400000, 900000), '¥4,000.00 – ¥9,000.00')
  assert.equal(yuanRange(500, 500), '¥5.00')
})

test('yuan typed by people become whole fen without float drift', () => {
  assert.equal(toFen(0.1 + 0.2), 30)
  assert.equal(toFen(1234.5), 123450)
  assert.equal(toFen('19.99'), 1999)
  assert.equal(toFen(1.005), 101)
  assert.ok(Number.isInteger(toFen(4000.07)))
  for (const nothing of [null, undefined, '', 'abc', Infinity]) assert.equal(toFen(nothing), null)
})

test('fen and yuan round-trip for every cent of a large amount', () => {
  for (let fen = 9999900; fen <= 10000100; fen += 1) assert.equal(toFen(toYuan(fen)), fen)
})

test('shares in basis points read as percentages', () => {
  assert.equal(percentOfBp(5000), '50%')
  assert.equal(percentOfBp(10000), '100%')
  assert.equal(percentOfBp(3333), '33.33%')
})

// API validation details land beside the form field they concern; what no field claims goes above the form.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fieldOwner, splitDetails } from '../src/fieldErrors.js'

const PROGRAMME = ['name', 'region_code', 'budget_fen', 'services', 'valid_from', 'valid_until']

test('a field is claimed by its own name, with or without the body/query prefix', () => {
  assert.equal(fieldOwner('budget_fen', PROGRAMME), 'budget_fen')
  assert.equal(fieldOwner('body.region_code', PROGRAMME), 'region_code')
  assert.equal(fieldOwner('query.name', PROGRAMME), 'name')
})

test('a nested location belongs to the longest declared field it lies under', () => {
  assert.equal(fieldOwner('services.2', PROGRAMME), 'services')
  const names = ['enterprises', 'enterprises.0.credit_code']
  assert.equal(fieldOwner('enterprises.0.credit_code', names), 'enterprises.0.credit_code')
  assert.equal(fieldOwner('enterprises.3.face_value_fen', names), 'enterprises')
})

test('a name that only starts the same is not the owner', () => {
  assert.equal(fieldOwner('valid_from_x', PROGRAMME), null)
  assert.equal(fieldOwner('body', PROGRAMME), null)
})

test('details are split into field messages and the rest, pydantic prefixes dropped', () => {
  const { fields, leftovers } = splitDetails(
    [
      { field: 'region_code', message: 'String should match pattern' },
      { field: 'services.0', message: 'Value error, price_max_fen must not be below price_min_fen' },
      { field: 'services.1', message: 'Input should be a valid enumeration member' },
      { field: 'body', message: 'Value error, valid_until must be after valid_from' },
      { field: 'colour', message: 'Extra inputs are not permitted' },
    ],
    PROGRAMME,
  )
  assert.deepEqual(fields, {
    region_code: 'String should match pattern',
    services: 'price_max_fen must not be below price_min_fen; Input should be a valid enumeration member',
  })
  assert.deepEqual(leftovers, ['valid_until must be after valid_from', 'colour: Extra inputs are not permitted'])
})

test('anything that is not a list of details gives nothing to place', () => {
  for (const details of [undefined, null, 'oops', { field: 'x' }]) assert.deepEqual(splitDetails(details, PROGRAMME), { fields: {}, leftovers: [] })
})

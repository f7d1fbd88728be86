// Money is integer fen (分) in the API and yuan on screen. Pure functions: unit-tested in unit/money.test.mjs.
const yuanFormat = new Intl.NumberFormat('zh-CN', { style: 'currency', currency: 'CNY', minimumFractionDigits: 2 })

export function yuan(fen) {
  if (fen === null || fen === undefined || fen === '' || Number.isNaN(Number(fen))) return '—'
  return yuanFormat.format(Number(fen) / 100)
}

export function yuanRange(min, max) {
  if (min === max) return yuan(min)
  return `${yuan(min)} – ${yuan(max)}`
}

// Yuan typed by a person (at most two decimals) to integer fen: 0.1 + 0.2 yuan is 30 fen, never 30.000000000000004.
export function toFen(yuanValue) {
  if (yuanValue === null || yuanValue === undefined || yuanValue === '') return null
  const value = Number(yuanValue)
  if (!Number.isFinite(value)) return null
  // Shift the decimal point in the number's text, not by multiplying: 1.005 × 100 is 100.49999999999999 in binary.
  const text = String(value)
  return text.includes('e') ? Math.round(value * 100) : Math.round(Number(`${text}e2`))
}

export function toYuan(fen) {
  if (fen === null || fen === undefined) return null
  return Number(fen) / 100
}

// A share in basis points (1/10000) as a percentage: 5000 → "50%", 3333 → "33.33%".
export function percentOfBp(bp) {
  const value = Number(bp)
  return `${(value / 100).toFixed(value % 100 === 0 ? 0 : 2)}%`
}

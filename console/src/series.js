// The programme report's "spent vs budget over time" chart: which buckets to ask the server for
// (GET …/report/series) and how its points become the chart's axis. Dates are China days (Asia/Shanghai, UTC+8).
const DAY_MS = 86400000
const CHINA_OFFSET_MS = 8 * 3600000

// The China day (YYYY-MM-DD) an instant falls on.
export function chinaDay(instant) {
  return new Date(new Date(instant).getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10)
}

// The query for a programme: days for up to about six months, weeks up to three years, months beyond; the series
// stops today while the programme is still running (the rest would be a flat line into the future).
export function seriesQuery(program, now = Date.now()) {
  const first = chinaDay(program.valid_from)
  const last = chinaDay(program.valid_until)
  const days = (Date.parse(last) - Date.parse(first)) / DAY_MS + 1
  const bucket = days <= 186 ? 'day' : days <= 3 * 366 ? 'week' : 'month'
  const today = chinaDay(now)
  return today >= first && today < last ? { bucket, to: today } : { bucket }
}

// Axis labels and values (fen) of the series' points: a month is YYYY-MM, a day or week its first day.
export function seriesPoints(series) {
  return series.points.map((p) => ({
    label: series.bucket === 'month' ? p.start.slice(0, 7) : p.start,
    spentFen: p.spent_fen,
    redeemedFen: p.redeemed_fen,
    budgetFen: p.budget_fen,
  }))
}

// Which form field an API error detail belongs to. 422 details are [{field, message}] with the pydantic location
// ("budget_fen", "services.2", "enterprises.0.credit_code", "query.page"). Pure: unit-tested in unit/.

// The declared field a location belongs to: itself, or the longest declared field it lies under.
export function fieldOwner(path, names) {
  const clean = String(path || '').replace(/^(body|query)\./, '')
  if (names.includes(clean)) return clean
  const match = names.filter((name) => clean.startsWith(`${name}.`)).sort((a, b) => b.length - a.length)[0]
  return match || null
}

// {fields: {name: message}, leftovers: [message]} — leftovers are shown above the form.
export function splitDetails(details, names) {
  const fields = {}
  const leftovers = []
  for (const detail of Array.isArray(details) ? details : []) {
    if (!detail) continue
    const path = detail.field || detail.loc
    const text = String(detail.message || '').replace(/^Value error, /, '')
    const name = fieldOwner(path, names)
    if (name) fields[name] = fields[name] ? `${fields[name]}; ${text}` : text
    else if (text) leftovers.push(path && path !== 'body' ? `${path}: ${text}` : text)
  }
  return { fields, leftovers }
}

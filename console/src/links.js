// Where a chat card's link (a mini-program page, from bot/actions) opens in the phone view. Pure: unit-tested.
export function cardLink(card) {
  if (!card || !card.link) return null
  const [page, query = ''] = String(card.link).replace(/^\//, '').split('?')
  const params = new URLSearchParams(query)
  if (page === 'pages/agency/detail' && /^\d+$/.test(params.get('id') || '')) return `/m/agencies/${params.get('id')}`
  if (page === 'pages/agency/search') return { path: '/m/', query: Object.fromEntries(params) }
  if (page === 'pages/fast-track/plan') return { path: '/m/plan', query: Object.fromEntries(params) }
  if (page.startsWith('pages/voucher/')) return '/m/vouchers'
  if (page.startsWith('pages/login')) return { name: 'm-login', query: { next: '/m/chat' } }
  return null
}

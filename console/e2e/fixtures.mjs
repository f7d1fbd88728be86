// The data the browser tests work on, made the way people make it: through the public API (and `create-user` for
// accounts, which the API does not create). Unique per run, so the tests do not depend on what `seed` made.
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

// A valid unified social credit code (GB 32100-2015) from 17 characters.
export function creditCode(first17) {
  const total = [...first17].reduce((sum, ch, i) => sum + ALPHABET.indexOf(ch) * WEIGHTS[i], 0)
  return first17 + ALPHABET[(31 - (total % 31)) % 31]
}

export const PASSWORD = 'e2e-password-2026'

async function call(base, method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const data = response.status === 204 ? null : await response.json()
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(data)}`)
  return data
}

export async function login(base, username, password = PASSWORD) {
  return (await call(base, 'POST', '/auth/login', { body: { username, password } })).token
}

export async function arrange(base, cli, wechatUser) {
  const stamp = String(Date.now()).slice(-6)
  cli('create-user', '--role', 'official', '--username', 'e2e_official', '--password', PASSWORD, '--display-name', '测试官员', '--admin')
  const official = await login(base, 'e2e_official')
  const agency = await call(base, 'POST', '/agencies', {
    token: official,
    body: {
      name_zh: `浙江测试知识产权代理有限公司${stamp}`,
      name_en: `Zhejiang E2E IP Agency ${stamp}`,
      short_name: `测试代理${stamp}`,
      credit_code: creditCode(`91330106MA2E${stamp.slice(0, 5)}`),
      licence_no: `33E2E${stamp}`,
      kind: 'patent',
      region_code: '330106',
      address: '杭州市西湖区文三路 1 号',
      contact_name: '王经理',
      contact_phone: '0571-88880000',
      founded_year: 2012,
      patent_attorneys: 12,
      accepts_vouchers: true,
      services: [
        { service: 'invention', price_min_fen: 400000, price_max_fen: 900000 },
        { service: 'utility_model', price_min_fen: 150000, price_max_fen: 300000 },
      ],
      fields: ['next_gen_it', 'smart_manufacturing'],
    },
  })
  const enterprise = await call(base, 'POST', '/enterprises', {
    token: official,
    body: { name: `杭州测试科技有限公司${stamp}`, credit_code: creditCode(`91330106MA2F${stamp.slice(0, 5)}`), region_code: '330106', industry: '软件' },
  })
  const second = await call(base, 'POST', '/enterprises', {
    token: official,
    body: { name: `杭州第二测试科技有限公司${stamp}`, credit_code: creditCode(`91330106MA2G${stamp.slice(0, 5)}`), region_code: '330106', industry: '制造' },
  })
  cli('create-user', '--role', 'agency', '--username', 'e2e_agency', '--password', PASSWORD, '--agency-id', String(agency.id), '--display-name', '代理机构员工')
  cli('create-user', '--role', 'enterprise', '--username', 'e2e_enterprise', '--password', PASSWORD, '--enterprise-id', String(enterprise.id), '--display-name', '企业员工')
  cli('create-user', '--role', 'enterprise', '--username', 'e2e_enterprise2', '--password', PASSWORD, '--enterprise-id', String(second.id))

  // A programme with a voucher already redeemed at the agency: the agency's confirm walk starts from it.
  const now = new Date()
  const program = await call(base, 'POST', '/voucher-programs', {
    token: official,
    body: {
      name: `西湖区知识产权服务券（E2E ${stamp}）`,
      region_code: '330106',
      budget_fen: 10000000,
      face_value_fen: 500000,
      share_bp: 5000,
      services: ['invention', 'utility_model'],
      valid_from: new Date(now.getTime() - 86400000).toISOString(),
      valid_until: new Date(now.getTime() + 180 * 86400000).toISOString(),
    },
  })
  const issued = await call(base, 'POST', `/voucher-programs/${program.id}/vouchers`, {
    token: official,
    body: { enterprises: [{ enterprise_id: enterprise.id }, { enterprise_id: second.id }] },
  })
  const enterpriseToken = await login(base, 'e2e_enterprise')
  const voucher = issued.issued.find((v) => v.enterprise_id === enterprise.id)
  const redemption = await call(base, 'POST', `/vouchers/${voucher.id}/redeem`, {
    token: enterpriseToken,
    body: { agency_id: agency.id, service_code: 'utility_model', price_fen: 200000 },
  })
  // More activity for the report: the second enterprise spends at another participating agency too.
  const secondToken = await login(base, 'e2e_enterprise2')
  const secondVoucher = issued.issued.find((v) => v.enterprise_id === second.id)
  const other = program.participating_agencies.find((a) => a.id !== agency.id && a.services.some((s) => s.code === 'invention'))
  const invention = other ? other.services.find((s) => s.code === 'invention') : null
  await call(base, 'POST', `/vouchers/${secondVoucher.id}/redeem`, {
    token: secondToken,
    body: other
      ? { agency_id: other.id, service_code: 'invention', price_fen: invention.price_min_fen }
      : { agency_id: agency.id, service_code: 'invention', price_fen: 500000 },
  })
  // An enterprise that applies for a voucher (applications.test.mjs): a programme open for applications, reviewed
  // by an official, asking for one document.
  const applicant = await call(base, 'POST', '/enterprises', {
    token: official,
    body: { name: `杭州申领测试科技有限公司${stamp}`, credit_code: creditCode(`91330106MA2H${stamp.slice(0, 5)}`), region_code: '330106', industry: '软件' },
  })
  cli('create-user', '--role', 'enterprise', '--username', 'e2e_applicant', '--password', PASSWORD, '--enterprise-id', String(applicant.id))
  const applications = await call(base, 'POST', '/voucher-programs', {
    token: official,
    body: {
      name: `西湖区专利申领券（E2E ${stamp}）`,
      region_code: '330106',
      budget_fen: 3000000,
      face_value_fen: 300000,
      share_bp: 6000,
      services: ['invention'],
      valid_from: new Date(now.getTime() - 86400000).toISOString(),
      valid_until: new Date(now.getTime() + 180 * 86400000).toISOString(),
      applications: { open_at: new Date(now.getTime() - 3600000).toISOString(), documents: ['营业执照'], review: 'official' },
    },
  })
  return {
    password: PASSWORD,
    stamp,
    applications: { programId: applications.id, programName: applications.name, enterpriseId: applicant.id, enterpriseName: applicant.name },
    agency: { id: agency.id, name: agency.name_zh, shortName: agency.short_name },
    enterprise: { id: enterprise.id, creditCode: enterprise.credit_code },
    second: { id: second.id, creditCode: second.credit_code },
    program: { id: program.id, name: program.name },
    voucher: { id: voucher.id },
    redemption: { id: redemption.id },
    // A new mini-program user, bound to no enterprise yet (the onboarding walk binds it).
    wechatUser: wechatUser(`o-e2e-${stamp}`),
  }
}

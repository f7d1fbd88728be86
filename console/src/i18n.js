// Chinese by default, English with one switch (remembered in localStorage). Catalogue codes come from the backend's
// agencies/catalogue.py, agencies/credit.py, enterprises/catalogue.py and vouchers/states.py.
import { createI18n } from 'vue-i18n'

const zh = {
  app: { title: '知识产权服务助手', subtitle: '管理控制台', mobileTitle: '知识产权服务', language: 'English', logout: '退出登录' },
  common: {
    search: '搜索', reset: '重置', save: '保存', cancel: '取消', confirm: '确认', submit: '提交', close: '关闭', back: '返回',
    edit: '编辑', view: '查看', all: '全部', yes: '是', no: '否', none: '无', loading: '加载中…', empty: '暂无数据',
    actions: '操作', total: '共 {n} 条', required: '必填', id: '编号', state: '状态', reason: '原因', createdAt: '时间',
    download: '下载', refresh: '刷新', details: '详情', yuan: '元', optional: '选填', more: '更多', saved: '已保存',
    notAvailable: '该功能所需的接口尚未提供',
  },
  errors: {
    network: '无法连接服务器，请检查网络后重试。', server: '服务器出错了，请稍后再试（已记录）。', unknown: '操作失败。',
    forbidden: '没有权限：', tooMany: '尝试次数过多，请稍后再试。',
    expired: '登录已过期或已在别处退出，请重新登录。',
  },
  login: {
    title: '登录', username: '用户名', password: '密码', submit: '登录', demo: '演示账号（密码见 make run 输出）',
    official: '主管部门', agency: '代理机构', enterprise: '企业', failed: '用户名或密码错误。', mobile: '企业手机版',
    staffTitle: '主管部门、代理机构：账号密码登录',
    enterpriseTitle: '企业用户：通过微信登录',
    enterpriseHint: '在微信里打开本页会自动登录。在电脑或其他浏览器上，请在公众号菜单“我的 → 电脑端登录”获取一次性登录链接（10 分钟内有效）。',
  },
  signin: {
    working: '正在登录…', failed: '登录链接无效、已使用或已过期。', again: '请回到公众号重新获取链接，或', login: '用账号密码登录',
  },
  qr: { poster: '公众号二维码海报', posterHint: '扫码关注公众号，直达本页', downloaded: '已下载二维码', scans: '海报扫码：新关注 {new} 人次 · 已关注用户 {old} 人次' },
  nav: {
    agencies: '代理机构', creditImport: '信用评价导入', programs: '服务券项目', flags: '异常预警', audit: '服务券审计', assistant: '智能助手', enterprises: '企业',
    myAgency: '机构资料', redemptions: '待确认核销', myCredit: '信用记录', mobile: '手机版预览',
    mSearch: '找机构', mVouchers: '我的券', mChat: '智能助手', mFollowing: '关注',
  },
  roles: { official: '主管部门', agency: '代理机构', enterprise: '企业' },
  agency: {
    list: '代理机构名录', name: '机构名称', shortName: '简称', region: '地区', service: '服务', field: '技术领域', minRating: '最低信用等级',
    acceptsVouchers: '接受服务券', level: '信用等级', score: '信用分', attorneys: '专利代理师', agents: '商标代理人',
    sort: '排序', sortRelevance: '相关度', sortRating: '信用', sortAttorneys: '代理师人数', sortPrice: '价格',
    q: '名称 / 简称 / 拼音', kind: '类型', creditCode: '统一社会信用代码', licence: '执业许可证号', address: '地址',
    contactName: '联系人', contactPhone: '联系电话', contactEmail: '邮箱', website: '网站', description: '简介',
    founded: '成立年份', services: '服务与价格', fields: '技术领域', branches: '分支机构', followers: '关注数',
    follow: '关注', unfollow: '取消关注', following: '已关注', ratingHistory: '信用变化', reviews: '评价',
    price: '价格区间', priceMin: '最低价（元）', priceMax: '最高价（元）', regulated: '以下字段由主管部门维护，只读',
    noResults: '没有符合条件的机构', open: '信用档案',
  },
  kinds: { patent: '专利', trademark: '商标', both: '专利及商标' },
  credit: {
    record: '信用档案', current: '当前信用', baseline: '基准分', events: '信用事件', add: '记录信用事件',
    category: '类别', points: '分值', reason: '事由', referenceDoc: '依据文件', reverse: '撤销', reverseTitle: '撤销信用事件',
    reverseReason: '撤销原因（必填）', reversed: '已撤销', reversal: '撤销记录', counted: '计入', notCounted: '不计入',
    deduction: '扣分', bonus: '加分', pointsHint: '扣分填负数，加分填正数', added: '已记录，信用分已更新',
    reversedOk: '已撤销，信用分已更新', changedAt: '变化时间', cause: '原因', from: '原', to: '新', history: '信用变化记录',
    updatedAt: '更新于',
  },
  import: {
    title: '导入信用评价结果', intro: '上传主管部门发布的信用评价结果 CSV 文件。文件逐行校验，全部正确才会保存；有任何错误则不保存，并列出每个错误的行号与列名。',
    choose: '选择 CSV 文件', upload: '校验并导入', line: '行', column: '列', message: '问题', problems: '文件有 {n} 处错误，未保存任何数据',
    done: '已导入 {imported} 条，其中 {changed} 家机构信用发生变化', previous: '原信用', now: '新信用', format: '文件格式', template: '下载模板',
    agency: '机构',
  },
  program: {
    list: '服务券项目', create: '新建项目', name: '项目名称', description: '说明', region: '地区代码', budget: '总预算（元）',
    faceValue: '券面额（元）', share: '补贴比例（%）', cap: '每家企业每年上限（元）', services: '可用服务',
    minQualification: '企业资质要求', minAgencyLevel: '机构最低信用等级', validFrom: '开始时间', validUntil: '结束时间',
    validity: '券有效期（天）', settlement: '结算周期', remaining: '剩余预算', open: '进行中', closed: '已结束',
    issue: '发券', issueOne: '单个发放', issueFile: '从文件批量发放', enterpriseId: '企业编号', creditCode: '企业统一社会信用代码',
    issueReason: '发放说明', issued: '已发放 {count} 张，共 {total}，剩余预算 {remaining}', report: '报表', vouchers: '已发放的券',
    fileHint: 'CSV 文件：第一行为表头 credit_code（或 enterprise_id），可加 face_value_fen（面额，单位分）；每行一家企业。', parsed: '识别到 {n} 家企业',
    fileProblems: '文件有 {n} 处错误，未发放', created: '项目已创建', participating: '可用机构', eligibility: '申领条件',
    lookup: '查询', validityWindow: '有效期', budgetUse: '预算使用',
  },
  cycles: { monthly: '按月', quarterly: '按季度', per_redemption: '逐笔' },
  qualifications: { none: '不限', provincial_specialized: '省级专精特新中小企业', national_little_giant: '国家级专精特新“小巨人”企业' },
  voucher: {
    id: '券号', enterprise: '企业', faceValue: '面额', balance: '余额', expires: '到期', issuedAt: '发放时间', revoke: '撤回',
    revokeTitle: '撤回服务券', revokeReason: '撤回原因（必填）', revoked: '已撤回', audit: '审计记录', auditTitle: '服务券 {id} 的审计记录',
    action: '动作', fromTo: '状态变化', amount: '金额', balanceAfter: '变化后余额', actor: '操作人', lookup: '输入券号查询',
    usableAt: '可使用机构', mine: '我的服务券', spendable: '可使用', notSpendable: '不可使用', expiresIn: '{days} 天后到期',
    expiredOn: '已于 {date} 到期', program: '项目', share: '补贴 {share}', redemptions: '核销记录',
  },
  vstates: { issued: '已发放', partially_redeemed: '部分使用', redeemed: '已使用', delivered: '已交付', settled: '已结算', expired: '已过期', revoked: '已撤回' },
  rstates: { pending: '待确认', delivered: '已交付', settled: '已结算', rejected: '已拒绝', cancelled: '已撤回' },
  actions: { issue: '发放', redeem: '核销', confirm: '确认交付', settle: '结算', reject: '拒绝', revoke: '撤回', expire: '过期' },
  redemption: {
    title: '核销记录', waiting: '等待确认的核销', service: '服务', price: '服务价格', amount: '券支付', enterpriseShare: '企业自付',
    confirm: '确认交付', confirmTitle: '确认服务已交付', contractNo: '合同编号', invoiceNo: '发票号', paymentProof: '企业自付凭证',
    deliverable: '交付成果（如申请号）', confirmed: '已确认交付', settle: '结算', settled: '已处理', decision: '决定',
    approve: '同意结算', reject: '拒绝', decisionReason: '决定理由', flagged: '有预警', noneWaiting: '没有等待确认的核销',
    paymentProofHint: '企业自付部分不为 0 时必填',
  },
  flags: {
    title: '异常预警', kind: '类型', evidence: '证据', status: '状态', decide: '作出决定', open: '待处理', approved: '已同意',
    rejected: '已拒绝', decisionTitle: '对被预警的核销作出决定', decisionHint: '被预警的核销必须明确决定：同意结算或拒绝，并写明理由。',
    redemption: '核销', settleOk: '已同意结算', rejectOk: '已拒绝',
  },
  report: {
    title: '项目报表', issued: '已发放', redeemed: '已核销', delivered: '已交付', settled: '已结算', expired: '已过期', revoked: '已撤回退回',
    remaining: '剩余预算', budget: '总预算', pending: '待确认', rejected: '已拒绝', outstanding: '未使用余额',
    overTime: '支出与预算（按时间）', byAgency: '按机构', byService: '按服务', exportCsv: '导出 CSV', key: '编号', name: '名称',
    count: '笔数', spent: '累计核销', generatedAt: '生成于', timelineNote: '按北京时间{bucket}累计', bucket: { day: '逐日', week: '逐周', month: '逐月' },
  },
  profile: {
    title: '机构资料', editable: '可编辑信息', servicesTitle: '服务与价格', addService: '添加服务', saved: '已保存，搜索结果已更新',
    readonly: '监管信息（只读）', noAgency: '该账号未关联代理机构',
  },
  m: {
    searchPlaceholder: '搜索机构名称、拼音', filters: '筛选', regionPlaceholder: '地区（如 杭州 或 330100）', vouchersOnly: '只看接受服务券',
    loadMore: '加载更多', nothingMore: '没有更多了', myVouchers: '我的服务券', noVouchers: '还没有服务券', chat: '智能助手',
    chatPlaceholder: '输入问题，例如：优先审查需要什么条件？', send: '发送', chatHello: '您好！我可以解答知识产权政策问题、帮您找代理机构、查看服务券。',
    loginNeeded: '登录后可关注机构、查看服务券和使用助手', login: '登录', rating: '信用', history: '信用变化',
    agencyPage: '机构详情', services: '服务价格', priceFrom: '{price}起', balanceOf: '余额 {balance} / 面额 {face}', cardOpen: '查看', followers: '{n} 人关注', typing: '正在输入…',
  },
  services: {
    invention: '发明专利申请', utility_model: '实用新型专利申请', design: '外观设计专利申请', trademark_registration: '商标注册申请',
    pct_foreign: 'PCT及国外申请', priority_exam_assist: '优先审查请求协助', reexamination_invalidation: '复审与无效',
    litigation_support: '诉讼支持', patent_navigation: '专利导航', pledge_valuation: '质押融资评估',
  },
  fields: {
    energy_environment: '节能环保', next_gen_it: '新一代信息技术', biotech_medicine: '生物医药', high_end_equipment: '高端装备制造',
    new_energy: '新能源', new_materials: '新材料', new_energy_vehicles: '新能源汽车', smart_manufacturing: '智能制造',
    digital_economy: '互联网、大数据、云计算', chemicals: '化学化工', mechanical: '机械', electrical: '电学', other: '其他',
  },
  enterprise: {
    list: '企业', create: '登记企业', name: '企业名称', q: '名称 / 信用代码', industry: '行业', legalRep: '法定代表人',
    qualification: '资质', certificate: '证书编号', expiresOn: '有效期至', verify: '核验资质', verifyTitle: '核验企业资质',
    created: '已登记，企业编号 {id}',
  },
  redeem: {
    use: '使用这张券', title: '使用服务券', agency: '服务机构', service: '服务', price: '服务价格（元）', submit: '确认使用',
    split: '服务券支付 {voucher}，企业自付 {own}', done: '已使用：服务券支付 {amount}，企业自付 {own}。请等待机构确认交付。',
  },
  assistant: {
    title: '智能助手', unanswered: '未能回答的问题', tickets: '人工咨询工单', question: '问题', reason: '原因', intent: '识别意图',
    confidence: '置信度', lang: '语言', answer: '答复', work: '处理',
    reasons: { out_of_scope: '超出范围', low_confidence: '置信度低', handoff: '转人工' },
    statuses: { open: '待处理', in_progress: '处理中', answered: '已答复', closed: '已关闭' },
  },
  flagKinds: { related_party: '企业与机构存在关联', agency_concentration: '机构占比异常', max_amount_repeated: '反复按上限核销', fast_confirmation: '核销后极短时间内确认交付' },
  causes: { event: '信用事件', reversal: '撤销信用事件', import: '评价结果导入', initial: '登记' },
  categories: {
    abnormal_applications: '非正常专利申请', suspension_order: '被责令停止承接新业务', licence_revoked: '被吊销执业许可证',
    criminal_conviction: '负责人受到刑事处罚', excessive_volume: '人均代理量明显异常', late_annual_report: '未按时提交年度报告',
    late_annual_report_fixed: '年度报告逾期但一个月内补报', administrative_penalty: '受到行政处罚', industry_discipline: '受到行业自律惩戒',
    abnormal_business_status: '被列入经营异常名录', honours: '获得表彰荣誉', awards: '获得奖项', social_contribution: '社会贡献',
  },
}

const en = {
  app: { title: 'IP Service Assistant', subtitle: 'Console', mobileTitle: 'IP Services', language: '中文', logout: 'Log out' },
  common: {
    search: 'Search', reset: 'Reset', save: 'Save', cancel: 'Cancel', confirm: 'Confirm', submit: 'Submit', close: 'Close', back: 'Back',
    edit: 'Edit', view: 'View', all: 'All', yes: 'Yes', no: 'No', none: 'None', loading: 'Loading…', empty: 'Nothing here yet',
    actions: 'Actions', total: '{n} in total', required: 'required', id: 'No.', state: 'State', reason: 'Reason', createdAt: 'Time',
    download: 'Download', refresh: 'Refresh', details: 'Details', yuan: 'yuan', optional: 'optional', more: 'More', saved: 'Saved',
    notAvailable: 'The API this needs is not available yet',
  },
  errors: {
    network: 'Cannot reach the server; check the connection and try again.', server: 'The server failed; please try again later (it has been logged).',
    unknown: 'That did not work.', forbidden: 'Not allowed:', tooMany: 'Too many attempts; please wait a little.',
    expired: 'Your session has expired or was logged out elsewhere. Please log in again.',
  },
  login: {
    title: 'Log in', username: 'Username', password: 'Password', submit: 'Log in', demo: 'Demo accounts (password printed by make run)',
    official: 'Official', agency: 'Agency', enterprise: 'Enterprise', failed: 'Wrong username or password.', mobile: 'Enterprise phone view',
    staffTitle: 'Officials and agency staff: username and password',
    enterpriseTitle: 'Enterprise staff: sign in through WeChat',
    enterpriseHint: 'Opened inside WeChat, this page signs you in by itself. On a computer or another browser, tap “我的 → 电脑端登录” in the official account menu for a one-time sign-in link (valid 10 minutes).',
  },
  signin: {
    working: 'Signing you in…', failed: 'This sign-in link is unknown, used or expired.', again: 'Ask the chat for a new link, or', login: 'sign in with a password',
  },
  qr: { poster: 'Official-account QR poster', posterHint: 'Scan to follow the official account and open this page', downloaded: 'QR code downloaded', scans: 'Poster scans: {new} by new followers · {old} by followers' },
  nav: {
    agencies: 'Agencies', creditImport: 'Import evaluations', programs: 'Voucher programmes', flags: 'Abuse flags', audit: 'Voucher audit', assistant: 'Assistant', enterprises: 'Enterprises',
    myAgency: 'Our agency', redemptions: 'Redemptions to confirm', myCredit: 'Credit record', mobile: 'Phone view',
    mSearch: 'Agencies', mVouchers: 'Vouchers', mChat: 'Assistant', mFollowing: 'Following',
  },
  roles: { official: 'Official', agency: 'Agency staff', enterprise: 'Enterprise' },
  agency: {
    list: 'Agency directory', name: 'Name', shortName: 'Short name', region: 'Region', service: 'Service', field: 'Technical field', minRating: 'Minimum rating',
    acceptsVouchers: 'Accepts vouchers', level: 'Rating', score: 'Score', attorneys: 'Patent attorneys', agents: 'Trademark agents',
    sort: 'Sort', sortRelevance: 'Relevance', sortRating: 'Rating', sortAttorneys: 'Attorneys', sortPrice: 'Price',
    q: 'Name / short name / pinyin', kind: 'Kind', creditCode: 'Credit code', licence: 'Licence no.', address: 'Address',
    contactName: 'Contact', contactPhone: 'Phone', contactEmail: 'Email', website: 'Website', description: 'About',
    founded: 'Founded', services: 'Services and prices', fields: 'Technical fields', branches: 'Branches', followers: 'Followers',
    follow: 'Follow', unfollow: 'Unfollow', following: 'Following', ratingHistory: 'Rating history', reviews: 'Reviews',
    price: 'Price range', priceMin: 'Lowest (yuan)', priceMax: 'Highest (yuan)', regulated: 'Kept by the authorities; read-only',
    noResults: 'No agency matches', open: 'Credit record',
  },
  kinds: { patent: 'Patent', trademark: 'Trademark', both: 'Patent & trademark' },
  credit: {
    record: 'Credit record', current: 'Current rating', baseline: 'Baseline', events: 'Credit events', add: 'Record a credit event',
    category: 'Category', points: 'Points', reason: 'Reason', referenceDoc: 'Reference document', reverse: 'Reverse', reverseTitle: 'Reverse a credit event',
    reverseReason: 'Why it is reversed (required)', reversed: 'Reversed', reversal: 'Reversal', counted: 'Counted', notCounted: 'Not counted',
    deduction: 'Deduction', bonus: 'Bonus', pointsHint: 'Negative for a deduction, positive for a bonus', added: 'Recorded; the score is updated',
    reversedOk: 'Reversed; the score is updated', changedAt: 'Changed', cause: 'Cause', from: 'From', to: 'To', history: 'Rating history',
    updatedAt: 'Updated',
  },
  import: {
    title: 'Import credit evaluation results', intro: 'Upload the official evaluation result file (CSV). Every row is checked; it is saved only when all rows are valid. Otherwise nothing is saved and each problem is listed by line and column.',
    choose: 'Choose a CSV file', upload: 'Check and import', line: 'Line', column: 'Column', message: 'Problem', problems: 'The file has {n} problem(s); nothing was saved',
    done: 'Imported {imported} row(s); {changed} agencies changed rating', previous: 'Before', now: 'After', format: 'File format', template: 'Download a template',
    agency: 'Agency',
  },
  program: {
    list: 'Voucher programmes', create: 'New programme', name: 'Name', description: 'Description', region: 'Region code', budget: 'Budget (yuan)',
    faceValue: 'Face value (yuan)', share: 'Share paid (%)', cap: 'Cap per enterprise per year (yuan)', services: 'Services covered',
    minQualification: 'Enterprise qualification', minAgencyLevel: 'Minimum agency rating', validFrom: 'Valid from', validUntil: 'Valid until',
    validity: 'Voucher validity (days)', settlement: 'Settlement cycle', remaining: 'Remaining budget', open: 'Open', closed: 'Closed',
    issue: 'Issue', issueOne: 'Issue one', issueFile: 'Issue from a file', enterpriseId: 'Enterprise id', creditCode: "Enterprise's credit code",
    issueReason: 'Note', issued: 'Issued {count} voucher(s), {total} in all; {remaining} budget left', report: 'Report', vouchers: 'Issued vouchers',
    fileHint: 'CSV file: a header row with credit_code (or enterprise_id) and optionally face_value_fen (in fen); one enterprise per row.', parsed: '{n} enterprise(s) found',
    fileProblems: 'The file has {n} problem(s); nothing was issued', created: 'Programme created', participating: 'Participating agencies', eligibility: 'Who may hold it',
    lookup: 'Look up', validityWindow: 'Validity', budgetUse: 'Budget use',
  },
  cycles: { monthly: 'Monthly', quarterly: 'Quarterly', per_redemption: 'Per redemption' },
  qualifications: { none: 'Any', provincial_specialized: 'Provincial specialized-innovative SME', national_little_giant: 'National "little giant"' },
  voucher: {
    id: 'Voucher', enterprise: 'Enterprise', faceValue: 'Face value', balance: 'Balance', expires: 'Expires', issuedAt: 'Issued', revoke: 'Revoke',
    revokeTitle: 'Revoke a voucher', revokeReason: 'Why it is revoked (required)', revoked: 'Revoked', audit: 'Audit', auditTitle: 'Audit history of voucher {id}',
    action: 'Action', fromTo: 'State change', amount: 'Amount', balanceAfter: 'Balance after', actor: 'By', lookup: 'Voucher number',
    usableAt: 'Where to use it', mine: 'My vouchers', spendable: 'Usable', notSpendable: 'Not usable', expiresIn: 'expires in {days} days',
    expiredOn: 'expired on {date}', program: 'Programme', share: 'covers {share}', redemptions: 'Redemptions',
  },
  vstates: { issued: 'Issued', partially_redeemed: 'Partly used', redeemed: 'Used', delivered: 'Delivered', settled: 'Settled', expired: 'Expired', revoked: 'Revoked' },
  rstates: { pending: 'Waiting', delivered: 'Delivered', settled: 'Settled', rejected: 'Rejected', cancelled: 'Cancelled' },
  actions: { issue: 'Issued', redeem: 'Redeemed', confirm: 'Delivery confirmed', settle: 'Settled', reject: 'Rejected', revoke: 'Revoked', expire: 'Expired' },
  redemption: {
    title: 'Redemptions', waiting: 'Redemptions waiting for confirmation', service: 'Service', price: 'Price', amount: 'Voucher pays', enterpriseShare: 'Enterprise pays',
    confirm: 'Confirm delivery', confirmTitle: 'Confirm the service was delivered', contractNo: 'Contract no.', invoiceNo: 'Invoice no.', paymentProof: "Proof of the enterprise's payment",
    deliverable: 'Deliverable (e.g. application number)', confirmed: 'Delivery confirmed', settle: 'Settle', settled: 'Decided', decision: 'Decision',
    approve: 'Approve and settle', reject: 'Reject', decisionReason: 'Reason for the decision', flagged: 'Flagged', noneWaiting: 'Nothing waits for confirmation',
    paymentProofHint: "required when the enterprise's share is not 0",
  },
  flags: {
    title: 'Abuse flags', kind: 'Kind', evidence: 'Evidence', status: 'Status', decide: 'Decide', open: 'Open', approved: 'Approved',
    rejected: 'Rejected', decisionTitle: 'Decide on a flagged redemption', decisionHint: 'A flagged redemption needs an explicit decision: approve and settle, or reject, with a reason.',
    redemption: 'Redemption', settleOk: 'Approved and settled', rejectOk: 'Rejected',
  },
  report: {
    title: 'Programme report', issued: 'Issued', redeemed: 'Redeemed', delivered: 'Delivered', settled: 'Settled', expired: 'Expired', revoked: 'Revoked (returned)',
    remaining: 'Remaining budget', budget: 'Budget', pending: 'Waiting', rejected: 'Rejected', outstanding: 'Unspent balance',
    overTime: 'Spent vs budget over time', byAgency: 'By agency', byService: 'By service', exportCsv: 'Export CSV', key: 'Code', name: 'Name',
    count: 'Count', spent: 'Spent so far', generatedAt: 'Generated', timelineNote: 'cumulative {bucket}, China time', bucket: { day: 'by day', week: 'by week', month: 'by month' },
  },
  profile: {
    title: 'Agency profile', editable: 'Editable details', servicesTitle: 'Services and prices', addService: 'Add a service', saved: 'Saved; search results are updated',
    readonly: 'Regulated details (read-only)', noAgency: 'This account is not linked to an agency',
  },
  m: {
    searchPlaceholder: 'Agency name or pinyin', filters: 'Filters', regionPlaceholder: 'Region (e.g. Hangzhou or 330100)', vouchersOnly: 'Accepts vouchers only',
    loadMore: 'Load more', nothingMore: 'No more', myVouchers: 'My vouchers', noVouchers: 'No vouchers yet', chat: 'Assistant',
    chatPlaceholder: 'Ask, e.g. What are the conditions for priority examination?', send: 'Send', chatHello: 'Hello! I answer IP policy questions, find agencies and look up your vouchers.',
    loginNeeded: 'Log in to follow agencies, see your vouchers and use the assistant', login: 'Log in', rating: 'Rating', history: 'Rating history',
    agencyPage: 'Agency', services: 'Services and prices', priceFrom: 'from {price}', balanceOf: '{balance} left of {face}', cardOpen: 'Open', followers: '{n} followers', typing: 'typing…',
  },
  services: {
    invention: 'Invention patent filing', utility_model: 'Utility model filing', design: 'Design patent filing', trademark_registration: 'Trademark registration',
    pct_foreign: 'PCT / foreign filing', priority_exam_assist: 'Priority examination assistance', reexamination_invalidation: 'Reexamination and invalidation',
    litigation_support: 'Litigation support', patent_navigation: 'Patent navigation', pledge_valuation: 'Pledge-financing valuation',
  },
  fields: {
    energy_environment: 'Energy saving & environment', next_gen_it: 'New-generation IT', biotech_medicine: 'Biotech & medicine', high_end_equipment: 'High-end equipment',
    new_energy: 'New energy', new_materials: 'New materials', new_energy_vehicles: 'New-energy vehicles', smart_manufacturing: 'Intelligent manufacturing',
    digital_economy: 'Internet, big data, cloud', chemicals: 'Chemistry', mechanical: 'Mechanical', electrical: 'Electrical', other: 'Other',
  },
  enterprise: {
    list: 'Enterprises', create: 'Register an enterprise', name: 'Name', q: 'Name / credit code', industry: 'Industry', legalRep: 'Legal representative',
    qualification: 'Qualification', certificate: 'Certificate no.', expiresOn: 'Valid until', verify: 'Verify', verifyTitle: "Verify an enterprise's qualification",
    created: 'Registered as enterprise {id}',
  },
  redeem: {
    use: 'Use this voucher', title: 'Use a voucher', agency: 'Agency', service: 'Service', price: 'Price (yuan)', submit: 'Use it',
    split: 'The voucher pays {voucher}; you pay {own}', done: 'Done: the voucher pays {amount}, you pay {own}. The agency confirms delivery next.',
  },
  assistant: {
    title: 'Assistant', unanswered: 'Questions it could not answer', tickets: 'Handoff tickets', question: 'Question', reason: 'Why', intent: 'Intent',
    confidence: 'Confidence', lang: 'Language', answer: 'Answer', work: 'Work on it',
    reasons: { out_of_scope: 'Out of scope', low_confidence: 'Low confidence', handoff: 'Asked for a person' },
    statuses: { open: 'Open', in_progress: 'In progress', answered: 'Answered', closed: 'Closed' },
  },
  flagKinds: { related_party: 'Enterprise and agency related', agency_concentration: 'One agency takes an unusual share', max_amount_repeated: 'Maximum amounts over and over', fast_confirmation: 'Delivery confirmed within minutes' },
  causes: { event: 'Credit event', reversal: 'Reversal', import: 'Official evaluation', initial: 'Registered' },
  categories: {
    abnormal_applications: 'Abnormal patent applications', suspension_order: 'Ordered to stop new business', licence_revoked: 'Licence revoked',
    criminal_conviction: 'Criminal conviction of management', excessive_volume: 'Abnormal filing volume', late_annual_report: 'Annual report not filed on time',
    late_annual_report_fixed: 'Annual report late, filed within a month', administrative_penalty: 'Administrative penalty', industry_discipline: 'Industry discipline',
    abnormal_business_status: 'Listed as abnormal business', honours: 'Honours', awards: 'Awards', social_contribution: 'Social contribution',
  },
}

export const LANG_KEY = 'ipa.lang'

export const i18n = createI18n({
  legacy: false,
  locale: localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh',
  fallbackLocale: 'zh',
  messages: { zh, en },
})

document.documentElement.lang = i18n.global.locale.value === 'en' ? 'en' : 'zh-CN'

export function setLanguage(lang) {
  i18n.global.locale.value = lang
  localStorage.setItem(LANG_KEY, lang)
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN'
}

// The fixed catalogues, as option lists for selects.
export const SERVICE_CODES = Object.keys(zh.services)
export const FIELD_CODES = Object.keys(zh.fields)
export const LEVELS = ['A_plus', 'A', 'B', 'C', 'D']
export const CATEGORY_CODES = Object.keys(zh.categories)
export const BONUS_CATEGORIES = ['honours', 'awards', 'social_contribution']
export const QUALIFICATIONS = Object.keys(zh.qualifications)
export const CYCLES = Object.keys(zh.cycles)

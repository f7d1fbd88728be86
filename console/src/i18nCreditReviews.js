// Words of the credit-objection and review screens, merged into the console's messages at start (main.js).
import { i18n } from './i18n'

export const messages = {
  zh: {
    nav: { objections: '信用异议' },
    objection: {
      underObjection: '异议处理中', object: '提出异议', title: '对信用事件提出异议', until: '可在 {date} 前提出异议（扣分记录后 {days} 天内）',
      reason: '异议理由', evidence: '证据材料（文件名称、编号、日期或链接）', submit: '提交异议', filed: '异议已提交，主管部门将在 5 个工作日内作出决定',
      list: '信用异议', queue: '待决定的信用异议', agency: '机构', event: '信用事件', filedAt: '提出时间', due: '应决定日期', decision: '决定',
      decide: '作出决定', decideTitle: '对异议作出决定', outcome: '决定', upheld: '维持扣分', reversed: '撤销扣分', decisionReason: '决定理由',
      decided: '已作出决定', decidedAt: '决定时间', overdue: '已逾期', none: '没有信用异议', showAll: '显示已决定的',
      states: { pending: '异议待决定', upheld: '异议未采纳', reversed: '异议成立' },
    },
    audit: {
      title: '操作记录', at: '时间', action: '操作', role: '操作方', note: '说明', subject: '对象',
      actions: {
        event_recorded: '记录信用事件', event_reversed: '撤销信用事件', objection_filed: '提出异议', objection_upheld: '异议未采纳（维持）',
        objection_reversed: '异议成立（撤销扣分）', review_written: '企业评价', review_replied: '机构回复评价', review_hidden: '隐藏评价',
      },
      subjects: { credit_event: '信用事件', objection: '异议', review: '评价' },
    },
    reviews: {
      title: '服务评价', average: '{avg} 分 · {n} 条评价', none: '暂无评价', write: '评价这家机构', rating: '评分', comment: '评价内容',
      redemption: '评价哪次服务', submit: '提交评价', written: '评价已发布', reply: '机构回复', replyAction: '回复', replyTitle: '回复评价',
      replied: '已回复', hide: '隐藏', hideTitle: '隐藏评价', hideReason: '隐藏原因', restore: '恢复显示', restoreTitle: '恢复显示评价', restoreReason: '恢复原因', hidden: '已被隐藏', hiddenBecause: '已被主管部门隐藏：{reason}',
      mine: '我的评价', noAverage: '暂无评分', service: '{service} · {date}', replyText: '回复内容',
    },
  },
  en: {
    nav: { objections: 'Credit objections' },
    objection: {
      underObjection: 'Under objection', object: 'Object', title: 'Object to a credit event', until: 'You may object until {date} ({days} days after the deduction was recorded)',
      reason: 'Why it is wrong', evidence: 'Evidence (documents, numbers, dates or links)', submit: 'Submit objection', filed: 'Objection filed; the office decides within 5 working days',
      list: 'Credit objections', queue: 'Objections awaiting a decision', agency: 'Agency', event: 'Credit event', filedAt: 'Filed', due: 'Decision due', decision: 'Decision',
      decide: 'Decide', decideTitle: 'Decide the objection', outcome: 'Decision', upheld: 'Uphold the deduction', reversed: 'Reverse the deduction', decisionReason: 'Reason for the decision',
      decided: 'Decided', decidedAt: 'Decided', overdue: 'Overdue', none: 'No credit objections', showAll: 'Show decided ones',
      states: { pending: 'Objection pending', upheld: 'Objection not accepted', reversed: 'Objection accepted' },
    },
    audit: {
      title: 'Audit', at: 'Time', action: 'Action', role: 'By', note: 'Note', subject: 'Subject',
      actions: {
        event_recorded: 'Credit event recorded', event_reversed: 'Credit event reversed', objection_filed: 'Objection filed', objection_upheld: 'Objection not accepted',
        objection_reversed: 'Objection accepted (deduction reversed)', review_written: 'Review written', review_replied: 'Agency replied', review_hidden: 'Review hidden',
      },
      subjects: { credit_event: 'Credit event', objection: 'Objection', review: 'Review' },
    },
    reviews: {
      title: 'Reviews', average: '{avg} · {n} reviews', none: 'No reviews yet', write: 'Review this agency', rating: 'Rating', comment: 'Your review',
      redemption: 'Which service', submit: 'Publish review', written: 'Review published', reply: 'Agency reply', replyAction: 'Reply', replyTitle: 'Reply to the review',
      replied: 'Replied', hide: 'Hide', hideTitle: 'Hide the review', hideReason: 'Why it is hidden', restore: 'Show again', restoreTitle: 'Show the review again', restoreReason: 'Why it is shown again', hidden: 'Hidden', hiddenBecause: 'Hidden by the office: {reason}',
      mine: 'My review', noAverage: 'Not rated yet', service: '{service} · {date}', replyText: 'Reply',
    },
  },
}

i18n.global.mergeLocaleMessage('zh', messages.zh)
i18n.global.mergeLocaleMessage('en', messages.en)

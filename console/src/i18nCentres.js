// Words of the protection-centres screen (fast-track planner), merged into the console's messages at start (main.js).
import { i18n } from './i18n'

export const messages = {
  zh: {
    nav: { centres: '保护中心' },
    centre: {
      list: '知识产权保护中心', create: '新增中心', edit: '编辑中心', name: '名称', nameEn: '英文名称', kind: '类型', seat: '所在地区（代码）',
      regions: '服务地区（代码，逗号分隔）', fields: '预审产业领域', ipc: 'IPC分类（逗号分隔）', words: '领域日常用语（顿号分隔）',
      types: '预审申请类型', contact: '联系方式', recordUrl: '备案链接', confirmed: '领域已核实', unconfirmed: '领域未核实', source: '来源',
      regionFilter: '服务某地区（代码）', remove: '删除', removeConfirm: '删除“{name}”？操作记录会保留。', removed: '已删除', created: '已新增中心 {id}',
      audit: '操作记录', auditTitle: '“{name}”的操作记录', actions: { created: '新增', updated: '修改', deleted: '删除' }, changes: '改动',
      kinds: { protection: '知识产权保护中心', fast_rights: '快速维权中心' },
      appTypes: { invention: '发明', utility_model: '实用新型', design: '外观设计' },
    },
  },
  en: {
    nav: { centres: 'Protection centres' },
    centre: {
      list: 'IP protection centres', create: 'Add a centre', edit: 'Edit the centre', name: 'Name', nameEn: 'English name', kind: 'Kind', seat: 'Seat (region code)',
      regions: 'Regions served (codes, comma-separated)', fields: 'Pre-examination fields', ipc: 'IPC classes (comma-separated)', words: 'Fields in everyday words',
      types: 'Application types', contact: 'Contact', recordUrl: 'Record-filing link', confirmed: 'Scope confirmed', unconfirmed: 'Scope unconfirmed', source: 'Source',
      regionFilter: 'Serving a region (code)', remove: 'Delete', removeConfirm: 'Delete "{name}"? Its audit stays.', removed: 'Deleted', created: 'Centre {id} added',
      audit: 'Audit', auditTitle: 'Audit of "{name}"', actions: { created: 'Added', updated: 'Changed', deleted: 'Deleted' }, changes: 'Changes',
      kinds: { protection: 'IP protection centre', fast_rights: 'Fast rights-protection centre' },
      appTypes: { invention: 'Invention', utility_model: 'Utility model', design: 'Design' },
    },
  },
}

i18n.global.mergeLocaleMessage('zh', messages.zh)
i18n.global.mergeLocaleMessage('en', messages.en)

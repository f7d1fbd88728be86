// Client-side paging and sorting for lists the API returns whole (a credit record, a report's lines).
import { computed, ref, watch } from 'vue'

export function useLocalTable(rows, { pageSize: size = 10 } = {}) {
  const page = ref(1)
  const pageSize = ref(size)
  const sort = ref({ prop: null, order: null })

  const sorted = computed(() => {
    const list = [...(rows.value || [])]
    const { prop, order } = sort.value
    if (!prop || !order) return list
    const sign = order === 'ascending' ? 1 : -1
    return list.sort((a, b) => {
      const x = a[prop]
      const y = b[prop]
      if (x === y) return 0
      if (x === null || x === undefined) return 1
      if (y === null || y === undefined) return -1
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sign
    })
  })
  const visible = computed(() => sorted.value.slice((page.value - 1) * pageSize.value, page.value * pageSize.value))
  const total = computed(() => (rows.value || []).length)
  watch(total, () => {
    const last = Math.max(1, Math.ceil(total.value / pageSize.value))
    if (page.value > last) page.value = last
  })

  function onSort({ prop, order }) {
    sort.value = { prop, order }
    page.value = 1
  }
  return { page, pageSize, visible, total, onSort }
}

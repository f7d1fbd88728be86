import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { i18n } from './i18n'
import './i18nCreditReviews'
import './i18nCentres'
import { router } from './router'
import './style.css'

createApp(App).use(i18n).use(router).use(ElementPlus).mount('#app')

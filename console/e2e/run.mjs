// `make console-e2e`: a real backend on a free port with a scratch SQLite database (migrated and seeded), the data
// the browser tests need arranged through the public API, then the browser tests (node:test + playwright-core driving
// Debian's Chromium), then the backend stopped. Exit code: the tests'.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { arrange } from './fixtures.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const python = path.resolve(root, process.env.PYTHON || '.venv/bin/python')
const scratch = mkdtempSync(path.join(os.tmpdir(), 'ipa-e2e-'))

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

const port = await freePort()
const standinPort = await freePort()
const env = {
  ...process.env,
  DATABASE_URL: `sqlite+aiosqlite:///${path.join(scratch, 'e2e.sqlite3')}`,
  REDIS_URL: '',
  PORT: String(port),
  HOST: '127.0.0.1',
  // No assistant here: the chat answers with its fallback menu. WeChat is the local stand-in (web authorization,
  // the chat's events, QR codes); pushes are not sent.
  RASA_URL: 'http://127.0.0.1:9',
  WECHAT_API_BASE: `http://127.0.0.1:${standinPort}`,
  PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  WECHAT_PUSH_WORKER: 'false',
  LOG_LEVEL: 'WARNING',
  // Throwaway secrets for this run: the backend has no defaults and refuses to start without them.
  BOT_METADATA_SECRET: randomBytes(32).toString('base64url'),
  BOT_ACTIONS_TOKEN: randomBytes(32).toString('base64url'),
  RASA_AUTH_TOKEN: randomBytes(32).toString('base64url'),
  WECHAT_TOKEN: randomBytes(16).toString('hex'),
  WECHAT_SECRET: randomBytes(16).toString('hex'),
}

function cli(...args) {
  const done = spawnSync(python, ['server.py', ...args], { cwd: root, env, encoding: 'utf8' })
  if (done.error) throw new Error(`cannot run ${python}: ${done.error.message}`)
  if (done.status !== 0) throw new Error(`server.py ${args.join(' ')} failed:\n${done.stdout}\n${done.stderr}`)
  return done.stdout
}

// A mini-program user as POST /api/v1/auth/wechat-login makes one (WeChat itself cannot be reached here): a new
// account of the enterprise role bound to nothing, and its bearer token, made by the accounts service.
const WECHAT_USER = `
import asyncio, json, sys
from accounts.service import find_or_create_wechat_user, issue_token, me_of
from app.schema import load_models
from core.db import Database
from core.settings import load_settings

async def main():
    load_models()
    settings = load_settings()
    db = Database(settings.database_url)
    async with db.transaction() as session:
        user, _ = await find_or_create_wechat_user(session, openid=sys.argv[1], unionid=None)
        issued = await issue_token(session, settings, user, client="wechat")
        out = {"token": issued.token, "expires_at": issued.expires_at.isoformat(), "user": me_of(user).model_dump()}
    await db.dispose()
    print(json.dumps(out))

asyncio.run(main())
`

function wechatUser(openid) {
  const done = spawnSync(python, ['-c', WECHAT_USER, openid], { cwd: root, env, encoding: 'utf8' })
  if (done.status !== 0) throw new Error(`making a WeChat user failed:\n${done.stdout}\n${done.stderr}`)
  return JSON.parse(done.stdout)
}

// Questions the assistant could not answer, queued as its fallback actions queue them (Rasa does not run here, so
// nothing else would): three alike ones about patent annual fees — one from e2e_enterprise's mini-program chat, two
// from official-account followers — and one about something else. The knowledge-loop walk answers the first group.
const QUEUE = `
import asyncio, json, sys
from sqlalchemy import select
from accounts.models import User
from app.schema import load_models
from bot.service import record_unanswered
from core.db import Database
from core.settings import load_settings

async def main():
    load_models()
    db = Database(load_settings().database_url)
    async with db.transaction() as session:
        user_id = await session.scalar(select(User.id).where(User.username == sys.argv[1]))
        asked = [(f"u:{user_id}", "专利年费可以减缴吗", "low_confidence"),
                 ("wx:o-e2e-fee-1", "小企业专利年费减免怎么申请", "out_of_scope"),
                 ("wx:o-e2e-fee-2", "专利年费太贵了有没有优惠", "low_confidence"),
                 ("wx:o-e2e-other", "软件著作权怎么登记", "out_of_scope")]
        for sender, text, reason in asked:
            row = await record_unanswered(session, sender_id=sender, principal=None, text=text, lang="zh", reason=reason)
            if sender.startswith("u:"):
                row.user_id = user_id
    await db.dispose()
    print(json.dumps({"questions": [t for _s, t, _r in asked[:3]], "askerUserId": user_id}))

asyncio.run(main())
`

function queueQuestions(username) {
  const done = spawnSync(python, ['-c', QUEUE, username], { cwd: root, env, encoding: 'utf8' })
  if (done.status !== 0) throw new Error(`queueing questions failed:\n${done.stdout}\n${done.stderr}`)
  return JSON.parse(done.stdout)
}

let backend = null
let standin = null
let code = 1

async function waitFor(url, what, child) {
  const deadline = Date.now() + 30000
  for (;;) {
    try {
      if ((await fetch(url)).ok) return
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`)
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within 30 s`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

try {
  standin = spawn(python, ['-m', 'wechat_standin', 'serve', '--webhook', `http://127.0.0.1:${port}/wechat`], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'], detached: true })
  await waitFor(`http://127.0.0.1:${standinPort}/_standin/stats`, 'the WeChat stand-in', standin)
  cli('migrate')
  if (process.env.E2E_SEED !== '0') cli('seed', '--agencies', '30')
  backend = spawn(python, ['server.py', 'run'], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true })
  const base = `http://127.0.0.1:${port}`
  await waitFor(`${base}/healthz`, 'the backend', backend)
  const fixtures = await arrange(base, cli, wechatUser)
  fixtures.knowledge = queueQuestions('e2e_enterprise')
  const demo = spawnSync(python, ['-c', 'from app.demo import DEMO_PASSWORD; print(DEMO_PASSWORD)'], { cwd: root, env, encoding: 'utf8' })
  fixtures.demoPassword = demo.status === 0 ? demo.stdout.trim() : null
  const fixtureFile = path.join(scratch, 'fixtures.json')
  writeFileSync(fixtureFile, JSON.stringify(fixtures, null, 2))
  if (process.env.E2E_KEEP) {
    // Debugging: leave the backend up with its data for a person (or a script) to look at; Ctrl-C ends it.
    console.log(`backend at ${base}, fixtures in ${fixtureFile}`)
    await new Promise((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve))
  }
  const tests = process.env.E2E_KEEP ? { status: 0 } : spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2).length ? process.argv.slice(2) : ['e2e/']], {
    cwd: path.resolve(here, '..'),
    env: { ...process.env, E2E_BASE: base, E2E_FIXTURES: fixtureFile, E2E_STANDIN: `http://127.0.0.1:${standinPort}` },
    stdio: 'inherit',
  })
  code = tests.status ?? 1
} catch (error) {
  console.error(`console-e2e: ${error.message}`)
  code = 1
} finally {
  for (const child of [backend, standin]) {
    if (child && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        /* already gone */
      }
    }
  }
  await new Promise((r) => setTimeout(r, 500))
  rmSync(scratch, { recursive: true, force: true })
}
process.exit(code)

"""The fast-track planner (issue 20): for one application, which route gets it examined soonest.

Entry points (keep their signatures; the chat flow calls them):

- `fast_track.service.plan_for(session, principal, request: PlanRequest) -> PlanAnswer` — async: fills the region
  and the verified qualification from a signed-in enterprise user's profile, loads the protection centres, plans.
- `fast_track.planner.plan(request, rules, centres, profile=None) -> PlanAnswer` — pure: no database; `rules` from
  `fast_track.rules.load_rules()`, `centres` a list of `fast_track.planner.Centre`, `profile` a
  `fast_track.planner.Profile` or None.
- `fast_track.schemas.PlanRequest` / `PlanAnswer` — the contract's field names (`kind`, `stage`, `technical_field`,
  `region`, …; `tracks`, `recommended`, `asked`). Each `TrackOut` of `priority_exam` / `pph` carries `draft_url`,
  the GET that downloads the drafted .docx for the same inputs.
- `fast_track.agencies.agencies_for_plan(...)` — the agencies that can carry out a route (§6).

Inside: `rules` (the routes as data, from `bot/facts/policy.yml`), `planner` (the verdicts), `centres`, `models`,
`seed` (the protection centres officials keep), `drafts` (python-docx), `routes`, `permissions`.
Not legal advice: the plan says what the published rules say; CNIPA, the centres and provincial offices decide.
"""

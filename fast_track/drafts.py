"""The drafted documents a plan offers, as .docx (python-docx): nothing is submitted anywhere.

- `priority_exam`: the request (专利优先审查请求书) with what is known filled in — applicant, application number,
  title, the ground chosen with its article of the measures, a reasons paragraph built from the answers — and the
  list of attachments (the search report, the evidence, the provincial recommendation where the ground needs one).
- `pph`: the checklist of the request and a claims-correspondence table to fill in.

Blanks the enterprise still has to fill are shown as "＿＿＿＿". The document ends with the source lines and a
note that it is a draft for the enterprise and its agency, not legal advice.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import docx
from docx.document import Document as DocxDocument
from docx.shared import Pt

from agencies.catalogue import FIELDS
from core.errors import Conflict
from fast_track.planner import Profile
from fast_track.rules import Kind, Rules, TrackName
from fast_track.schemas import DraftQuery, PlanAnswer

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BLANK = "＿＿＿＿"
CORRESPONDENCE_ROWS = 10
_KIND_ZH = {Kind.INVENTION: "发明", Kind.UTILITY_MODEL: "实用新型", Kind.DESIGN: "外观设计", Kind.TRADEMARK: "商标"}

# The grounds of Art. 3 of the 2017 measures, by number.
GROUNDS = {
    1: "涉及节能环保、新一代信息技术、生物、高端装备制造、新能源、新材料、新能源汽车、智能制造等国家重点发展产业",
    3: "涉及互联网、大数据、云计算等领域且技术或者产品更新速度快",
    4: "专利申请人或者复审请求人已经做好实施准备或者已经开始实施，或者有证据证明他人正在实施其发明创造",
    5: "就相同主题首次在中国提出专利申请又向其他国家或者地区提出申请的该中国首次申请",
}


class RouteNotOpen(Conflict):
    code = "route_not_open"


@dataclass(frozen=True, slots=True)
class Draft:
    filename: str
    content: bytes


def draft(query: DraftQuery, answer: PlanAnswer, rules: Rules, profile: Profile | None) -> Draft:
    """The .docx for `query.track`, from the plan `answer` of the same inputs; 409 when the plan rules it out."""
    name = TrackName(query.track)
    out = next(t for t in answer.tracks if t.track is name)
    if out.eligible == "no":
        raise RouteNotOpen(
            f"the plan rules out {name.value} for this application: {'; '.join(out.reasons)}",
            details={"track": name.value, "reasons": out.reasons},
        )
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.size = Pt(11)
    applicant = query.applicant or (profile.name if profile is not None and profile.name else None)
    if name is TrackName.PRIORITY_EXAM:
        _priority_exam(document, query, answer, applicant, rules)
        filename = "priority-exam-request.docx"
    else:
        _pph(document, query, answer, applicant)
        filename = "pph-checklist.docx"
    document.add_heading("依据与说明", level=2)
    for figure in out.checks:
        document.add_paragraph(f"{figure.text}（{figure.source}）", style="List Bullet")
    document.add_paragraph(
        "本文件为草稿，由知识产权服务助手根据您的回答生成，未向任何机关提交；请与代理机构核对后使用。不构成法律意见。"
    )
    buffer = io.BytesIO()
    document.save(buffer)
    return Draft(filename, buffer.getvalue())


def chosen_grounds(query: DraftQuery, answer: PlanAnswer, rules: Rules) -> list[int]:
    """The grounds of Art. 3 the answers meet, in the measures' order."""
    grounds: list[int] = []
    track = rules[TrackName.PRIORITY_EXAM]
    field = answer.field_match.field if answer.field_match else None
    if field is not None and field in track.key_industry_fields:
        grounds.append(1)
    elif field is not None and field in track.fast_moving_fields:
        grounds.append(3)
    if query.exploiting:
        grounds.append(4)
    if query.filed_abroad_after_china:
        grounds.append(5)
    return grounds


def _priority_exam(
    document: DocxDocument, query: DraftQuery, answer: PlanAnswer, applicant: str | None, rules: Rules
) -> None:
    document.add_heading("专利优先审查请求书（草稿）", level=1)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    rows = [
        ("申请人", applicant or BLANK),
        ("申请号", query.application_number or BLANK),
        ("发明创造名称", query.title or BLANK),
        ("专利类型", _KIND_ZH[query.kind] if query.kind else BLANK),
        ("技术领域", query.technical_field or BLANK),
    ]
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = value
    grounds = chosen_grounds(query, answer, rules)
    document.add_heading("请求优先审查的理由（《专利优先审查管理办法》第三条）", level=2)
    if grounds:
        for ground in grounds:
            document.add_paragraph(f"☑ 第三条第（{_CN[ground]}）项：{GROUNDS[ground]}")
    else:
        document.add_paragraph(f"☐ 第三条第（{BLANK}）项：{BLANK}（请与代理机构确定适用的情形）")
    document.add_heading("理由说明", level=2)
    document.add_paragraph(_reasons_paragraph(query, answer, grounds))
    document.add_heading("附件清单", level=2)
    attachments = ["现有技术或者现有设计信息材料（检索报告）", "相关证明文件"]
    if 4 in grounds:
        attachments.append("实施或者准备实施的证明（如产品、合同、销售凭证）")
    if 5 in grounds:
        attachments.append("向其他国家或地区提出申请的受理通知书副本")
    if grounds != [5]:
        attachments.append("省级知识产权局或国务院有关部门的推荐意见（盖章）")
    for number, item in enumerate(attachments, 1):
        document.add_paragraph(f"{number}. {item}")
    document.add_paragraph("全体申请人签字或者盖章：" + BLANK + "　　日期：" + BLANK)


_CN = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六"}


def _reasons_paragraph(query: DraftQuery, answer: PlanAnswer, grounds: list[int]) -> str:
    parts: list[str] = []
    subject = f"本申请（{query.title}）" if query.title else "本申请"
    match = answer.field_match
    if match is not None and match.field is not None:
        parts.append(f"{subject}涉及{query.technical_field}，属于{FIELDS[match.field].zh}领域")
        if 1 in grounds:
            parts.append("为《专利优先审查管理办法》第三条第（一）项所列国家重点发展产业")
        elif 3 in grounds:
            parts.append("属于第三条第（三）项所列更新速度快的领域")
    elif query.technical_field:
        parts.append(f"{subject}涉及{query.technical_field}")
    else:
        parts.append(f"{subject}涉及{BLANK}领域")
    if 4 in grounds:
        parts.append("申请人已开始实施或已做好实施准备，尽快获得授权有利于保护相关产品")
    if 5 in grounds:
        parts.append("本申请为就相同主题首次在中国提出、又向其他国家或地区提出申请的中国首次申请")
    if answer.profile is not None and answer.profile.qualification == "national_little_giant":
        parts.append("申请人为国家级专精特新“小巨人”企业")
    parts.append("特请求予以优先审查")
    return "，".join(parts) + "。"


def _pph(document: DocxDocument, query: DraftQuery, answer: PlanAnswer, applicant: str | None) -> None:
    del answer
    office = query.foreign_allowed_office or BLANK
    document.add_heading("PPH（专利审查高速路）请求清单（草稿）", level=1)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in (
        ("申请人", applicant or BLANK),
        ("中国申请号", query.application_number or BLANK),
        ("发明名称", query.title or BLANK),
        ("在先审查局（合作局）", office),
        ("合作局申请号", BLANK),
    ):
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = value
    document.add_heading("核对清单", level=2)
    for item in (
        "中国申请与合作局申请有相同的最早日（优先权或PCT）",
        f"合作局（{office}）已认定至少一项权利要求可授权",
        "中国申请的全部权利要求与可授权的权利要求充分对应",
        "申请已公开，且尚未收到实质审查的审查意见通知书",
        "《参与局间加快审查合作项目请求表》",
        "合作局可授权权利要求副本及中文译文",
        "合作局全部审查意见通知书副本及中文译文",
        "审查意见引用的非专利文献",
        "以电子方式提交；每件申请最多请求两次",
    ):
        document.add_paragraph(f"☐ {item}")
    document.add_heading("权利要求对应表", level=2)
    corr = document.add_table(rows=1, cols=3)
    corr.style = "Table Grid"
    header = corr.rows[0].cells
    header[0].text = "中国申请权利要求"
    header[1].text = f"{office}可授权权利要求"
    header[2].text = "对应性说明（相同／范围更小及理由）"
    for number in range(1, CORRESPONDENCE_ROWS + 1):
        cells = corr.add_row().cells
        cells[0].text = str(number)


def read_back(content: bytes) -> str:
    """The text of a drafted .docx (paragraphs and table cells), as python-docx reads it: for tests and checks."""
    document = docx.Document(io.BytesIO(content))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.extend(cell.text for cell in row.cells)
    return "\n".join(t for t in texts if t)

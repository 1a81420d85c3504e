"""Texts of /rank: the units compared on results and diligence."""

from __future__ import annotations

ZH: dict[str, str] = {
    "cmd.rank": "单位排名",
    "help.rank": "/rank [月|季度|年] — 各单位比成果、比作风，如 <code>/rank 季度</code>",
    "rank.period.month": "本月",
    "rank.period.quarter": "本季度",
    "rank.period.year": "本年度",
    "rank.prev.month": "上月",
    "rank.prev.quarter": "上季度",
    "rank.prev.year": "上年度",
    "rank.title": "🏆 <b>{period}单位排名</b>（{start} 至 {end}）",
    "rank.chart": "{period}单位排名 · {group} {start} 至 {end}",
    "rank.caption": "{period}单位排名 · {group}（{start} 至 {end}），共 {n} 个单位；名次变化与{prev}比较",
    "rank.group.towns": "🏘 <b>乡镇、街道</b>（比成果、比作风）",
    "rank.group.departments": "🏛 <b>市直部门</b>（比作风：部门不负责项目，不比成果）",
    "rank.group_name.towns": "乡镇街道",
    "rank.group_name.departments": "市直部门",
    "rank.vs": "名次变化与{prev}（{start} 至 {end}）比较；— 为上期未上榜。",
    "rank.row": "{mark}{rank}. <b>{unit}</b> {change}  <b>{score}</b> 分",
    "rank.own": "👉 ",
    "rank.up": "▲{n}",
    "rank.down": "▼{n}",
    "rank.same": "＝",
    "rank.new": "—",
    "rank.results": "  成果：{figures}",
    "rank.diligence": "  作风：{figures}",
    "rank.sep": " · ",
    "rank.fig.signed": "签约",
    "rank.fig.started": "开工",
    "rank.fig.operating": "投产",
    "rank.fig.investment": "投资",
    "rank.fig.milestones": "节点按期",
    "rank.fig.problems": "问题按期答复",
    "rank.fig.instructions": "批示按期办结",
    "rank.fig.reports": "周报按时",
    "rank.count": "{label} {count}/{of}（{pct}%）",
    "rank.none": "{label} —",
    "rank.investment": "{label} {amount} 万元/{n} 个在推项目",
    "rank.idle": "本期没有可评事项：{units}",
    "rank.left_out": "{label} —（{why}，不计分）",
    "rank.why.weight": "权重为 0",
    "rank.why.city.signed": "本期全市无签约",
    "rank.why.city.started": "本期全市无开工",
    "rank.why.city.operating": "本期全市无投产",
    "rank.why.city.investment": "本期全市无项目推进",
    "rank.why.city.milestones": "本期全市无到期节点",
    "rank.why.city.problems": "本期全市无到期问题",
    "rank.why.city.instructions": "本期全市无到期批示",
    "rank.why.city.reports": "本期全市无应报周报",
    "rank.why.dept.milestones": "本期各部门无到期节点",
    "rank.why.dept.problems": "本期各部门无到期问题",
    "rank.why.dept.instructions": "本期各部门无到期批示",
    "rank.why.dept.reports": "本期各部门无应报周报",
    "rank.method": (
        "<i>说明：签约 2/5 即 5 个可签约（洽谈中）项目中签约 2 个，开工、投产同理。"
        "乡镇街道与市直部门分组排名，部门不负责项目，只比作风。"
        "各项比率按经验贝叶斯向本组本期比率收缩（先验相当于 5 个事项）：事项少的单位靠近全市水平，"
        "事项多的按自己的记录；一件事项说明不了多少，1/1 不会压过 29/30，0/30 低于 0/1；"
        "成果按在推项目数折算，与全市进度相当计 50 分、两倍及以上计满分，小单位不吃亏；"
        "没有到期事项的指标不计分，其权重分给其他指标；得分相同名次并列。</i>"
    ),
    "rank.no_units": "还没有乡镇、街道或部门负责项目或事项，暂无排名。",
    "rank.nothing": (
        "{period}（{start} 至 {end}）各单位都没有可评的事项：没有项目签约、开工或投产，"
        "也没有到期的节点、问题、批示或应报的周报，暂无排名。"
    ),
    "err.rank_period": "不认识的期间“{word}”。请用：{words}，如 <code>/rank 季度</code>。",
}

EN: dict[str, str] = {
    "cmd.rank": "Units ranked",
    "help.rank": "/rank [month|quarter|year] — units compared on results and diligence, e.g. <code>/rank quarter</code>",
    "rank.period.month": "This month",
    "rank.period.quarter": "This quarter",
    "rank.period.year": "This year",
    "rank.prev.month": "last month",
    "rank.prev.quarter": "last quarter",
    "rank.prev.year": "last year",
    "rank.title": "🏆 <b>{period}: units ranked</b> ({start} to {end})",
    "rank.chart": "{period}: units ranked, {group}, {start} to {end}",
    "rank.caption": "{period}: units ranked, {group} ({start} to {end}), {n} {n:s/unit/units}; changes against {prev}",
    "rank.group.towns": "🏘 <b>Townships and sub-districts</b> (results and diligence)",
    "rank.group.departments": "🏛 <b>Departments</b> (diligence: they own no projects, so no results)",
    "rank.group_name.towns": "townships and sub-districts",
    "rank.group_name.departments": "departments",
    "rank.vs": "Changes against {prev} ({start} to {end}); — not ranked then.",
    "rank.row": "{mark}{rank}. <b>{unit}</b> {change}  <b>{score}</b> points",
    "rank.own": "👉 ",
    "rank.up": "▲{n}",
    "rank.down": "▼{n}",
    "rank.same": "＝",
    "rank.new": "—",
    "rank.results": "  Results: {figures}",
    "rank.diligence": "  Diligence: {figures}",
    "rank.sep": " · ",
    "rank.fig.signed": "signed",
    "rank.fig.started": "started",
    "rank.fig.operating": "operating",
    "rank.fig.investment": "investment",
    "rank.fig.milestones": "milestones on time",
    "rank.fig.problems": "problems answered on time",
    "rank.fig.instructions": "instructions done on time",
    "rank.fig.reports": "weekly reports",
    "rank.count": "{label} {count}/{of} ({pct}%)",
    "rank.none": "{label} —",
    "rank.investment": "{label} {amount} (10k CNY) / {n} {n:s/project/projects} in play",
    "rank.idle": "Nothing to judge this period: {units}",
    "rank.left_out": "{label} — ({why}; not scored)",
    "rank.why.weight": "its weight is 0",
    "rank.why.city.signed": "no signing in the city this period",
    "rank.why.city.started": "no start in the city this period",
    "rank.why.city.operating": "nothing put into operation in the city this period",
    "rank.why.city.investment": "no project advanced in the city this period",
    "rank.why.city.milestones": "no milestone due in the city this period",
    "rank.why.city.problems": "no problem due in the city this period",
    "rank.why.city.instructions": "no instruction due in the city this period",
    "rank.why.city.reports": "no weekly report due in the city this period",
    "rank.why.dept.milestones": "no milestone due for any department this period",
    "rank.why.dept.problems": "no problem due for any department this period",
    "rank.why.dept.instructions": "no instruction due for any department this period",
    "rank.why.dept.reports": "no weekly report due for any department this period",
    "rank.method": (
        "<i>How to read it: signed 2/5 means 2 of the 5 projects that could sign (negotiating) "
        "signed, and so on for started and operating. Townships and sub-districts are "
        "ranked apart from departments, which own no projects and are judged on diligence "
        "alone. Every share is shrunk toward its group's share this period (empirical Bayes, a prior worth 5 items): a unit with few "
        "items sits near the city, one with many is judged on its own record: one item says "
        "little, so 1 of 1 never beats 29 of 30, and 0 of 30 is below 0 of 1. Results "
        "are counted per project in play, the city's pace scoring 50 and twice it or more "
        "100, so a small unit is not crushed; a figure with nothing due scores nothing and "
        "its weight goes to the others; equal scores share a rank.</i>"
    ),
    "rank.no_units": "No township, sub-district or department has projects or items yet: there is nothing to rank.",
    "rank.nothing": (
        "{period} ({start} to {end}): no unit has anything to judge: no project signed, "
        "started or put into operation, and no milestone, problem, instruction or weekly "
        "report due. There is no ranking yet."
    ),
    "err.rank_period": "Unknown period “{word}”. Use {words}, e.g. <code>/rank quarter</code>.",
}

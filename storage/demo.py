"""A sample city to try Wallchart on: units, members, projects, milestones, problems.

Everything is placed relative to `today` and drawn from a seeded generator, so the demo
always shows something overdue, something due this week and problems at every step, and
tests can count on what it builds. The city has a past, so that the funnel, the ranking
and the briefing have something to show: its projects entered the store months ago and
moved stage on the days their time lists imply (stage_moves), a signing, a start and an
operation inside the current month whatever day it is; they were reported week by week;
and every ranked unit answered problems and carried out the leader's instructions up to
this month, on time as often as that unit keeps its promises (_HABITS), as it did its
milestones. The people and companies are made up. The city comes in Chinese or in
English: the same units, people, projects and dates, named and written in that language.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import Refused
from storage.escalation import InstructionClock, Thresholds, instruction_target
from storage.models import (
    Instruction,
    Member,
    Milestone,
    Problem,
    ProblemCategory,
    ProblemReply,
    ProblemStatus,
    ProgressReport,
    Project,
    ProjectLead,
    Role,
    Stage,
    StageMove,
    Unit,
    UnitKind,
)
from storage.projects import NO_CHANGE, REPORT
from storage.rules import Light, milestone_light
from storage.workdays import WorkCalendar

DEFAULT_INDUSTRIES: Final = ("新能源", "新材料", "生物医药", "高端装备制造", "现代服务业")
# The same key industries, as the English demo city names them.
DEFAULT_INDUSTRIES_EN: Final = (
    "New energy",
    "New materials",
    "Biomedicine",
    "High-end equipment",
    "Modern services",
)
# Service firms often move into existing buildings and need no land of their own.
_SERVICES: Final = frozenset({"现代服务业", "Modern services"})
LANGS: Final = ("zh", "en")
DEFAULT_SEED: Final = 2026
FIRST_TG_ID: Final = 900_000_001
PROJECT_COUNT: Final = 30

# The demo city keeps Beijing time; timestamps are stored in UTC like every other.
_CITY_TZ: Final = timezone(timedelta(hours=8))

# Units are named here by their Chinese names; the English city shows _UNIT_EN instead.
LEADERSHIP = "市领导"
CENTER = "招商服务中心"
LAND_BUREAU = "自然资源局"
APPROVAL_BUREAU = "行政审批局"
HOUSING_BUREAU = "住建局"
ECOLOGY_BUREAU = "生态环境局"
FINANCE_BUREAU = "财政局"

# (name, kind, parent): the parent chain is the escalation chain.
_UNITS: Final = (
    (LEADERSHIP, UnitKind.LEADERSHIP, None),
    (CENTER, UnitKind.CENTER, LEADERSHIP),
    ("青山镇", UnitKind.TOWNSHIP, CENTER),
    ("白沙镇", UnitKind.TOWNSHIP, CENTER),
    ("柳林镇", UnitKind.TOWNSHIP, CENTER),
    ("东城街道", UnitKind.SUBDISTRICT, CENTER),
    ("南湖街道", UnitKind.SUBDISTRICT, CENTER),
    (LAND_BUREAU, UnitKind.DEPARTMENT, CENTER),
    (APPROVAL_BUREAU, UnitKind.DEPARTMENT, CENTER),
    (HOUSING_BUREAU, UnitKind.DEPARTMENT, CENTER),
    (ECOLOGY_BUREAU, UnitKind.DEPARTMENT, CENTER),
    (FINANCE_BUREAU, UnitKind.DEPARTMENT, CENTER),
)
_UNIT_EN: Final = {
    LEADERSHIP: "City Leadership",
    CENTER: "Investment Service Center",
    "青山镇": "Qingshan Town",
    "白沙镇": "Baisha Town",
    "柳林镇": "Liulin Town",
    "东城街道": "Dongcheng Subdistrict",
    "南湖街道": "Nanhu Subdistrict",
    LAND_BUREAU: "Natural Resources Bureau",
    APPROVAL_BUREAU: "Administrative Approval Bureau",
    HOUSING_BUREAU: "Housing and Construction Bureau",
    ECOLOGY_BUREAU: "Ecology and Environment Bureau",
    FINANCE_BUREAU: "Finance Bureau",
}

# Which unit answers each category of problem, as the default [routing] of the config.
ROUTING: Final = {
    "land": LAND_BUREAU,
    "permits": APPROVAL_BUREAU,
    "utilities": HOUSING_BUREAU,
    "finance": FINANCE_BUREAU,
    "other": CENTER,
}

# Where the projects of each stage sit: the nth project of a stage goes to the nth unit
# listed. Every township has projects negotiating, signed and started, so that the ranking
# has signings, starts and operation to count for each; the totals (8, 6, 4, 7, 5) keep
# the wall chart uneven. The first signed project (the officer's, its permit overdue) and
# the last (its site selection overdue, on the officer's /today) are Qingshan's.
_DEAL: Final[dict[Stage, tuple[str, ...]]] = {
    Stage.NEGOTIATING: ("青山镇", "东城街道", "白沙镇", "柳林镇", "南湖街道", "青山镇", "东城街道"),
    Stage.SIGNED: ("青山镇", "白沙镇", "东城街道", "柳林镇", "南湖街道", "白沙镇", "青山镇"),
    Stage.STARTED: (
        "东城街道", "青山镇", "南湖街道", "白沙镇", "柳林镇", "青山镇", "东城街道", "南湖街道",
        "白沙镇",
    ),
    Stage.OPERATING: ("柳林镇", "青山镇", "东城街道", "南湖街道"),
    Stage.PAUSED: ("青山镇", "东城街道"),
    Stage.DROPPED: ("白沙镇",),
}  # fmt: skip


@dataclass(frozen=True)
class _Habit:
    """How a unit has kept its promises in the demo's past."""

    on_time: float  # share of its milestones and answers done by the deadline
    reporting: float  # share of the weeks each of its projects was reported on


# Liulin, the smallest township, is the most diligent; Nanhu is the lax one.
_HABITS: Final = {
    CENTER: _Habit(0.9, 0.9),
    "青山镇": _Habit(0.85, 0.92),
    "白沙镇": _Habit(0.75, 0.85),
    "柳林镇": _Habit(0.95, 0.97),
    "东城街道": _Habit(0.8, 0.9),
    "南湖街道": _Habit(0.6, 0.5),
    LAND_BUREAU: _Habit(0.65, 0.0),
    APPROVAL_BUREAU: _Habit(0.8, 0.0),
    HOUSING_BUREAU: _Habit(0.7, 0.0),
    ECOLOGY_BUREAU: _Habit(0.9, 0.0),
    FINANCE_BUREAU: _Habit(0.85, 0.0),
}

# (unit, Chinese name, English name, role, reads the other language): a couple read the
# city's other language, so that both languages get seen.
_MEMBERS: Final = (
    (LEADERSHIP, "王建国", "Wang Jianguo", Role.LEADER, False),
    (CENTER, "李敏", "Li Min", Role.COORDINATOR, False),
    (CENTER, "张伟", "Zhang Wei", Role.COORDINATOR, True),
    (CENTER, "陈晓东", "Chen Xiaodong", Role.ADMIN, False),
    ("青山镇", "刘志强", "Liu Zhiqiang", Role.HEAD, False),
    ("青山镇", "赵丽", "Zhao Li", Role.OFFICER, False),
    ("青山镇", "孙浩", "Sun Hao", Role.OFFICER, False),
    ("白沙镇", "周海涛", "Zhou Haitao", Role.HEAD, False),
    ("白沙镇", "吴静", "Wu Jing", Role.OFFICER, False),
    ("白沙镇", "郑磊", "Zheng Lei", Role.OFFICER, False),
    ("柳林镇", "黄永明", "Huang Yongming", Role.HEAD, False),
    ("柳林镇", "何婷", "He Ting", Role.OFFICER, False),
    ("柳林镇", "林峰", "Lin Feng", Role.OFFICER, True),
    ("东城街道", "马建华", "Ma Jianhua", Role.HEAD, False),
    ("东城街道", "朱琳", "Zhu Lin", Role.OFFICER, False),
    ("东城街道", "胡斌", "Hu Bin", Role.OFFICER, False),
    ("南湖街道", "郭宏伟", "Guo Hongwei", Role.HEAD, False),
    ("南湖街道", "高雪", "Gao Xue", Role.OFFICER, False),
    ("南湖街道", "罗军", "Luo Jun", Role.OFFICER, False),
    (LAND_BUREAU, "梁文博", "Liang Wenbo", Role.HEAD, False),
    (LAND_BUREAU, "宋佳", "Song Jia", Role.OFFICER, False),
    (APPROVAL_BUREAU, "谢国庆", "Xie Guoqing", Role.HEAD, False),
    (APPROVAL_BUREAU, "韩冰", "Han Bing", Role.OFFICER, False),
    (HOUSING_BUREAU, "唐志刚", "Tang Zhigang", Role.HEAD, False),
    (HOUSING_BUREAU, "冯悦", "Feng Yue", Role.OFFICER, False),
    (ECOLOGY_BUREAU, "许明", "Xu Ming", Role.HEAD, False),
    (ECOLOGY_BUREAU, "邓琪", "Deng Qi", Role.OFFICER, False),
    (FINANCE_BUREAU, "曹正", "Cao Zheng", Role.HEAD, False),
    (FINANCE_BUREAU, "彭晓", "Peng Xiao", Role.OFFICER, False),
)

# Project names per key industry, each with the tail of its company's name: Chinese, then
# English. The English city finds them by the English name of the industry.
_PROJECT_NAMES: Final[dict[str, tuple[tuple[str, str, str, str], ...]]] = {
    "新能源": (
        ("年产10GWh储能电池项目", "新能源科技有限公司",
         "10 GWh a year energy-storage battery plant", "New Energy Technology Co., Ltd."),
        ("分布式光伏组件生产基地", "光能科技有限公司",
         "Distributed PV module production base", "Solar Technology Co., Ltd."),
        ("氢能装备产业园", "氢能科技有限公司",
         "Hydrogen equipment industrial park", "Hydrogen Technology Co., Ltd."),
        ("风电叶片制造项目", "风电装备有限公司",
         "Wind turbine blade factory", "Wind Power Equipment Co., Ltd."),
        ("锂电池正极材料项目", "锂能科技有限公司",
         "Lithium battery cathode materials project", "Lithium Energy Technology Co., Ltd."),
        ("新能源汽车充换电设施项目", "能源服务有限公司",
         "EV charging and battery-swap network", "Energy Services Co., Ltd."),
    ),
    "新材料": (
        ("高性能碳纤维复合材料项目", "新材料股份有限公司",
         "High-performance carbon-fibre composites project", "New Materials Co., Ltd."),
        ("电子级多晶硅项目", "半导体材料有限公司",
         "Electronic-grade polysilicon project", "Semiconductor Materials Co., Ltd."),
        ("特种合金新材料项目", "合金材料有限公司",
         "Special alloy materials project", "Alloy Materials Co., Ltd."),
        ("高端膜材料生产线", "膜科技有限公司",
         "High-end membrane production line", "Membrane Technology Co., Ltd."),
        ("石墨烯导热材料项目", "碳材料科技有限公司",
         "Graphene thermal materials project", "Carbon Materials Technology Co., Ltd."),
        ("可降解塑料制品项目", "生物材料有限公司",
         "Biodegradable plastics project", "Biomaterials Co., Ltd."),
    ),
    "生物医药": (
        ("创新药原料药生产基地", "生物医药有限公司",
         "Innovative drug API production base", "Biopharma Co., Ltd."),
        ("医疗器械产业园", "医疗科技有限公司",
         "Medical device industrial park", "Medical Technology Co., Ltd."),
        ("生物疫苗研发生产项目", "生物制品有限公司",
         "Vaccine R&D and production project", "Biologics Co., Ltd."),
        ("中药配方颗粒生产线", "中药股份有限公司",
         "Herbal medicine granules production line", "Traditional Medicine Co., Ltd."),
        ("体外诊断试剂项目", "诊断科技有限公司",
         "In-vitro diagnostic reagents project", "Diagnostics Technology Co., Ltd."),
        ("医用敷料生产项目", "医用材料有限公司",
         "Medical dressings project", "Medical Materials Co., Ltd."),
    ),
    "高端装备制造": (
        ("智能数控机床项目", "智能装备有限公司",
         "Smart CNC machine tools project", "Intelligent Equipment Co., Ltd."),
        ("工业机器人生产基地", "机器人科技有限公司",
         "Industrial robot production base", "Robotics Technology Co., Ltd."),
        ("新能源汽车零部件项目", "汽车部件有限公司",
         "EV components project", "Auto Parts Co., Ltd."),
        ("精密轴承制造项目", "精密机械有限公司",
         "Precision bearings factory", "Precision Machinery Co., Ltd."),
        ("航空零部件加工项目", "航空科技有限公司",
         "Aircraft parts machining project", "Aviation Technology Co., Ltd."),
        ("智能农机装备项目", "农业装备有限公司",
         "Smart farm machinery project", "Agricultural Equipment Co., Ltd."),
    ),
    "现代服务业": (
        ("冷链物流园", "供应链管理有限公司",
         "Cold-chain logistics park", "Supply Chain Management Co., Ltd."),
        ("数字经济产业园", "数字科技有限公司",
         "Digital economy park", "Digital Technology Co., Ltd."),
        ("总部经济大楼", "实业集团有限公司",
         "Corporate headquarters tower", "Industrial Group Co., Ltd."),
        ("文旅综合体项目", "文旅发展有限公司",
         "Culture and tourism complex", "Culture and Tourism Development Co., Ltd."),
        ("跨境电商产业园", "跨境贸易有限公司",
         "Cross-border e-commerce park", "Cross-border Trade Co., Ltd."),
        ("区域会展中心项目", "会展服务有限公司",
         "Regional convention center", "Exhibition Services Co., Ltd."),
    ),
}  # fmt: skip
_PROJECT_NAMES_BY_EN: Final = {
    en: _PROJECT_NAMES[zh] for zh, en in zip(DEFAULT_INDUSTRIES, DEFAULT_INDUSTRIES_EN, strict=True)
}
# For an industry the demo has no names for: the project's name after its industry.
_GENERIC_NAMES: Final = (
    ("{industry}产业园项目", "{industry} industrial park"),
    ("{industry}研发生产基地", "{industry} R&D and production base"),
    ("{industry}总部项目", "{industry} headquarters project"),
    ("{industry}技改扩能项目", "{industry} upgrade and expansion project"),
    ("{industry}配套项目", "{industry} supply-chain project"),
    ("{industry}示范项目", "{industry} pilot project"),
)
_GENERIC_COMPANY: Final = ("科技有限公司", "Technology Co., Ltd.")

# The first words of the companies' names, in Chinese and in pinyin.
_COMPANY_WORDS: Final = (
    ("澜岳", "Lanyue"), ("启衡", "Qiheng"), ("晟禾", "Shenghe"), ("远帆", "Yuanfan"),
    ("卓岭", "Zhuoling"), ("青岚", "Qinglan"), ("鸿拓", "Hongtuo"), ("博越", "Boyue"),
    ("凯泓", "Kaihong"), ("沐川", "Muchuan"), ("嘉屹", "Jiayi"), ("瑞澄", "Ruicheng"),
    ("拓川", "Tuochuan"), ("恒屿", "Hengyu"), ("泓锦", "Hongjin"), ("睿峰", "Ruifeng"),
    ("朗泽", "Langze"), ("景弘", "Jinghong"), ("中岳", "Zhongyue"), ("汇澄", "Huicheng"),
    ("衡远", "Hengyuan"), ("聚澜", "Julan"), ("东驰", "Dongchi"), ("宏岸", "Hong'an"),
    ("正屹", "Zhengyi"), ("华漾", "Huayang"), ("锦峦", "Jinluan"), ("明湃", "Mingpai"),
    ("越川", "Yuechuan"), ("丰瀚", "Fenghan"),
)  # fmt: skip

# The standard time list, days before the start target, and who owns each step.
_STEPS: Final = (
    ("site", "选址", 150, None),
    ("land", "土地摘牌", 110, LAND_BUREAU),
    ("eia", "环评批复", 80, ECOLOGY_BUREAU),
    ("permits", "施工许可", 40, APPROVAL_BUREAU),
    ("utilities", "水电气接入", 20, HOUSING_BUREAU),
    ("groundbreaking", "开工建设", 0, None),
)
# The steps' titles in the English city (the bot's own English names of the kinds).
_STEP_EN: Final = {
    "site": "Site selection",
    "land": "Land acquired",
    "eia": "EIA approved",
    "permits": "Construction permit",
    "utilities": "Utilities connected",
    "groundbreaking": "Groundbreaking",
}
# Days from today to the start target of signed projects, chosen so that steps fall due in
# the coming week whatever `today` is (3 days or more ahead, so that moving a weekend date
# back to the Friday keeps it ahead). The first signed project is behind on its permit
# (24 days out, the permit was due 16 days ago): the open problem and instruction are on it.
# The last has no step done yet (its site selection is late), so it signed this month.
_SIGNED_START_IN: Final = (24, 43, 84, 5, 113, 61, 137)

# Progress reports by stage: (Chinese, English).
_REPORTS: Final[dict[Stage, tuple[tuple[str, str], ...]]] = {
    Stage.NEGOTIATING: (
        ("与企业进行第二轮洽谈，双方就投资强度和供地方式基本达成一致。",
         "Second round of talks with the company: agreement in principle on investment "
         "intensity and how the land is supplied."),
        ("企业考察团来访，实地踏勘了两个备选地块。",
         "The company's delegation visited and inspected the two candidate plots."),
        ("企业正在编制项目可行性研究报告，专班每周跟进。",
         "The company is writing the feasibility study; the task team follows up weekly."),
        ("合同文本已提交司法局审核，争取月内签约。",
         "The contract is with the justice bureau for review; signing is aimed for this month."),
    ),
    Stage.SIGNED: (
        ("项目已签约，正在办理土地摘牌前期手续。",
         "Contract signed; the paperwork for the land auction is under way."),
        ("环评报告已报送生态环境局，等待专家评审。",
         "EIA report sent to the ecology bureau, waiting for the expert review."),
        ("施工总承包招标已发布，预计下月定标。",
         "The main construction tender is out; the contractor is chosen next month."),
        ("施工图设计已完成八成，同步准备施工许可申报材料。",
         "Construction drawings 80% done; the permit application is being prepared alongside."),
    ),
    Stage.STARTED: (
        ("主体厂房基础施工中，现场施工人员120人。",
         "Main plant foundations under way, 120 workers on site."),
        ("钢结构安装进度过半，主要设备采购合同已签订。",
         "Steel structure more than half up; the main equipment contracts are signed."),
        ("设备基础施工完成，首批生产设备已进场。",
         "Equipment foundations done; the first production machines are on site."),
        ("综合楼封顶，厂区道路和管网同步施工。",
         "Office building topped out; site roads and pipes are being laid alongside."),
    ),
    Stage.OPERATING: (
        ("一期生产线运行稳定，本月产值环比增长。",
         "Phase 1 line running steadily; output up on last month."),
        ("新增就业岗位80个，企业招工顺利。", "80 new jobs; hiring is going well."),
        ("企业正在谋划二期扩产，已提出新增用地需求。",
         "The company is planning phase 2 and has asked for more land."),
    ),
    Stage.PAUSED: (
        ("企业资金链紧张，项目暂缓推进，镇里正协调金融机构对接。",
         "The company is short of funds, so the project is on hold; the town is bringing in "
         "lenders."),
    ),
    Stage.DROPPED: (
        ("企业调整投资方向，项目终止。",
         "The company changed its investment plans; the project is dropped."),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class _ProblemSpec:
    category: ProblemCategory
    unit: str
    text: tuple[str, str]  # (Chinese, English)
    status: ProblemStatus
    age_days: int
    deadline_in: int
    escalation: int
    replies: tuple[tuple[str, str, str], ...] = ()  # (who: "unit" or "raiser", zh, en)


_PROBLEMS: Final = (
    _ProblemSpec(
        ProblemCategory.PERMITS, APPROVAL_BUREAU,
        ("施工许可已超过承诺时限仍未办结，开工节点面临逾期，请协调加快办理。",
         "The construction permit is past its promised date and still not issued, so "
         "groundbreaking will be late. Please speed it up."),
        ProblemStatus.OPEN, 12, -5, 2,
    ),
    _ProblemSpec(
        ProblemCategory.PERMITS, APPROVAL_BUREAU,
        ("施工许可申报材料两次被退回，请一次性告知需补正的材料清单。",
         "The permit application came back twice; please list every missing document at once."),
        ProblemStatus.ACKNOWLEDGED, 4, 2, 0,
    ),
    _ProblemSpec(
        ProblemCategory.UTILITIES, HOUSING_BUREAU,
        ("厂区35千伏专线接入方案迟迟未定，影响设备安装调试。",
         "The plant's 35 kV line connection plan is still undecided, holding up equipment "
         "installation."),
        ProblemStatus.ANSWERED, 9, -1, 0,
        (("unit", "已协调供电公司现场踏勘，接入方案本周五前出具。",
          "The power company has surveyed the site; the connection plan comes by Friday."),),
    ),
    _ProblemSpec(
        ProblemCategory.FINANCE, FINANCE_BUREAU,
        ("企业申请技改补贴，请明确申报条件和办理时限。",
         "The company is applying for an upgrade subsidy; please state the conditions and "
         "how long it takes."),
        ProblemStatus.RESOLVED, 20, -10, 0,
        (
            ("unit", "申报指南已发企业，材料齐全后15个工作日内拨付。",
             "Guidelines sent to the company; paid within 15 working days of a complete "
             "application."),
            ("raiser", "企业已按指南提交材料，问题解决。",
             "The company has applied as the guidelines say; resolved."),
        ),
    ),
    _ProblemSpec(
        ProblemCategory.PERMITS, ECOLOGY_BUREAU,
        ("环评报告书已受理40天，请加快审查进度。",
         "The EIA report was accepted 40 days ago; please speed up the review."),
        ProblemStatus.CLOSED, 45, -35, 1,
        (
            ("unit", "已组织专家评审，环评批复已下达。",
             "The expert review is done and the EIA approval issued."),
            ("raiser", "已收到批复，谢谢。", "Approval received, thank you."),
        ),
    ),
    _ProblemSpec(
        ProblemCategory.LAND, LAND_BUREAU,
        ("项目二期用地指标不足，需市里统筹调剂。",
         "Not enough land quota for phase 2; the city needs to reallocate some."),
        ProblemStatus.OPEN, 2, 5, 0,
    ),
    _ProblemSpec(
        ProblemCategory.OTHER, CENTER,
        ("企业高管子女入学问题，请协调教育部门解决。",
         "School places for the managers' children; please arrange it with the education "
         "bureau."),
        ProblemStatus.ANSWERED, 6, 1, 0,
        (("unit", "已与教育局对接，下周安排入学。",
          "Agreed with the education bureau: the children start school next week."),),
    ),
    _ProblemSpec(
        ProblemCategory.UTILITIES, HOUSING_BUREAU,
        ("园区道路尚未贯通，大型设备无法进场。",
         "The park road is not through yet, so heavy equipment cannot reach the site."),
        ProblemStatus.OPEN, 15, -8, 1,
    ),
    _ProblemSpec(
        ProblemCategory.PERMITS, APPROVAL_BUREAU,
        ("规划许可证办理进度较慢，请明确办结时间。",
         "The planning permit is slow; please give a date by which it is issued."),
        ProblemStatus.ACKNOWLEDGED, 3, -1, 0,
    ),
)  # fmt: skip

# `[work] instruction_days` by default: the term the demo's first instruction is measured by.
_INSTRUCTION_DAYS: Final = 5
# The leader's two instructions: on the first problem, and on a started project.
_INSTRUCTIONS: Final = (
    ("请行政审批局会同属地镇街，三个工作日内办结施工许可，确保项目按期开工。",
     "Approval bureau, with the town: issue the construction permit within three working "
     "days, so that the project breaks ground on time."),
    ("该项目是全市重点项目，请倒排工期、挂图作战，确保按期投产。",
     "A key project for the city: plan backward from the deadline, track it on the wall "
     "chart and make sure it starts operating on time."),
)  # fmt: skip

# How far back the past problems go: past last year's start on most days.
_PAST_DAYS: Final = 480
# The past's problems, answered and signed off, by the unit that answered them (the
# townships answer for their own projects: relocation, the neighbours, local roads).
_TOWNSHIP: Final = "township"


@dataclass(frozen=True)
class _PastProblem:
    category: ProblemCategory
    text: tuple[str, str]  # (Chinese, English)
    answer: tuple[str, str]


_PAST_PROBLEMS: Final[dict[str, tuple[_PastProblem, ...]]] = {
    LAND_BUREAU: (
        _PastProblem(ProblemCategory.LAND,
            ("项目用地规划条件尚未出具，影响土地挂牌。",
             "The plot's planning conditions are not issued yet, which holds up the auction."),
            ("规划条件已出具，并移交土地储备中心。",
             "Planning conditions issued and passed to the land reserve centre.")),
        _PastProblem(ProblemCategory.LAND,
            ("用地组卷报批进度较慢，请明确批复时间。",
             "The land conversion file is slow; please give a date for the approval."),
            ("已报省厅审批，预计两周内批复。",
             "Filed with the provincial department; approval expected within two weeks.")),
        _PastProblem(ProblemCategory.LAND,
            ("不动产权证办理材料清单不清楚，企业两次补件。",
             "The property certificate's list of documents is unclear; the company filed "
             "twice."),
            ("已一次性告知材料清单，窗口专人对接。",
             "The full list was sent at once, and a window officer is assigned.")),
        _PastProblem(ProblemCategory.LAND,
            ("地块红线与规划道路冲突，请协调调整。",
             "The plot boundary clashes with a planned road; please adjust it."),
            ("红线已调整，附图已发企业。",
             "Boundary adjusted; the map is with the company.")),
    ),
    APPROVAL_BUREAU: (
        _PastProblem(ProblemCategory.PERMITS,
            ("项目备案信息需要变更，请指导办理。",
             "The project filing must be changed; please advise how."),
            ("备案变更已在线办结。", "The filing change was done online.")),
        _PastProblem(ProblemCategory.PERMITS,
            ("施工图审查意见反馈较慢。", "Feedback on the construction drawings is slow."),
            ("已协调审图机构，三日内出具意见。",
             "The review firm will reply within three days.")),
        _PastProblem(ProblemCategory.PERMITS,
            ("请将项目纳入工程建设审批绿色通道。",
             "Please put the project in the fast lane for construction approvals."),
            ("已纳入绿色通道，专人帮办代办。",
             "Fast lane granted, with an officer to handle the paperwork.")),
        _PastProblem(ProblemCategory.PERMITS,
            ("节能审查材料被退回，请说明原因。",
             "The energy review file came back; please say why."),
            ("已说明需补充能耗测算，企业已补正。",
             "Explained: the energy figures were missing. The company has resubmitted.")),
    ),
    HOUSING_BUREAU: (
        _PastProblem(ProblemCategory.UTILITIES,
            ("施工临时用水用电接入申请尚未批复。",
             "Temporary water and power for the works are not approved yet."),
            ("已协调水务和供电部门，本周接通。",
             "Water and power companies arranged; connected this week.")),
        _PastProblem(ProblemCategory.UTILITIES,
            ("园区污水管网未接至项目红线。", "The park's sewer does not reach the plot."),
            ("管网延伸工程已开工，月底前接通。",
             "The sewer extension has started; connected by the month end.")),
        _PastProblem(ProblemCategory.UTILITIES,
            ("质量安全监督手续办理时间较长。",
             "Registering quality and safety supervision takes long."),
            ("已并联办理，当日出证。", "Handled in parallel; registered the same day.")),
        _PastProblem(ProblemCategory.UTILITIES,
            ("天然气管道接入方案尚未确定。", "The gas connection plan is undecided."),
            ("燃气公司已出具接入方案。", "The gas company has issued the plan.")),
    ),
    ECOLOGY_BUREAU: (
        _PastProblem(ProblemCategory.PERMITS,
            ("环评报告需补充大气影响预测，请明确要求。",
             "The EIA needs an air-impact forecast; please state what is required."),
            ("补充要求清单已发企业。", "The list of additions is with the company.")),
        _PastProblem(ProblemCategory.PERMITS,
            ("排污许可证申领进度较慢。", "The discharge permit is slow."),
            ("已受理，十个工作日内发证。", "Accepted; issued within ten working days.")),
        _PastProblem(ProblemCategory.PERMITS,
            ("项目污染物总量指标来源尚未落实。", "The emission quota has no source yet."),
            ("已从全市储备中调剂总量指标。", "Quota allocated from the city's reserve.")),
    ),
    FINANCE_BUREAU: (
        _PastProblem(ProblemCategory.FINANCE,
            ("招商引资奖励资金何时兑现？", "When is the investment incentive paid?"),
            ("已纳入本季度拨付计划。", "It is in this quarter's payment plan.")),
        _PastProblem(ProblemCategory.FINANCE,
            ("固定资产投资补助申报需要哪些材料？",
             "What does the fixed-asset investment grant need?"),
            ("申报指南已发企业。", "Guidelines sent to the company.")),
        _PastProblem(ProblemCategory.FINANCE,
            ("企业申请贷款贴息，请明确办理流程。",
             "The company asks for an interest subsidy; please explain how."),
            ("流程已明确，并指定了联系人。", "Process explained, and a contact named.")),
    ),
    _TOWNSHIP: (
        _PastProblem(ProblemCategory.LAND,
            ("地块内尚有3户未签订征迁协议，影响土地交付。",
             "Three households on the plot have not signed the relocation agreement, which "
             "delays handing over the land."),
            ("已逐户上门做工作，协议已全部签订。",
             "The town visited each household; every agreement is signed.")),
        _PastProblem(ProblemCategory.OTHER,
            ("施工现场周边群众阻工，请属地协调。",
             "Neighbours are blocking the works; the town is asked to mediate."),
            ("已召开协调会，施工恢复正常。", "Mediation held; the work has resumed.")),
        _PastProblem(ProblemCategory.LAND,
            ("地上附着物清点补偿尚未完成。",
             "The count and compensation of what stands on the land is unfinished."),
            ("清点已完成，补偿款已发放。", "Count done and compensation paid.")),
        _PastProblem(ProblemCategory.OTHER,
            ("项目周边道路需临时封闭，请镇里协调。",
             "The road by the site must close for a while; the town is asked to arrange it."),
            ("已与交警和村里协调，夜间封闭施工。",
             "Arranged with the traffic police and the village: closed at night.")),
    ),
}  # fmt: skip
# The raiser's sign-off of an answered problem.
_SIGNOFFS: Final = (
    ("问题已解决，谢谢。", "Resolved, thank you."),
    ("已落实，企业认可。", "Done; the company is satisfied."),
    ("收到，问题闭环。", "Received; closed."),
)
# The leader's past instructions, and the units' reports of them done.
_PAST_INSTRUCTIONS: Final = (
    ("请加快推进，本周内拿出解决方案。", "Speed this up and bring a solution within the week."),
    ("请主要负责同志亲自协调，确保节点不再延误。",
     "The unit's head is to take charge, so that no further milestone slips."),
    ("请会同相关部门现场办公，限期解决。",
     "Hold an on-site meeting with the departments concerned and settle it by the deadline."),
    ("请倒排工期，每周报告进展。", "Plan backward from the deadline and report every week."),
    ("请做好企业服务，及时兑现承诺。",
     "Look after the company and keep the city's promises on time."),
    ("请梳理审批事项，能并联的并联办理。",
     "List the approvals and run in parallel whatever can be."),
)  # fmt: skip
_DONE_TEXTS: Final = (
    ("已按批示办结。", "Done as instructed."),
    ("已现场协调解决。", "Settled on site."),
    ("已落实，企业满意。", "Done; the company is satisfied."),
)


@dataclass(frozen=True)
class DemoMember:
    tg_user_id: int
    name: str
    role: Role
    unit: str


@dataclass(frozen=True)
class DemoCity:
    """What the demo built, and whom and what to try first."""

    units: int
    members: int
    projects: int
    milestones: int
    overdue_milestones: int
    due_soon_milestones: int
    progress_reports: int
    problems: int
    instructions: int
    officer: DemoMember
    head: DemoMember
    coordinator: DemoMember
    leader: DemoMember
    admin: DemoMember
    project_code: str  # the officer's project, with an overdue milestone and an open problem
    open_problem_id: int  # raised on that project, escalated, with a leader's instruction
    # The names a config must use to run the bot on this city: [city] service_center and
    # industries, and the [routing] of problems to units.
    service_center: str = CENTER
    industries: tuple[str, ...] = DEFAULT_INDUSTRIES
    routing: Mapping[str, str] = field(default_factory=lambda: dict(ROUTING))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time of the demo city as the aware UTC datetime the store keeps."""
    return datetime.combine(day, time(hour, minute), tzinfo=_CITY_TZ).astimezone(UTC)


def _local(at: datetime) -> date:
    """The demo city's calendar day of AT."""
    return at.astimezone(_CITY_TZ).date()


def _day(today: date, days: int) -> date:
    return today + timedelta(days=days)


def _weekday(day: date) -> date:
    """The day, or the Friday before it: a deadline on a Sunday looks like a typo."""
    return day - timedelta(days=max(0, day.weekday() - 4))


def _weekday_after(day: date) -> date:
    """The day, or the Monday after it: what is late past a Friday is done on Monday."""
    return day + timedelta(days=7 - day.weekday()) if day.weekday() > 4 else day


def _recent(today: date, days_ago: int) -> date:
    """A working day DAYS_AGO (or the weekend's Friday) before TODAY, but inside TODAY's
    month: its first working day up to TODAY (or TODAY itself) when the month is younger.
    The demo's "this month" then holds moves and deadlines whatever day it is built on."""
    first = today.replace(day=1)
    day = _weekday(today - timedelta(days=days_ago))
    if day >= first:
        return day
    days = (first + timedelta(days=n) for n in range((today - first).days + 1))
    return next((d for d in days if d.weekday() < 5), today)


# A milestone: (kind, title, planned, done, owner unit or None for the project's own).
_Step = tuple[str, str, date | None, date | None, str | None]
# The stages a project went through, each with when it got there (aware UTC); the first is
# its entry into the store.
_Path = list[tuple[Stage, datetime]]
_UNDER_WAY: Final = (Stage.NEGOTIATING, Stage.SIGNED, Stage.STARTED)


def _stage_on(path: _Path, at: datetime) -> Stage | None:
    """The stage a project of PATH stood at AT; None before it entered the store."""
    stage = None
    for reached, when in path:
        if when > at:
            break
        stage = reached
    return stage


class _Builder:
    def __init__(self, session: AsyncSession, today: date, seed: int, lang: str) -> None:
        self.session = session
        self.today = today
        self.lang = lang
        self.rng = random.Random(seed)
        self.units: dict[str, Unit] = {}
        self.members: list[Member] = []
        self.projects: list[Project] = []
        self.leads: dict[int, list[Member]] = {}
        # By project code: its place among the projects of its stage (0 first), its time
        # list and its past.
        self.rank: dict[str, int] = {}
        self.plans: dict[str, list[_Step]] = {}
        self.paths: dict[str, _Path] = {}
        self.milestones: list[Milestone] = []
        self.reports = 0
        self.problems: list[Problem] = []
        self.instructions = 0

    def words(self, zh: str, en: str) -> str:
        """The city's language of a text given in both."""
        return en if self.lang == "en" else zh

    def unit_label(self, unit: str) -> str:
        """The name a unit goes by in this city (UNIT is its Chinese name, the key here)."""
        return self.words(unit, _UNIT_EN[unit])

    def staff(self, unit: str, role: Role) -> list[Member]:
        unit_id = self.units[unit].id
        return [m for m in self.members if m.unit_id == unit_id and m.role is role]

    async def build_units(self) -> None:
        existing = {u.name.lower(): u for u in (await self.session.scalars(select(Unit))).all()}
        # Parents before children, so each unit is written once with its parent in place.
        for level in (0, 1, 2):
            for name, kind, parent in _UNITS:
                depth = 0 if parent is None else 1 if parent == LEADERSHIP else 2
                if depth != level:
                    continue
                parent_id = self.units[parent].id if parent else None
                label = self.unit_label(name)
                unit = existing.get(label.lower())
                if unit is None:
                    unit = Unit(name=label, kind=kind, parent_id=parent_id)
                    self.session.add(unit)
                else:
                    # An empty store may still hold the admin's unit from first start-up.
                    unit.kind, unit.parent_id = kind, parent_id
                self.units[name] = unit
            await self.session.flush()

    async def build_members(self) -> None:
        other = next(lang for lang in LANGS if lang != self.lang)
        for i, (unit, zh, en, role, reads_other) in enumerate(_MEMBERS):
            self.members.append(
                Member(
                    tg_user_id=FIRST_TG_ID + i,
                    name=self.words(zh, en),
                    unit_id=self.units[unit].id,
                    role=role,
                    lang=other if reads_other else self.lang,
                )
            )
        self.session.add_all(self.members)
        await self.session.flush()

    async def build_projects(self, industries: Sequence[str]) -> None:
        """The projects, each with its time list and its past laid out (written later),
        entered into the store on the day its past begins."""
        rng = self.rng
        stages = [stage for stage, units in _DEAL.items() for _ in units]
        rng.shuffle(stages)
        seen: dict[str, int] = {}
        ranks: dict[Stage, int] = {}
        for i, stage in enumerate(stages):
            industry = industries[i % len(industries)]
            nth = seen.get(industry, 0)
            seen[industry] = nth + 1
            names = _PROJECT_NAMES.get(industry) or _PROJECT_NAMES_BY_EN.get(industry)
            if names and nth < len(names):
                zh, zh_tail, en, en_tail = names[nth]
                name, company_tail = self.words(zh, en), self.words(zh_tail, en_tail)
            else:
                generic = _GENERIC_NAMES[nth % len(_GENERIC_NAMES)]
                name = self.words(*generic).format(industry=industry)
                company_tail = self.words(*_GENERIC_COMPANY)
            rank = ranks.get(stage, 0)
            ranks[stage] = rank + 1
            unit = _DEAL[stage][rank]
            investment = Decimal(rng.randrange(8_000, 300_001, 500))
            land: Decimal | None = None
            if not (industry in _SERVICES and rng.random() < 0.4):
                # Investment intensity of 250–700 万元/亩 is what development zones ask for.
                mu = investment / Decimal(rng.randint(250, 700))
                land = (mu * 2).quantize(Decimal(1)) / 2
            code = f"XM{i + 1:02d}"
            self.rank[code] = rank
            signed, started, operating = self.targets(stage, rank)
            project = Project(
                code=code,
                name=name,
                enterprise=self.words("{}{}", "{} {}").format(
                    self.words(*_COMPANY_WORDS[i % len(_COMPANY_WORDS)]), company_tail
                ),
                industry=industry,
                investment=investment,
                land_mu=land,
                stage=stage,
                unit_id=self.units[unit].id,
                target_signed=signed,
                target_started=started,
                target_operating=operating,
            )
            self.plans[code] = self.steps(project, unit)
            self.paths[code] = self.history(project)
            project.created_at = self.paths[code][0][1]
            self.projects.append(project)
        self.session.add_all(self.projects)
        await self.session.flush()

    def targets(self, stage: Stage, rank: int) -> tuple[date | None, date | None, date | None]:
        """The stage targets (签约, 开工, 投产) of the RANKth project of STAGE. A project
        that has signed gets its signing target from its signing, in history()."""
        r, today = self.rng.randint, self.today
        if stage is Stage.NEGOTIATING:
            signed = _day(today, r(10, 150))
            started = signed + timedelta(days=r(90, 240))
            return signed, started, started + timedelta(days=r(300, 720))
        if stage is Stage.SIGNED:
            started = _day(today, _SIGNED_START_IN[rank % len(_SIGNED_START_IN)])
            return None, started, started + timedelta(days=r(300, 600))
        if stage is Stage.STARTED:
            # The first broke ground days ago: a start this month, whatever the day.
            started = _day(today, -r(3, 10) if rank == 0 else -r(20, 300))
            return None, started, _day(today, r(30, 500))
        if stage is Stage.OPERATING:
            # Signed a year or more ago, started some months later, operating since; the
            # first has just begun.
            started = _day(today, -r(200, 330))
            operating = started + timedelta(days=r(150, 200))
            return None, started, _day(today, -r(3, 20)) if rank == 0 else operating
        if stage is Stage.PAUSED:
            return None, _day(today, r(60, 200)), None
        return _day(today, -r(30, 300)), None, None

    def done_on(self, planned: date, unit: str) -> date:
        """When UNIT did a milestone planned for PLANNED: by then (up to six days early) as
        often as it keeps its promises, up to twelve days late otherwise; never after today."""
        if self.rng.random() < _HABITS[unit].on_time:
            done = _weekday(planned - timedelta(days=self.rng.randint(0, 6)))
        else:
            done = _weekday_after(planned + timedelta(days=self.rng.randint(1, 12)))
        return min(done, self.today)

    async def build_time_lists(self) -> None:
        for project in self.projects:
            officers = self.staff(self.unit_name(project.unit_id), Role.OFFICER)
            self.leads[project.id] = self.rng.sample(officers, k=self.rng.randint(1, 2))
            for lead in self.leads[project.id]:
                self.session.add(ProjectLead(project_id=project.id, member_id=lead.id))
            steps = self.plans[project.code]
            for seq, (kind, title, planned, done, owner) in enumerate(steps, start=1):
                owner_id = self.units[owner].id if owner else project.unit_id
                self.milestones.append(
                    Milestone(
                        project_id=project.id,
                        seq=seq,
                        title=self.words(title, _STEP_EN[kind]),
                        kind=kind,
                        planned_date=planned,
                        done_date=done,
                        owner_unit_id=owner_id,
                    )
                )
        self.session.add_all(self.milestones)
        await self.session.flush()

    def unit_name(self, unit_id: int) -> str:
        return next(name for name, u in self.units.items() if u.id == unit_id)

    def steps(self, project: Project, home: str) -> list[_Step]:
        """The time list of PROJECT, of the unit HOME: (kind, title, planned, done, owner
        unit or None). Each milestone is done as punctually as its owner keeps promises."""
        today, stage = self.today, project.stage
        if stage is Stage.NEGOTIATING:
            target_signed = project.target_signed or today  # targets() gives one
            planned = _weekday(target_signed - timedelta(days=self.rng.randint(5, 30)))
            done = None
            if planned < today and self.rng.random() < 0.5:
                done = self.done_on(planned, home)
            return [("site", "选址", planned, done, None)]
        if stage is Stage.DROPPED:
            planned = _weekday((project.target_signed or today) - timedelta(days=20))
            return [("site", "选址", planned, self.done_on(planned, home), None)]
        # targets() gives every other stage a start target; `or today` only satisfies typing.
        target_started = project.target_started or today
        rows: list[_Step] = []
        past = [s[0] for s in _STEPS if _weekday(target_started - timedelta(days=s[2])) < today]
        latest_past = past[-1] if past else None
        for i, (kind, title, days_before, owner) in enumerate(_STEPS):
            planned = _weekday(target_started - timedelta(days=days_before))
            done = None
            if stage in (Stage.STARTED, Stage.OPERATING):
                done = self.done_on(planned, owner or home)
            elif stage is Stage.SIGNED and planned < today:
                # Every other signed project is behind on its latest step: that is the red
                # on the wall chart that the escalation exists for.
                behind = self.rank[project.code] % 2 == 0 and kind == latest_past
                done = None if behind else self.done_on(planned, owner or home)
            elif stage is Stage.PAUSED:
                # Paused after the first steps; the rest wait, unplanned, for a restart.
                if i >= 3:
                    rows.append((kind, title, None, None, owner))
                    continue
                planned = _weekday(today - timedelta(days=200 - 40 * i))
                done = self.done_on(planned, owner or home)
            rows.append((kind, title, planned, done, owner))
        if stage in (Stage.STARTED, Stage.OPERATING):
            return self.broke_ground(project, rows)
        return rows

    def broke_ground(self, project: Project, rows: list[_Step]) -> list[_Step]:
        """ROWS with groundbreaking (the last step) done on or after every other step: it is
        the start itself. The first started project broke ground this month."""
        *before, (kind, title, planned, done, owner) = rows
        if project.stage is Stage.STARTED and self.rank[project.code] == 0:
            done = _recent(self.today, self.rng.randint(0, 3))
        else:
            done = max([d for *_, d, _owner in rows if d is not None], default=self.today)
        return [
            *((k, t, p, min(d, done) if d else d, o) for k, t, p, d, o in before),
            (kind, title, planned, done, owner),
        ]

    def history(self, project: Project) -> _Path:
        """The stages PROJECT went through and when, from its time list: it entered the
        store negotiating; signed before its first milestone was done (the last signed
        project this month, whatever the day); started on the day it broke ground;
        operating months later (the first operating project this month); paused weeks
        after its last step done; dropped once its signing target had passed. A project
        that signed gets its signing target near its signing."""
        r, today, stage = self.rng.randint, self.today, project.stage
        rank = self.rank[project.code]
        done = {kind: d for kind, _t, _p, d, _o in self.plans[project.code] if d is not None}
        first_done = min(done.values(), default=None)
        days: list[tuple[Stage, date]]
        if stage is Stage.NEGOTIATING:
            entered = _weekday(today - timedelta(days=r(50, 200)))
            if first_done is not None:
                entered = min(entered, _weekday(first_done - timedelta(days=r(10, 40))))
            days = [(stage, entered)]
        elif stage is Stage.DROPPED:
            site = done["site"]
            target = project.target_signed or today  # targets() gives one
            dropped = _weekday(min(target + timedelta(days=r(10, 40)), today - timedelta(days=2)))
            entered = _weekday(site - timedelta(days=r(20, 60)))
            days = [(Stage.NEGOTIATING, entered), (stage, max(dropped, site))]
        else:
            if stage is Stage.SIGNED and rank == len(_DEAL[Stage.SIGNED]) - 1:
                signed = _recent(today, r(1, 5))
            elif first_done is None:
                signed = _weekday(today - timedelta(days=r(20, 45)))
            else:
                signed = _weekday(first_done - timedelta(days=r(7, 40)))
            entered = _weekday(signed - timedelta(days=r(30, 120)))
            days = [(Stage.NEGOTIATING, entered), (Stage.SIGNED, signed)]
            if stage in (Stage.STARTED, Stage.OPERATING):
                days.append((Stage.STARTED, done["groundbreaking"]))
            if stage is Stage.OPERATING:
                started = done["groundbreaking"]
                if rank == 0:
                    operating = _recent(today, r(0, 5))
                else:
                    target = project.target_operating or today  # targets() gives one
                    operating = _weekday(target + timedelta(days=r(-15, 20)))
                    operating = min(operating, _weekday(today - timedelta(days=1)))
                    operating = max(operating, started + timedelta(days=120))
                days.append((stage, operating))
            if stage is Stage.PAUSED:
                paused = _weekday(max(done.values()) + timedelta(days=r(14, 100)))
                days.append((stage, min(paused, _weekday(today - timedelta(days=3)))))
            project.target_signed = signed + timedelta(days=r(-10, 12))
        # Entered in the morning; the stage moves later in the working day.
        path = [(days[0][0], _at(days[0][1], 9, 15 * r(0, 3)))]
        path += [(s, _at(day, r(10, 16), 15 * r(0, 3))) for s, day in days[1:]]
        return path

    async def build_history(self) -> None:
        """Write each project's past into stage_moves: the flush hook's row of its entry
        (made when the project was written, at the build's own time and stage) becomes its
        entry, negotiating, on its created_at by a coordinator; then a move per stage it
        reached, by its lead officer."""
        coordinator = self.staff(CENTER, Role.COORDINATOR)[0]
        entries = {
            move.project_id: move
            for move in await self.session.scalars(
                select(StageMove).where(
                    StageMove.project_id.in_([p.id for p in self.projects]),
                    StageMove.from_stage.is_(None),
                )
            )
        }
        for project in self.projects:
            path = self.paths[project.code]
            entry = entries[project.id]
            entry.to_stage, entry.at, entry.actor_id = path[0][0], path[0][1], coordinator.id
            lead = self.leads[project.id][0]
            for (before, _), (stage, at) in pairwise(path):
                self.session.add(
                    StageMove(
                        project_id=project.id,
                        from_stage=before,
                        to_stage=stage,
                        at=at,
                        actor_id=lead.id,
                    )
                )
        await self.session.flush()

    async def build_reports(self) -> None:
        """Progress reports week by week since each project entered the store (a few of
        them checks that nothing changed), skipping weeks as often as its unit misses them;
        monthly once operating. Every fifth project has gone quiet for three to six weeks,
        so that "waiting for an update" has something; a paused or dropped project's last
        word is the day it stopped."""
        rng, today = self.rng, self.today
        reports: list[ProgressReport] = []
        for n, project in enumerate(self.projects):
            path = self.paths[project.code]
            habit = _HABITS[self.unit_name(project.unit_id)]
            authors = self.leads[project.id]
            entered = _local(path[0][1])
            if project.stage in (Stage.PAUSED, Stage.DROPPED):
                newest = _local(path[-1][1])
            else:
                ago = rng.randint(20, 45) if n % 5 == 0 else rng.randint(0, 6)
                newest = _weekday(today - timedelta(days=ago))
            monday = newest - timedelta(days=newest.weekday())
            week = 0
            while monday + timedelta(days=4) >= entered:
                day = newest
                if week:
                    day = max(monday + timedelta(days=rng.randint(0, 4)), entered)
                at = _at(day, rng.randint(15, 18), rng.randint(0, 59))
                stage = _stage_on(path, at)
                if stage is not None and self.reported(stage, week, habit):
                    author = authors[week % len(authors)]
                    reports.append(self.report(project, author, stage, at, newest=week == 0))
                week += 1
                monday -= timedelta(days=7)
        # In the order written: a project's latest report is the one with the highest id.
        reports.sort(key=lambda r: r.created_at)
        self.session.add_all(reports)
        latest = {r.project_id: r.created_at for r in reports}
        for project in self.projects:
            project.last_progress_at = latest.get(project.id)
        self.reports = len(reports)
        await self.session.flush()

    def reported(self, stage: Stage, week: int, habit: _Habit) -> bool:
        """Whether a project at STAGE, of a unit of HABIT, was reported on WEEK weeks
        before its newest report (always on the newest)."""
        if week == 0:
            return True
        if stage is Stage.OPERATING:
            return week % 4 == 0
        return stage in _UNDER_WAY and self.rng.random() < habit.reporting

    def report(
        self, project: Project, author: Member, stage: Stage, at: datetime, *, newest: bool
    ) -> ProgressReport:
        """A report on PROJECT at AT (aware UTC), while at STAGE: the stage's texts in
        their order, a step for every five weeks in it; now and then a check that nothing
        changed instead (never the newest, which the card shows); an amount invested while
        building."""
        reached = max(when for s, when in self.paths[project.code] if s is stage and when <= at)
        report = ProgressReport(
            project_id=project.id,
            author_id=author.id,
            text="",
            report_date=_local(at),
            kind=NO_CHANGE,
            created_at=at,
        )
        if newest or self.rng.random() >= 0.25:
            texts = _REPORTS[stage]
            report.kind = REPORT
            report.text = self.words(*texts[min(len(texts) - 1, (at - reached).days // 35)])
            if stage is Stage.STARTED:
                report.amount = Decimal(self.rng.randrange(300, 5001, 50))
        return report

    async def build_problems(self) -> None:
        today = self.today
        # Problems go where work is under way: signed projects first, then started ones.
        candidates = [p for p in self.projects if p.stage is Stage.SIGNED] + [
            p for p in self.projects if p.stage is Stage.STARTED
        ]
        replies: list[tuple[Problem, _ProblemSpec]] = []
        for k, spec in enumerate(_PROBLEMS):
            project = candidates[k % len(candidates)]
            raised = today - timedelta(days=spec.age_days)
            problem = Problem(
                project_id=project.id,
                raiser_id=self.leads[project.id][0].id,
                text=self.words(*spec.text),
                category=spec.category,
                unit_id=self.units[spec.unit].id,
                reply_deadline=today + timedelta(days=spec.deadline_in),
                status=spec.status,
                escalation_level=spec.escalation,
                escalated_at=_at(today - timedelta(days=1), 9) if spec.escalation else None,
                created_at=_at(raised, 10, 15),
            )
            if spec.status in (ProblemStatus.RESOLVED, ProblemStatus.CLOSED):
                problem.resolved_at = _at(raised + timedelta(days=spec.age_days // 2 + 1), 17)
            # The unit's first reply is its answer, the day counted for its deadline.
            answers = [n for n, (who, *_text) in enumerate(spec.replies, start=1) if who == "unit"]
            if answers:
                problem.answered_at = _at(raised + timedelta(days=answers[0]), 11)
            self.problems.append(problem)
            replies.append((problem, spec))
        self.session.add_all(self.problems)
        await self.session.flush()
        for problem, spec in replies:
            answerers = self.staff(spec.unit, Role.OFFICER) or self.staff(
                spec.unit, Role.COORDINATOR
            )
            for n, (who, zh, en) in enumerate(spec.replies, start=1):
                author_id = answerers[0].id if who == "unit" else problem.raiser_id
                when = _at(today - timedelta(days=spec.age_days) + timedelta(days=n), 11)
                self.session.add(
                    ProblemReply(
                        problem_id=problem.id,
                        author_id=author_id,
                        text=self.words(zh, en),
                        created_at=when,
                    )
                )
        await self.session.flush()

    async def build_instructions(self) -> None:
        """The leader's two instructions, one at each step: the first (on the first
        problem, to its answering unit) acknowledged and two working days past its deadline,
        climbed as the rules would have it; the second (on a started project of the demo
        officer's unit, so that the officer's list shows it) given yesterday and still new."""
        leader = self.staff(LEADERSHIP, Role.LEADER)[0]
        problem = self.problems[0]
        calendar = WorkCalendar()
        given = calendar.add_workdays(self.today, -6)
        deadline = calendar.add_workdays(self.today, -2)
        clock = InstructionClock(given, deadline, acknowledged=True)
        level = instruction_target(clock, self.today, calendar, Thresholds(), _INSTRUCTION_DAYS)
        officer_unit = next(m.unit_id for m in self.members if m.id == problem.raiser_id)
        started = [p for p in self.projects if p.stage is Stage.STARTED]
        own = next((p for p in started if p.unit_id == officer_unit), started[0])
        self.session.add_all(
            [
                Instruction(
                    leader_id=leader.id,
                    project_id=problem.project_id,
                    problem_id=problem.id,
                    text=self.words(*_INSTRUCTIONS[0]),
                    unit_id=problem.unit_id,
                    deadline=deadline,
                    created_at=_at(given, 18),
                    acknowledged_at=_at(calendar.add_workdays(given, 1), 9, 40),
                    escalation_level=level,
                    escalated_at=_at(self.today - timedelta(days=1), 9) if level else None,
                ),
                Instruction(
                    leader_id=leader.id,
                    project_id=own.id,
                    text=self.words(*_INSTRUCTIONS[1]),
                    unit_id=own.unit_id,
                    deadline=_weekday(self.today + timedelta(days=30)),
                    created_at=_at(self.today - timedelta(days=1), 18),
                ),
            ]
        )
        self.instructions = 2
        await self.session.flush()

    def answering(self) -> list[tuple[str, Member, bool]]:
        """The units that are ranked, each with the member who answers for it and whether
        it is a township (answering for its own projects only)."""
        found = []
        for name, kind, _parent in _UNITS:
            if kind in (UnitKind.TOWNSHIP, UnitKind.SUBDISTRICT, UnitKind.DEPARTMENT):
                member = (self.staff(name, Role.OFFICER) or self.staff(name, Role.HEAD))[0]
                found.append((name, member, kind is not UnitKind.DEPARTMENT))
        return found

    def involved(self, unit: str, day: date, own: bool) -> Project | None:
        """A project that a problem for UNIT raised on DAY can be about: under
        way then (signed or started; a township's own, OWN, also negotiating)."""
        at = _at(day, 12)
        stages = _UNDER_WAY if own else (Stage.SIGNED, Stage.STARTED)
        found = [
            p
            for p in self.projects
            if (not own or p.unit_id == self.units[unit].id)
            and _stage_on(self.paths[p.code], at) in stages
        ]
        return self.rng.choice(found) if found else None

    def kept(self, due: date, begun: date, habit: _Habit) -> date:
        """When a unit of HABIT did what it was asked on BEGUN by DUE: by then as often as
        it keeps its promises, some working days later otherwise. Never after today: what
        fell due in the last days was done in time."""
        if self.rng.random() >= habit.on_time:
            late = _weekday_after(due + timedelta(days=self.rng.randint(1, 8)))
            if late <= self.today:
                return late
        return max(begun, _weekday(due - timedelta(days=self.rng.randint(0, 3))))

    async def build_past_problems(self) -> None:
        """The past months' problems, each answered and signed off. Every ranked unit's
        answers fell due every week or two (a township's every month or so), the latest
        this month, so that every unit is judged in this month's ranking whatever the day;
        answered on time as often as the unit keeps its promises."""
        rng, today = self.rng, self.today
        coordinator = self.staff(CENTER, Role.COORDINATOR)[0]
        past: list[tuple[Problem, Member, _PastProblem]] = []
        for unit, answerer, township in self.answering():
            pool = _PAST_PROBLEMS[_TOWNSHIP if township else unit]
            every = (21, 45) if township else (10, 24)
            k = rng.randrange(len(pool))
            due = _recent(today, rng.randint(0, 10))
            while due > today - timedelta(days=_PAST_DAYS):
                raised = _weekday(due - timedelta(days=rng.randint(3, 8)))
                project = self.involved(unit, raised, township)
                if project is not None:
                    spec = pool[k % len(pool)]
                    k += 1
                    answered = self.kept(due, raised, _HABITS[unit])
                    resolved = _weekday_after(answered + timedelta(days=rng.randint(0, 4)))
                    problem = Problem(
                        project_id=project.id,
                        # The service center raises what a town must do for the company.
                        raiser_id=(coordinator if township else self.leads[project.id][0]).id,
                        text=self.words(*spec.text),
                        category=spec.category,
                        unit_id=self.units[unit].id,
                        reply_deadline=due,
                        status=ProblemStatus.CLOSED
                        if rng.random() < 0.3
                        else ProblemStatus.RESOLVED,
                        created_at=_at(raised, 9, 30),
                        answered_at=_at(answered, 14, 30),
                        resolved_at=_at(min(resolved, today), 17),
                    )
                    past.append((problem, answerer, spec))
                due = _weekday(due - timedelta(days=rng.randint(*every)))
        self.session.add_all([problem for problem, _m, _s in past])
        await self.session.flush()
        for problem, answerer, spec in past:
            signoff = _SIGNOFFS[problem.id % len(_SIGNOFFS)]
            self.session.add_all(
                [
                    ProblemReply(
                        problem_id=problem.id,
                        author_id=answerer.id,
                        text=self.words(*spec.answer),
                        created_at=problem.answered_at,
                    ),
                    ProblemReply(
                        problem_id=problem.id,
                        author_id=problem.raiser_id,
                        text=self.words(*signoff),
                        created_at=problem.resolved_at,
                    ),
                ]
            )
            self.problems.append(problem)
        await self.session.flush()

    async def build_past_instructions(self) -> None:
        """The leader's past instructions, all carried out: one for every ranked unit every
        month or two, the latest due this month, done on time as often as the unit keeps
        its promises. All of it happened before today (done by yesterday at the latest),
        so that nothing is stamped later than the moment the demo is built."""
        rng, today = self.rng, self.today
        leader = self.staff(LEADERSHIP, Role.LEADER)[0]
        yesterday = _weekday(today - timedelta(days=1))
        past: list[Instruction] = []
        for unit, answerer, township in self.answering():
            due = _recent(today, rng.randint(0, 20))
            while due > today - timedelta(days=_PAST_DAYS):
                given = _weekday(due - timedelta(days=rng.randint(7, 14)))
                project = self.involved(unit, given, township)
                if project is not None:
                    acknowledged = _weekday_after(given + timedelta(days=1))
                    # Given a week or more before its deadline, so acknowledged days before
                    # yesterday: what would be done today was done the working day before.
                    done = min(self.kept(due, acknowledged, _HABITS[unit]), yesterday)
                    past.append(
                        Instruction(
                            leader_id=leader.id,
                            project_id=project.id,
                            text=self.words(*rng.choice(_PAST_INSTRUCTIONS)),
                            unit_id=self.units[unit].id,
                            deadline=due,
                            created_at=_at(given, 18),
                            acknowledged_at=_at(acknowledged, 9, 40),
                            done_at=_at(done, 17),
                            done_text=self.words(*rng.choice(_DONE_TEXTS)),
                            done_by_id=answerer.id,
                        )
                    )
                due = _weekday(due - timedelta(days=rng.randint(30, 60)))
        self.session.add_all(past)
        self.instructions += len(past)
        await self.session.flush()

    def handle(self, member: Member) -> DemoMember:
        unit = self.unit_label(self.unit_name(member.unit_id))
        return DemoMember(member.tg_user_id, member.name, member.role, unit)

    def city(self, industries: Sequence[str]) -> DemoCity:
        lights = [milestone_light(m.planned_date, m.done_date, self.today) for m in self.milestones]
        problem = self.problems[0]
        project = next(p for p in self.projects if p.id == problem.project_id)
        officer = next(m for m in self.members if m.id == problem.raiser_id)
        unit = self.unit_name(officer.unit_id)
        return DemoCity(
            units=len(self.units),
            members=len(self.members),
            projects=len(self.projects),
            milestones=len(self.milestones),
            overdue_milestones=lights.count(Light.RED),
            due_soon_milestones=lights.count(Light.YELLOW),
            progress_reports=self.reports,
            problems=len(self.problems),
            instructions=self.instructions,
            officer=self.handle(officer),
            head=self.handle(self.staff(unit, Role.HEAD)[0]),
            coordinator=self.handle(self.staff(CENTER, Role.COORDINATOR)[0]),
            leader=self.handle(self.staff(LEADERSHIP, Role.LEADER)[0]),
            admin=self.handle(self.staff(CENTER, Role.ADMIN)[0]),
            project_code=project.code,
            open_problem_id=problem.id,
            service_center=self.unit_label(CENTER),
            industries=tuple(industries),
            routing={category: self.unit_label(unit) for category, unit in ROUTING.items()},
        )


async def build_demo(
    session: AsyncSession,
    today: date,
    industries: Sequence[str] = DEFAULT_INDUSTRIES,
    *,
    seed: int = DEFAULT_SEED,
    lang: str = "zh",
) -> DemoCity:
    """Fill an empty store with the sample city; refuses a store that has projects.

    LANG is the city's language: its names, its texts and what most of its people read
    (`en` builds the same city in English; pass DEFAULT_INDUSTRIES_EN for its industries).
    """
    if await session.scalar(select(func.count()).select_from(Project)):
        raise Refused("err.demo_not_empty")
    if not industries:
        raise ValueError("the demo needs at least one industry")
    if lang not in LANGS:
        raise ValueError(f"the demo city speaks {' or '.join(LANGS)}, not {lang!r}")
    builder = _Builder(session, today, seed, lang)
    await builder.build_units()
    await builder.build_members()
    await builder.build_projects(industries)
    await builder.build_time_lists()
    await builder.build_history()
    await builder.build_reports()
    # Today's problems before the past's: the numbers the walkthrough names are small.
    await builder.build_problems()
    await builder.build_instructions()
    await builder.build_past_problems()
    # After today's two, so that the overdue one and the new one keep the first numbers.
    await builder.build_past_instructions()
    return builder.city(industries)


@dataclass(frozen=True)
class Contents:
    """How much a store holds: enough to tell an empty one (a wrong --config or --db)."""

    units: int
    projects: int
    members: int

    @property
    def empty(self) -> bool:
        return not (self.units or self.projects or self.members)


async def contents(session: AsyncSession) -> Contents:
    """Count the store's units, projects and members (the demo fills only an empty one)."""

    async def count(model: type[Unit] | type[Project] | type[Member]) -> int:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return Contents(await count(Unit), await count(Project), await count(Member))

"""Texts of the ledger import, the demo city and the command line; how to say a ledger error."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.ledger import RowError


def describe(lang: str, error: RowError) -> str:
    """One line for a bad row: where it is (sheet, Excel row number) and what is wrong."""
    # Imported here: bot.texts imports this module while it is being set up.
    from bot.texts import Raw, t

    reason = Raw(t(lang, error.key, **error.params))
    if error.row is None:
        return t(lang, "ledger.at_sheet", sheet=error.sheet, reason=reason)
    return t(lang, "ledger.at_row", sheet=error.sheet, row=error.row, reason=reason)


ZH: dict[str, str] = {
    "ledger.invalid": "台账中有 {count} 处问题，本次未导入任何数据。请修改后重新上传：",
    "ledger.at_row": "【{sheet}】第 {row} 行：{reason}",
    "ledger.at_sheet": "【{sheet}】{reason}",
    "ledger.more": "……另有 {count} 处问题未列出。",
    "ledger.nothing_imported": "本次未导入任何数据，请修改以上问题后重新导入。",
    "ledger.summary": (
        "台账导入完成。\n"
        "单位：新增 {units_created} 个，更新 {units_updated} 个，无变化 {units_unchanged} 个；\n"
        "项目：新增 {projects_created} 个，更新 {projects_updated} 个，"
        "无变化 {projects_unchanged} 个。\n"
        "读取的列：{columns}\n"
        "未使用的列：{ignored}"
    ),
    "ledger.unreadable": "文件无法读取，请确认是未损坏的 Excel 工作簿（.xlsx）或 CSV 文件。",
    "ledger.old_xls": "暂不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 后重新上传。",
    "ledger.bad_format": "不支持“{suffix}”类型的文件，请上传 .xlsx 或 .csv 文件。",
    "ledger.no_projects_sheet": "工作簿中未找到“项目”（projects）工作表，请检查工作表名称。",
    "ledger.bad_encoding": "无法识别 CSV 文件的编码，请另存为“CSV UTF-8”格式后重新上传。",
    "ledger.empty": "文件中没有任何单位或项目数据。",
    "ledger.missing_column": "缺少必填列“{column}”。",
    "ledger.duplicate_column": "列“{column}”与前面的列重复，请删除多余的一列。",
    "ledger.required": "“{column}”为必填项，不能为空。",
    "ledger.too_long": "“{column}”超过 {limit} 个字符。",
    "ledger.bad_number": "“{column}”应填写数字，现为“{value}”。",
    "ledger.negative": "“{column}”不能为负数，现为“{value}”。",
    "ledger.too_large": "“{column}”数值过大（“{value}”），请核对计量单位（万元、亩）。",
    "ledger.bad_date": "“{column}”应填写日期（如 2026-12-05），现为“{value}”。",
    "ledger.ambiguous_month": (
        "“{column}”中的“{value}”无法确定是 1 月还是 10 月，请写成文本“2026.10”或填写具体日期。"
    ),
    "ledger.unknown_measure": (
        "无法识别“{column}”的计量单位“{unit}”，金额请用元、万元或亿元，面积请用亩、平方米或公顷。"
    ),
    "ledger.bad_stage": "无法识别阶段“{value}”，应为洽谈、签约、开工、投产、暂停或终止。",
    "ledger.bad_kind": "无法识别单位类型“{value}”，应为乡镇、街道、部门、中心或领导。",
    "ledger.bad_code": "项目编号“{value}”中不能含有空格。",
    "ledger.duplicate_code": "项目编号“{value}”与第 {first} 行重复。",
    "ledger.duplicate_unit": "单位“{value}”与第 {first} 行重复。",
    "ledger.unknown_unit": "单位“{value}”既不在“单位”表中，也未在系统中登记。",
    "ledger.unknown_industry": "产业“{value}”不在重点产业范围内（{allowed}）。",
    "ledger.parent_cycle": "上级单位形成循环：{value}。",
    "ledger.stage_dropped": "项目 {value} 已终止，不能再改为其他阶段。",
    "err.demo_not_empty": "系统中已有项目，示例城市只能载入空数据库。",
    "ledger.invalid_file": "“{name}”中有 {count} 处问题，本次未导入任何数据。请修改后重新上传：",
    "ledger.offer": "收到文件“{name}”。要把它作为台账导入单位和项目吗？",
    "btn.import": "📥 导入台账",
    "demo.config": "要在这个示范城市上运行机器人，config.toml 里还要写上这几行：",
    "cli.invite": "{unit} · {role} · 有效期至 {until}",
    "ledger.unnamed": "所发文件",
}

EN: dict[str, str] = {
    "ledger.invalid": (
        "The ledger has {count} problem(s), so nothing was imported. "
        "Please correct them and upload it again:"
    ),
    "ledger.at_row": "[{sheet}] row {row}: {reason}",
    "ledger.at_sheet": "[{sheet}] {reason}",
    "ledger.more": "…and {count} more problem(s) not listed.",
    "ledger.nothing_imported": "Nothing was imported; correct the problems above and try again.",
    "ledger.summary": (
        "Ledger imported.\n"
        "Units: {units_created} new, {units_updated} updated, {units_unchanged} unchanged;\n"
        "projects: {projects_created} new, {projects_updated} updated, "
        "{projects_unchanged} unchanged.\n"
        "Columns read: {columns}\n"
        "Columns not used: {ignored}"
    ),
    "ledger.unreadable": (
        "The file cannot be read. Please send an undamaged Excel workbook (.xlsx) or CSV file."
    ),
    "ledger.old_xls": "Old .xls files are not supported: save it as .xlsx in Excel and send it again.",
    "ledger.bad_format": "Files of type “{suffix}” are not supported; please send .xlsx or .csv.",
    "ledger.no_projects_sheet": "The workbook has no “projects” (项目) sheet; check the sheet names.",
    "ledger.bad_encoding": (
        "The CSV file's encoding is not recognised; save it as “CSV UTF-8” and send it again."
    ),
    "ledger.empty": "The file holds no units and no projects.",
    "ledger.missing_column": "The required column “{column}” is missing.",
    "ledger.duplicate_column": "The column “{column}” appears twice; remove the extra one.",
    "ledger.required": "“{column}” is required and may not be empty.",
    "ledger.too_long": "“{column}” is longer than {limit} characters.",
    "ledger.bad_number": "“{column}” must be a number, not “{value}”.",
    "ledger.negative": "“{column}” may not be negative: “{value}”.",
    "ledger.too_large": ("“{column}” is too large (“{value}”); check the unit (10k CNY, mu)."),
    "ledger.bad_date": "“{column}” must be a date (e.g. 2026-12-05), not “{value}”.",
    "ledger.ambiguous_month": (
        "“{value}” in “{column}” could be January or October; write it as the text "
        "“2026.10” or give the day."
    ),
    "ledger.unknown_measure": (
        "The unit “{unit}” of “{column}” is not known; give money in 元, 万元 or 亿元 "
        "and land in 亩, 平方米 (m²) or 公顷 (ha)."
    ),
    "ledger.bad_stage": (
        "Unknown stage “{value}”; use negotiating, signed, started, operating, paused or dropped."
    ),
    "ledger.bad_kind": (
        "Unknown unit kind “{value}”; use township, subdistrict, department, center or leadership."
    ),
    "ledger.bad_code": "The project code “{value}” may not contain spaces.",
    "ledger.duplicate_code": "The project code “{value}” is already used in row {first}.",
    "ledger.duplicate_unit": "The unit “{value}” is already listed in row {first}.",
    "ledger.unknown_unit": "The unit “{value}” is neither in the units sheet nor registered.",
    "ledger.unknown_industry": "The industry “{value}” is not a key industry ({allowed}).",
    "ledger.parent_cycle": "The parent units go round in a circle: {value}.",
    "ledger.stage_dropped": "Project {value} was dropped; its stage can no longer change.",
    "err.demo_not_empty": "The store already has projects; the demo city loads into an empty one.",
    "ledger.invalid_file": (
        "“{name}” has {count} {count:s/problem/problems}, so nothing was imported. "
        "Please correct them and upload it again:"
    ),
    "ledger.offer": "Got “{name}”. Import it as the ledger of units and projects?",
    "btn.import": "📥 Import the ledger",
    "demo.config": "To run the bot on this demo city, config.toml also needs these lines:",
    "cli.invite": "{unit} · {role} · valid until {until}",
    "ledger.unnamed": "the file sent",
}

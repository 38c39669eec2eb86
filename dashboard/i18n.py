"""Every string the dashboard shows, in English and Simplified Chinese.

``t("key", **values)`` returns the string in the session's language with ``{values}`` filled in;
``t.reason(code)`` explains a row status or load-issue code in plain words. A missing key falls
back to English, then to the key itself (the tests check that every key exists in both).
"""

from __future__ import annotations

from typing import Any

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}

STRINGS: dict[str, dict[str, str]] = {
    # ---------------------------------------------------------------- navigation and sidebar
    "nav.section.prepare": {"en": "Prepare", "zh": "准备"},
    "nav.section.explore": {"en": "Explore", "zh": "探索"},
    "nav.section.share": {"en": "Share", "zh": "分享"},
    "nav.data": {"en": "Data", "zh": "数据"},
    "nav.run": {"en": "Run", "zh": "运行"},
    "nav.topics": {"en": "Topics", "zh": "主题"},
    "nav.themes": {"en": "Themes", "zh": "主题大类"},
    "nav.map": {"en": "Map", "zh": "地图"},
    "nav.search": {"en": "Search", "zh": "搜索"},
    "nav.trends": {"en": "Trends", "zh": "趋势"},
    "nav.drivers": {"en": "Drivers", "zh": "驱动因素"},
    "nav.export": {"en": "Export", "zh": "导出"},
    "nav.runs": {"en": "Runs", "zh": "历史运行"},
    "sidebar.language": {"en": "Language", "zh": "界面语言"},
    "sidebar.status": {"en": "Current work", "zh": "当前工作"},
    "sidebar.no_data": {"en": "No file yet", "zh": "尚未选择文件"},
    "sidebar.running": {"en": "Analysis running…", "zh": "分析进行中…"},
    "sidebar.run": {"en": "{topics} topics · {rows:,} rows", "zh": "{topics} 个主题 · {rows:,} 行"},
    # ---------------------------------------------------------------- common
    "common.no_run": {
        "en": "No analysis is open yet. Load a file and run an analysis, or reopen an earlier run.",
        "zh": "还没有打开的分析。请先加载文件并运行分析，或重新打开之前的运行。",
    },
    "common.go_data": {"en": "Load data", "zh": "加载数据"},
    "common.go_runs": {"en": "Earlier runs", "zh": "历史运行"},
    "common.unexpected": {
        "en": "Something went wrong on our side. The details were logged; please try again.",
        "zh": "程序内部出错，详细信息已记录到日志，请重试。",
    },
    "common.row": {"en": "Row", "zh": "行号"},
    "common.text": {"en": "Feedback", "zh": "反馈内容"},
    "common.topic": {"en": "Topic", "zh": "主题"},
    "common.language": {"en": "Language", "zh": "语言"},
    # ---------------------------------------------------------------- roles of optional columns
    "role.date": {"en": "Date", "zh": "日期"},
    "role.rating": {"en": "Rating", "zh": "评分"},
    "role.channel": {"en": "Channel", "zh": "渠道"},
    "role.language": {"en": "Language", "zh": "语言"},
    "role.id": {"en": "ID", "zh": "编号"},
    "role.topic": {"en": "Topic", "zh": "主题"},
    "role.theme": {"en": "Theme", "zh": "大类"},
    # ---------------------------------------------------------------- data page
    "data.title": {"en": "Your feedback data", "zh": "反馈数据"},
    "data.intro": {
        "en": "Upload an export of reviews, tickets or survey answers, check that it was read correctly, and pick the text column.",
        "zh": "上传评论、工单或问卷回答的导出文件，确认读取无误，并选择文本列。",
    },
    "data.upload": {"en": "Upload a file", "zh": "上传文件"},
    "data.uploader_button": {"en": "Upload", "zh": "选择文件"},
    "data.uploader_limits": {
        "en": "200 MB per file",
        "zh": "每个文件最大 200 MB · CSV、XLSX、JSONL、Parquet 等",
    },
    "data.upload_help": {
        "en": "CSV, TSV, Excel (.xlsx), JSON Lines or Parquet, up to 200 MB. Any encoding and delimiter.",
        "zh": "支持 CSV、TSV、Excel (.xlsx)、JSON Lines 或 Parquet，最大 200 MB，编码和分隔符自动识别。",
    },
    "data.formats": {
        "en": "Supported: CSV and TSV (UTF-8, GB18030/GBK, UTF-16…), Excel .xlsx, JSON Lines, Parquet.",
        "zh": "支持：CSV 与 TSV（UTF-8、GB18030/GBK、UTF-16 等）、Excel .xlsx、JSON Lines、Parquet。",
    },
    "data.sample_title": {"en": "No file at hand?", "zh": "手头没有文件？"},
    "data.sample_caption": {
        "en": "Try the bundled sample: 600+ multilingual customer comments with date, rating and channel.",
        "zh": "试试内置示例：600 多条多语言客户反馈，包含日期、评分和渠道。",
    },
    "data.sample_button": {"en": "Use the sample file", "zh": "使用示例文件"},
    "data.file_title": {"en": "File: {name}", "zh": "文件：{name}"},
    "data.rows": {"en": "Rows", "zh": "行数"},
    "data.columns": {"en": "Columns", "zh": "列数"},
    "data.format": {"en": "Format", "zh": "格式"},
    "data.encoding": {"en": "Encoding", "zh": "编码"},
    "data.delimiter": {"en": "Delimiter", "zh": "分隔符"},
    "data.detected_delimiter": {"en": "Delimiter: {delimiter}", "zh": "分隔符：{delimiter}"},
    "data.auto_detect": {"en": "Detect automatically", "zh": "自动识别"},
    "data.delim.comma": {"en": "Comma ( , )", "zh": "逗号 ( , )"},
    "data.delim.semicolon": {"en": "Semicolon ( ; )", "zh": "分号 ( ; )"},
    "data.delim.tab": {"en": "Tab", "zh": "制表符"},
    "data.delim.pipe": {"en": "Pipe ( | )", "zh": "竖线 ( | )"},
    "data.read_options": {
        "en": "Preview looks wrong? Change how the file is read",
        "zh": "预览不对？修改读取方式",
    },
    "data.read_options_help": {
        "en": "Garbled characters usually mean a wrong encoding (try GB18030 for Chinese Excel exports); everything in one column means a wrong delimiter.",
        "zh": "出现乱码通常是编码不对（中文 Excel 导出可尝试 GB18030）；所有内容挤在一列通常是分隔符不对。",
    },
    "data.try_override": {
        "en": "If the file is fine, try another encoding or delimiter below.",
        "zh": "如果文件本身没有问题，请在下方尝试其他编码或分隔符。",
    },
    "data.problems": {
        "en": "{n} rows need your attention. They are kept in the results with their reason.",
        "zh": "有 {n} 行需要注意，它们会连同原因保留在结果中。",
    },
    "data.problem_line": {"en": "- {count} × {reason}", "zh": "- {count} 行：{reason}"},
    "data.problem_rows": {"en": "See the affected rows", "zh": "查看受影响的行"},
    "data.download_problems": {"en": "Download affected rows (CSV)", "zh": "下载受影响的行（CSV）"},
    "data.columns_title": {"en": "Columns", "zh": "列"},
    "data.text_column": {"en": "Text to analyse", "zh": "要分析的文本列"},
    "data.text_column_reason": {"en": "Chosen automatically: {reason}", "zh": "自动选择：{reason}"},
    "data.optional_columns": {"en": "Recognised optional columns", "zh": "识别出的可选列"},
    "data.no_optional": {
        "en": "No date, rating, channel, language or id column recognised. Trends need a date column.",
        "zh": "未识别到日期、评分、渠道、语言或编号列。趋势分析需要日期列。",
    },
    "data.role": {"en": "Used as", "zh": "用途"},
    "data.column": {"en": "Column", "zh": "列名"},
    "data.preview": {"en": "Preview (first rows as read)", "zh": "预览（按读取结果显示前几行）"},
    "data.docs_ok": {"en": "{n} texts to analyse", "zh": "{n} 条文本待分析"},
    "data.docs_excluded": {"en": "{n} {reason}", "zh": "{n} 行{reason}"},
    "data.next": {"en": "Continue to the analysis settings", "zh": "继续设置分析"},
    # ---------------------------------------------------------------- reasons (row status, load issues)
    "reason.empty": {"en": "empty (no text)", "zh": "为空（没有文本）"},
    "reason.no_answer": {"en": "no answer (N/A, null, no comment…)", "zh": "未作答（N/A、无、暂无等）"},
    "reason.duplicate": {
        "en": "exact duplicates (they share the topic of their first copy)",
        "zh": "完全重复（与第一条归入同一主题）",
    },
    "reason.bad_line": {"en": "lines that could not be split into columns", "zh": "无法正确拆分成列的行"},
    "reason.undecodable": {"en": "characters that could not be decoded", "zh": "包含无法解码的字符"},
    "reason.control_chars": {"en": "invisible control characters removed", "zh": "已移除不可见控制字符"},
    "reason.truncated": {"en": "very long texts shortened for the model", "zh": "过长文本已为模型截断"},
    "reason.too_long": {"en": "cells longer than the limit", "zh": "单元格超过长度上限"},
    "reason.formula_no_value": {
        "en": "spreadsheet formulas without a saved result (read as empty)",
        "zh": "电子表格公式没有保存的计算结果（按空值读取）",
    },
    # ---------------------------------------------------------------- run page
    "run.title": {"en": "Run the analysis", "zh": "运行分析"},
    "run.intro": {
        "en": "Choose the model and how topics are formed. The run is saved as soon as it finishes.",
        "zh": "选择模型和主题划分方式。运行结束后会立即保存。",
    },
    "run.no_data": {"en": "Load a file first.", "zh": "请先加载文件。"},
    "run.data_line": {
        "en": "Data: **{file}** · {rows} rows · text column **{column}**",
        "zh": "数据：**{file}** · {rows} 行 · 文本列 **{column}**",
    },
    "run.model": {"en": "Embedding model", "zh": "向量模型"},
    "run.taxonomy": {"en": "Topics", "zh": "主题"},
    "run.taxonomy_label": {"en": "Use the topics of an earlier run", "zh": "沿用之前某次运行的主题"},
    "run.taxonomy_none": {"en": "No: find topics afresh", "zh": "不沿用：重新发现主题"},
    "run.taxonomy_run": {
        "en": "{file} · {created} · {topics} topics",
        "zh": "{file} · {created} · {topics} 个主题",
    },
    "run.taxonomy_help": {
        "en": "Rows close enough to a topic of that run keep it (its id, name, theme and your edits); "
        "the rest become new topics. The model is that run's model.",
        "zh": "与该次运行某个主题足够接近的行沿用该主题（编号、名称、主题组和您的编辑）；其余的行成为新主题。"
        "模型沿用该次运行的模型。",
    },
    "run.model_label": {"en": "Model", "zh": "模型"},
    "run.auto_label": {"en": "auto (recommended)", "zh": "auto（推荐）"},
    "run.auto_explained": {
        "en": "**auto** will run **{name}** on this machine: {reason}",
        "zh": "**auto** 将在本机使用 **{name}**：{reason}",
    },
    "run.server_url": {"en": "Server URL (OpenAI-compatible /v1)", "zh": "服务地址（兼容 OpenAI 的 /v1）"},
    "run.server_model": {"en": "Model name on the server", "zh": "服务端模型名称"},
    "run.model_path": {"en": "Local model folder (optional)", "zh": "本地模型目录（可选）"},
    "run.model_path_help": {
        "en": "Leave empty to use the Qwen3-Embedding weights found in the local cache.",
        "zh": "留空则使用本地缓存中的 Qwen3-Embedding 权重。",
    },
    "run.clustering": {"en": "Topics", "zh": "主题划分"},
    "run.clusterer": {"en": "Method", "zh": "方法"},
    "run.clusterer.kmeans": {"en": "K-Means", "zh": "K-Means"},
    "run.clusterer.hdbscan": {"en": "HDBSCAN", "zh": "HDBSCAN"},
    "run.clusterer.kmeans.help": {
        "en": "Every text gets a topic. The number of topics is chosen for you unless you set it.",
        "zh": "每条文本都会归入一个主题；除非手动设置，主题数量会自动确定。",
    },
    "run.clusterer.hdbscan.help": {
        "en": "Finds dense topics of any size and leaves unusual texts as outliers.",
        "zh": "发现任意大小的密集主题，并把不寻常的文本标记为离群点。",
    },
    "run.auto_topics": {"en": "Choose the number of topics automatically", "zh": "自动确定主题数量"},
    "run.n_topics": {"en": "Number of topics", "zh": "主题数量"},
    "run.auto_min_size": {"en": "Choose the minimum topic size automatically", "zh": "自动确定最小主题规模"},
    "run.min_size": {"en": "Minimum topic size", "zh": "最小主题规模"},
    "run.assign_outliers": {"en": "Give outliers their nearest topic", "zh": "将离群点归入最近的主题"},
    "run.seed": {"en": "Seed", "zh": "随机种子"},
    "run.seed_help": {"en": "The same seed gives the same topics.", "zh": "相同的种子会得到相同的主题。"},
    "run.umap_fit_rows": {"en": "Map fitted on (texts)", "zh": "地图拟合样本量（条）"},
    "run.umap_fit_rows_help": {
        "en": "UMAP is fitted on this many texts and every other text is placed beside its nearest "
        "fitted neighbours. More keeps finer topics and takes longer (about twice as long for twice "
        "as many).",
        "zh": "UMAP 只在这么多条文本上拟合，其余文本放在与其最相近的已拟合文本旁边。数量越多，"
        "主题越细，耗时越长（数量翻倍，时间约翻倍）。",
    },
    "run.start": {"en": "Start the analysis", "zh": "开始分析"},
    "run.running": {"en": "Analysing {file}…", "zh": "正在分析 {file}…"},
    "run.elapsed": {"en": "{s} s elapsed", "zh": "已用 {s} 秒"},
    "run.stage_count": {"en": "{stage}: {done} / {total}", "zh": "{stage}：{done} / {total}"},
    "run.cancel": {"en": "Cancel", "zh": "取消"},
    "run.queued": {
        "en": "Waiting for a free worker: number {position} of {total} in the queue. It starts by itself.",
        "zh": "正在等待空闲的计算进程：排队第 {position} 位（共 {total} 位），轮到时会自动开始。",
    },
    "run.cancelling": {"en": "Cancelling…", "zh": "正在取消…"},
    "run.cancelled": {
        "en": "The run was cancelled. Nothing was saved.",
        "zh": "运行已取消，未保存任何结果。",
    },
    "run.done": {"en": "Analysis finished in {s} s and saved.", "zh": "分析完成，用时 {s} 秒，已保存。"},
    "run.failed.memory": {
        "en": "The run needed more memory than this machine has. Try a smaller file.",
        "zh": "运行所需内存超过本机可用内存，请尝试更小的文件。",
    },
    "run.failed.other": {
        "en": "The run stopped because of an internal error. The details were logged.",
        "zh": "运行因内部错误而停止，详细信息已记录到日志。",
    },
    "run.open_run": {"en": "Open analysis", "zh": "当前分析"},
    "run.model_used": {"en": "Model", "zh": "模型"},
    "run.device": {"en": "Device", "zh": "设备"},
    "run.duration": {"en": "Run time", "zh": "运行时间"},
    "run.see_topics": {"en": "See the topics", "zh": "查看主题"},
    "run.source": {"en": "Data to analyse", "zh": "要分析的数据"},
    "run.source.upload": {"en": "The loaded file: {file}", "zh": "已加载的文件：{file}"},
    "run.source.rerun": {
        "en": "Re-run this data with new settings: {run}",
        "zh": "用新的设置重新分析这份数据：{run}",
    },
    "run.rerun_title": {"en": "Re-run this data with new settings", "zh": "用新的设置重新分析这份数据"},
    "run.rerun_intro": {
        "en": "The {rows} rows of **{file}**, as this run read them, are analysed again with the "
        "settings below: no upload needed. The new run is saved beside this one, which stays as it "
        "is. Edits are not carried over; to keep this run's topics and names, choose it under Topics.",
        "zh": "按本次运行读取的 **{file}** 的 {rows} 行数据，用下面的设置重新分析，无需再次上传。"
        "新运行另存一份，本次运行保持不变。编辑不会沿用；如需保留本次运行的主题和名称，请在“主题”中选择本次运行。",
    },
    "run.rerun_before": {"en": "This run used: {settings}", "zh": "本次运行的设置：{settings}"},
    "run.rerun_column": {"en": "Text column", "zh": "文本列"},
    "run.rerun_start": {"en": "Re-run with these settings", "zh": "按这些设置重新运行"},
    "run.rerun_unavailable": {
        "en": "This run's folder no longer holds its data, so it cannot be re-run; load the file again.",
        "zh": "该运行的文件夹中已没有其数据，无法重新运行；请重新加载文件。",
    },
    "run.rerun_of": {
        "en": "Re-run of **{run}** · changed: {changed}",
        "zh": "重新运行自 **{run}** · 改动：{changed}",
    },
    "run.rerun_same": {"en": "nothing (same settings)", "zh": "无（设置相同）"},
    "edits.changed_elsewhere": {
        "en": "Another analyst changed this run since you opened it ({n} change(s)). "
        "Load the latest version to see them; your own next edit is merged with them when it "
        "touches other topics.",
        "zh": "自你打开以来，另一位分析师修改了本次分析（{n} 处）。请加载最新版本查看；"
        "你的下一次修改若涉及其他主题，会与其合并保存。",
    },
    "edits.reload": {"en": "Load the latest version", "zh": "加载最新版本"},
    "edits.merged_with_others": {
        "en": "Saved together with {n} change(s) another analyst made meanwhile (now shown).",
        "zh": "已与另一位分析师同时所做的 {n} 处修改合并保存（现已显示）。",
    },
    "edits.conflict": {
        "en": "Not saved: another analyst changed topic {topics} since you loaded this run. "
        "The latest version is now shown; check it and make your change again if still needed.",
        "zh": "未保存：自你加载以来，另一位分析师修改了主题 {topics}。现已显示最新版本；"
        "请查看后如仍需要再修改一次。",
    },
    "edits.undo_blocked": {
        "en": "Not undone: another analyst has since changed topic {topics}, which your last edit "
        "also changed. Undoing yours alone would change their work; the latest version is shown.",
        "zh": "未撤销：另一位分析师之后也修改了主题 {topics}（你上一次修改涉及的主题）。"
        "单独撤销会改变对方的工作；现已显示最新版本。",
    },
    "edits.nothing_to_undo": {
        "en": "You have no edit of your own to undo in this run (other analysts' edits stay).",
        "zh": "本次分析中没有你自己的修改可撤销（其他分析师的修改保持不变）。",
    },
    "edits.undo_would": {
        "en": "Undo would cancel your last edit: {what}",
        "zh": "撤销将取消你上一次的修改：{what}",
    },
    "stage.load": {"en": "Reading the file", "zh": "读取文件"},
    "stage.documents": {"en": "Preparing texts", "zh": "准备文本"},
    "stage.embed": {"en": "Embedding", "zh": "生成向量"},
    "stage.reduce": {"en": "Building the map", "zh": "降维建图"},
    "stage.cluster": {"en": "Finding topics", "zh": "发现主题"},
    "stage.keywords": {"en": "Extracting keywords", "zh": "提取关键词"},
    "stage.languages": {"en": "Detecting languages", "zh": "识别语言"},
    "stage.multi_topic": {"en": "Several topics per row", "zh": "每行多个主题"},
    "stage.report": {"en": "Writing the report", "zh": "生成报告"},
    "stage.save": {"en": "Saving the run", "zh": "保存结果"},
    # ---------------------------------------------------------------- topics page
    "themes.title": {"en": "Themes", "zh": "主题大类"},
    "themes.intro": {
        "en": "The overview above topics: each theme groups related topics. Pick one to see its topics.",
        "zh": "主题之上的总览：每个大类汇集相关的主题。选择一个大类查看其主题。",
    },
    "themes.none": {
        "en": "This run was saved before themes existed; run the analysis again to get them.",
        "zh": "该运行保存于大类功能之前；重新运行分析即可得到大类。",
    },
    "themes.outliers": {"en": "Outliers", "zh": "离群"},
    "themes.m_themes": {"en": "Themes", "zh": "大类数"},
    "themes.col_n_topics": {"en": "Topics", "zh": "主题数"},
    "themes.col_topics": {"en": "Its topics", "zh": "包含的主题"},
    "themes.detail_title": {"en": "Topics of a theme", "zh": "大类中的主题"},
    "themes.pick": {"en": "Theme", "zh": "大类"},
    "themes.rename_title": {"en": "Rename a theme", "zh": "重命名大类"},
    "themes.renamed": {"en": "Theme renamed and saved.", "zh": "大类已重命名并保存。"},
    "themes.merge_title": {"en": "Merge themes", "zh": "合并大类"},
    "themes.merge_pick": {"en": "Themes to merge (two or more)", "zh": "要合并的大类（两个或以上）"},
    "themes.merge_need_two": {
        "en": "Choose at least two themes to merge.",
        "zh": "请至少选择两个大类进行合并。",
    },
    "themes.merge_name": {"en": "Name of the merged theme", "zh": "合并后的大类名称"},
    "themes.merged": {"en": "Themes merged and saved.", "zh": "大类已合并并保存。"},
    "topics.title": {"en": "Topics", "zh": "主题"},
    "topics.intro": {
        "en": "What customers talk about. Rename topics in the table, merge related ones, and open any topic for detail.",
        "zh": "客户在谈论什么。可在表格中直接重命名主题、合并相关主题，并查看任一主题的详情。",
    },
    "topics.m_rows": {"en": "Rows", "zh": "总行数"},
    "topics.m_analysed": {"en": "Texts analysed", "zh": "已分析文本"},
    "topics.m_topics": {"en": "Topics", "zh": "主题数"},
    "topics.m_outliers": {"en": "Outliers", "zh": "离群占比"},
    "topics.m_languages": {"en": "Languages", "zh": "语言数"},
    "topics.languages_line": {"en": "Languages: {langs}", "zh": "语言分布：{langs}"},
    "topics.table_title": {"en": "All topics", "zh": "全部主题"},
    "topics.table_hint": {
        "en": "Double-click a name to rename it. Every edit is saved with the run and can be undone.",
        "zh": "双击名称即可重命名。所有修改都会随运行保存，并可撤销。",
    },
    "topics.col_id": {"en": "ID", "zh": "编号"},
    "topics.col_name": {"en": "Name", "zh": "名称"},
    "topics.col_name_help": {"en": "Double-click to rename", "zh": "双击重命名"},
    "topics.col_size": {"en": "Rows", "zh": "行数"},
    "topics.col_share": {"en": "Share", "zh": "占比"},
    "topics.col_keywords": {"en": "Top keywords", "zh": "关键词"},
    "topics.col_languages": {"en": "Languages", "zh": "语言"},
    "topics.col_keywords_original": {"en": "Keywords (texts' languages)", "zh": "关键词（原文语言）"},
    "topics.label_language": {"en": "Topic names in", "zh": "主题名称语言"},
    "topics.label_language_help": {
        "en": "Names and keywords are shown in this language, whatever languages the texts are in. "
        "Switching re-uses the run's embeddings; nothing is re-embedded.",
        "zh": "无论原文是什么语言，主题名称和关键词都以此语言显示。切换时复用本次运行的向量，不会重新计算嵌入。",
    },
    "topics.label_method": {
        "en": "Names in {lang} · method: {method}",
        "zh": "名称语言：{lang} · 方法：{method}",
    },
    "topics.relabelling": {"en": "Naming topics in {lang}…", "zh": "正在以 {lang} 命名主题…"},
    "topics.relabel_failed": {
        "en": "Topics could not be named in {lang}: {error}",
        "zh": "无法以 {lang} 命名主题：{error}",
    },
    "common.coverage_warning": {"en": "Language coverage: {warning}", "zh": "语言覆盖提示：{warning}"},
    "topics.outliers": {"en": "Outliers", "zh": "离群点"},
    "topics.rename_title": {"en": "Rename a topic", "zh": "重命名主题"},
    "topics.topic": {"en": "Topic", "zh": "主题"},
    "topics.new_name": {"en": "New name", "zh": "新名称"},
    "topics.rename": {"en": "Rename", "zh": "重命名"},
    "topics.rename_empty": {"en": "Type a name first.", "zh": "请先输入名称。"},
    "topics.renamed": {"en": "Topic renamed and saved.", "zh": "主题已重命名并保存。"},
    "topics.merge_title": {"en": "Merge topics", "zh": "合并主题"},
    "topics.merge_pick": {"en": "Topics to merge (two or more)", "zh": "要合并的主题（两个或以上）"},
    "topics.merge_pick_ph": {"en": "Choose topics", "zh": "选择主题"},
    "topics.merge_name": {"en": "Name of the merged topic", "zh": "合并后的名称"},
    "topics.merge_name_ph": {"en": "Leave empty to name it from its keywords", "zh": "留空则根据关键词命名"},
    "topics.merge": {"en": "Merge", "zh": "合并"},
    "topics.merge_need_two": {
        "en": "Pick at least two topics to merge.",
        "zh": "请至少选择两个主题进行合并。",
    },
    "topics.merged": {
        "en": "Topics merged; keywords and examples recomputed and saved.",
        "zh": "主题已合并，关键词和示例已重新计算并保存。",
    },
    "topics.undo": {"en": "Undo last edit", "zh": "撤销上一步"},
    "topics.undone": {"en": "Last edit undone.", "zh": "已撤销上一步修改。"},
    "topics.history": {"en": "Edit history ({n})", "zh": "修改记录（{n}）"},
    "topics.hist_edit": {"en": "Edit", "zh": "操作"},
    "topics.hist_merge": {"en": "merged topics {ids}", "zh": "合并主题 {ids}"},
    "topics.hist_rename": {"en": "renamed topic {id}", "zh": "重命名主题 {id}"},
    "topics.detail_title": {"en": "Topic detail", "zh": "主题详情"},
    "topics.detail_pick": {"en": "Topic", "zh": "主题"},
    "topics.tab_keywords": {"en": "Keywords", "zh": "关键词"},
    "topics.tab_examples": {"en": "Representative examples", "zh": "代表性示例"},
    "topics.tab_texts": {"en": "All texts", "zh": "全部文本"},
    "topics.tab_mix": {"en": "Breakdown", "zh": "分布"},
    "topics.keyword_weight": {"en": "Weight (class-based TF-IDF)", "zh": "权重（基于类别的 TF-IDF）"},
    "topics.no_keywords": {"en": "No keywords for this topic.", "zh": "此主题没有关键词。"},
    "topics.example_row": {"en": "Row {row}", "zh": "第 {row} 行"},
    "topics.says_this": {"en": "{n:,} texts say this", "zh": "{n:,} 条反馈说的是这件事"},
    "topics.collapse_nd": {"en": "Count near-duplicates once", "zh": "近似重复只计一次"},
    "topics.collapse_nd_help": {
        "en": "{groups:,} groups of texts say the same thing in other words ({rows:,} rows). On: each "
        "group counts as one row in sizes and shares, and examples show one text per group. Off: "
        "every row counts. Nothing is deleted; switch back at any time.",
        "zh": "{groups:,} 组文本用不同说法表达同一件事（共 {rows:,} 行）。开启：每组在数量和占比中只计一行，"
        "示例每组只显示一条。关闭：每行都计数。不会删除任何内容，可随时切换。",
    },
    "topics.collapsed_note": {
        "en": "Near-duplicates counted once: {rows:,} rows are folded into their group's count.",
        "zh": "近似重复只计一次：{rows:,} 行已并入所属组的计数。",
    },
    "topics.filter_texts": {"en": "Filter texts", "zh": "筛选文本"},
    "topics.filter_ph": {"en": "Words to look for", "zh": "输入要查找的词"},
    "topics.n_texts": {"en": "{n} texts", "zh": "{n} 条文本"},
    "topics.share_topic": {"en": "Share in topic", "zh": "主题内占比"},
    "topics.share_all": {"en": "Share overall", "zh": "总体占比"},
    # ---------------------------------------------------------------- map page
    "map.title": {"en": "Topic map", "zh": "主题地图"},
    "map.intro": {
        "en": "Each dot is a piece of feedback; similar feedback sits close together. Draw a box or lasso to list what is inside.",
        "zh": "每个点代表一条反馈，相似的反馈彼此靠近。用框选或套索选择区域即可列出其中的反馈。",
    },
    "map.colour_by": {"en": "Colour by", "zh": "着色依据"},
    "role.sentiment": {"en": "Sentiment", "zh": "情感"},
    "sentiment.negative": {"en": "Negative", "zh": "负面"},
    "sentiment.neutral": {"en": "Neutral", "zh": "中性"},
    "sentiment.positive": {"en": "Positive", "zh": "正面"},
    "sentiment.sentiment_negative_share": {"en": "Negative", "zh": "负面"},
    "sentiment.sentiment_neutral_share": {"en": "Neutral", "zh": "中性"},
    "sentiment.sentiment_positive_share": {"en": "Positive", "zh": "正面"},
    "sentiment.mean_score": {"en": "Mean sentiment score", "zh": "平均情感分"},
    "sentiment.rating_title": {"en": "Sentiment and {column}", "zh": "情感与 {column}"},
    "sentiment.rating_line": {
        "en": "{agree} of the {n} rows with a low or high rating that were called negative or positive "
        "agree with the rating; rank correlation of rating and score: {rho}.",
        "zh": "在 {n} 条评分偏低或偏高、且判为负面或正面的反馈中，{agree} 与评分一致；评分与情感分的秩相关：{rho}。",
    },
    "map.labels_capped": {
        "en": "Labels mark the {n} largest topics and the legend lists the largest; hover any point for its topic, or colour by theme for the overview.",
        "zh": "标签只标出最大的 {n} 个主题，图例只列出最大的主题；悬停查看每个点的主题，或按大类着色查看总览。",
    },
    "map.empty": {"en": "This run has no map points.", "zh": "此运行没有可显示的点。"},
    "map.sampled": {
        "en": "Drawing {drawn} of {total} points for speed; selections always count every point.",
        "zh": "为保证速度仅绘制 {total} 个点中的 {drawn} 个；选择结果始终统计全部点。",
    },
    "map.selection_title": {"en": "Selected feedback: {n}", "zh": "已选反馈：{n}"},
    "map.selection_hint": {
        "en": "Use the box or lasso tool above the map to select an area.",
        "zh": "使用地图上方的框选或套索工具选择一个区域。",
    },
    "map.selection_capped": {"en": "Showing the first {n} selected rows.", "zh": "仅显示前 {n} 条已选行。"},
    # ---------------------------------------------------------------- search page
    "search.title": {"en": "Search feedback", "zh": "搜索反馈"},
    "search.intro": {
        "en": "Describe what you are looking for in any language; results are ranked by meaning and words "
        "(or pick Exact phrase), identical texts shown once with a count.",
        "zh": "用任意语言描述要找的内容，结果按语义和词语排序（或选择精确短语），相同文本只显示一次并计数。",
    },
    "search.query": {"en": "What are you looking for?", "zh": "要查找什么？"},
    "search.placeholder": {
        "en": "e.g. refund not received / 退款没到账",
        "zh": "例如：退款没到账 / refund not received",
    },
    "search.top_k": {"en": "Results", "zh": "结果数"},
    "search.go": {"en": "Search", "zh": "搜索"},
    "search.hint": {"en": "Type a query and press Search.", "zh": "输入查询内容并点击搜索。"},
    "search.loading_model": {"en": "Loading {name}…", "zh": "正在加载 {name}…"},
    "search.n_results": {
        "en": "{n} most similar texts (model: {model})",
        "zh": "最相似的 {n} 条文本（模型：{model}）",
    },
    "search.similarity": {"en": "Similarity", "zh": "相似度"},
    "search.mode": {"en": "Match", "zh": "匹配方式"},
    "search.mode_hybrid": {"en": "Meaning + words", "zh": "语义 + 词语"},
    "search.mode_dense": {"en": "Meaning", "zh": "语义"},
    "search.mode_lexical": {"en": "Words", "zh": "词语"},
    "search.mode_exact": {"en": "Exact phrase", "zh": "精确短语"},
    "search.filters": {"en": "Filters and options", "zh": "筛选与选项"},
    "search.theme": {"en": "Theme", "zh": "主题组"},
    "search.polarity": {
        "en": "Match the query's sense (a complaint finds complaints, praise finds praise)",
        "zh": "匹配查询的倾向（投诉找投诉，好评找好评）",
    },
    "search.collapse": {"en": "Show identical texts once, with a count", "zh": "相同文本只显示一次并计数"},
    "search.count": {"en": "Texts", "zh": "条数"},
    "search.count_help": {"en": "Rows that say exactly this", "zh": "内容完全相同的行数"},
    "search.near_duplicates": {"en": "Say this", "zh": "同义条数"},
    "search.near_duplicates_help": {
        "en": "Texts that say this, in these or other words (its near-duplicate group)",
        "zh": "用相同或不同说法表达这件事的文本数（近似重复组）",
    },
    # ---------------------------------------------------------------- trends page
    "trends.title": {"en": "Trends", "zh": "趋势"},
    "trends.intro": {
        "en": "How much each topic is talked about over time, and which topics are growing.",
        "zh": "各主题随时间的讨论量，以及哪些主题正在增长。",
    },
    "trends.no_date": {
        "en": "No date column was recognised. Pick the column that holds dates.",
        "zh": "未识别到日期列，请选择包含日期的列。",
    },
    "trends.date_column": {"en": "Date column", "zh": "日期列"},
    "trends.pick_date": {"en": "Choose the date column", "zh": "请选择日期列"},
    "trends.not_dates": {
        "en": "The column {column} holds no dates that could be read; choose another column.",
        "zh": "列 {column} 中没有可识别的日期，请选择其他列。",
    },
    "trends.freq": {"en": "Period", "zh": "周期"},
    "trends.freq.D": {"en": "Day", "zh": "日"},
    "trends.freq.W": {"en": "Week", "zh": "周"},
    "trends.freq.M": {"en": "Month", "zh": "月"},
    "trends.measure": {"en": "Show", "zh": "显示"},
    "trends.count": {"en": "Rows", "zh": "条数"},
    "trends.share": {"en": "Share", "zh": "占比"},
    "trends.top": {"en": "Topics", "zh": "主题数"},
    "trends.growing_title": {
        "en": "Growing fastest in the latest period (from {period})",
        "zh": "最近一个周期（自 {period} 起）增长最快",
    },
    "trends.topic_n": {"en": "Topic {id}", "zh": "主题 {id}"},
    "trends.growing_help": {
        "en": "{prev} rows in the previous period, {now} in the latest.",
        "zh": "上一周期 {prev} 条，最近一个周期 {now} 条。",
    },
    "trends.no_growth": {"en": "No topic grew in the latest period.", "zh": "最近一个周期没有主题增长。"},
    "trends.table": {"en": "Numbers per period", "zh": "各周期数据"},
    "trends.alerts": {
        "en": "Alerts: {n} topics out of their usual range",
        "zh": "预警：{n} 个主题超出常规范围",
    },
    "trends.alerts_help": {
        "en": "The latest period against the one before (two-proportion z-test, p_value) and against "
        "the mean of up to 6 periods before it: an alert when it lies beyond 2 standard deviations.",
        "zh": "最近一个周期与前一周期比较（双比例 z 检验，p_value），并与之前最多 6 个周期的均值比较："
        "超出 2 个标准差即预警。",
    },
    "trends.taxonomy_title": {"en": "Compared with run {run}", "zh": "与运行 {run} 比较"},
    "trends.taxonomy_help": {
        "en": "This run kept the topics of an earlier run. Share then and now per topic, with a "
        "two-proportion z-test (significant: p < 0.05); new topics have no share before.",
        "zh": "本次运行沿用了之前运行的主题。每个主题之前与现在的占比，附双比例 z 检验（p < 0.05 为显著）；"
        "新主题没有之前的占比。",
    },
    "run.multi_topic": {"en": "Several topics per row", "zh": "每行可属于多个主题"},
    "run.multi_topic_help": {
        "en": "Split long texts into sentences and clauses and count a row in every topic it raises (its main topic stays). "
        "Embeds the parts too, so it takes longer.",
        "zh": "把长文本拆成句子和分句，并把一行计入它提到的每个主题（主要主题不变）。各部分也要向量化，因此耗时更长。",
    },
    "topics.col_mentions": {"en": "Mentions", "zh": "提及"},
    "topics.col_mentions_help": {
        "en": "Rows that raise the topic, as their main topic or as one of their other topics (long texts split into parts).",
        "zh": "提到该主题的行数：作为主要主题或其他主题（长文本按句子拆分）。",
    },
    "topics.breakdown_other": {"en": "Break down by another column", "zh": "按其他列细分"},
    # ---------------------------------------------------------------- drivers page
    "drivers.title": {"en": "Drivers and segments", "zh": "驱动因素与细分"},
    "drivers.intro": {
        "en": "Which topics pull the rating down most, and which topics a segment talks about more or less than others.",
        "zh": "哪些主题最拉低评分，以及某个细分群体比其他人更多或更少谈到哪些主题。",
    },
    "drivers.rating_column": {"en": "Rating or NPS column", "zh": "评分或 NPS 列"},
    "drivers.pick_rating": {"en": "Choose the rating column", "zh": "请选择评分列"},
    "drivers.no_rating": {
        "en": "No column looks like a rating. Choose the column with stars, scores or a 0-10 NPS answer.",
        "zh": "没有看起来像评分的列。请选择星级、分数或 0-10 NPS 回答所在的列。",
    },
    "drivers.not_ratings": {
        "en": "The column {column} holds too few numbers to be a rating; choose another column.",
        "zh": "列 {column} 中的数字太少，不能作为评分；请选择其他列。",
    },
    "drivers.scale": {"en": "Score", "zh": "计分"},
    "drivers.scale.auto": {"en": "Auto", "zh": "自动"},
    "drivers.scale.mean": {"en": "Mean", "zh": "平均分"},
    "drivers.scale.nps": {"en": "NPS", "zh": "NPS"},
    "drivers.unit.mean": {"en": "rating points", "zh": "评分点"},
    "drivers.unit.nps": {"en": "NPS points", "zh": "NPS 点"},
    "drivers.overall.mean": {"en": "Mean rating", "zh": "平均评分"},
    "drivers.overall.nps": {"en": "NPS", "zh": "NPS"},
    "drivers.overall_ci": {"en": "95% interval", "zh": "95% 置信区间"},
    "drivers.rated": {"en": "Rated rows", "zh": "有评分的行"},
    "drivers.how": {
        "en": "{scale}. Impact: how many {unit} the overall score would gain without the topic's complaints (its rows below neutral).",
        "zh": "{scale}。影响：如果没有该主题的投诉（低于中性的行），总分会提高多少{unit}。",
    },
    "drivers.unreadable": {
        "en": "{n} cells are not a rating on this scale and are left out.",
        "zh": "{n} 个单元格不是该量表上的评分，已忽略。",
    },
    "drivers.chart_impact": {"en": "Impact on the score ({unit})", "zh": "对总分的影响（{unit}）"},
    "drivers.chart_score": {
        "en": "Topic score, 95% interval ({unit})",
        "zh": "主题得分及 95% 区间（{unit}）",
    },
    "drivers.col_mean": {"en": "Topic score", "zh": "主题得分"},
    "drivers.col_rest": {"en": "Score of the rest", "zh": "其余得分"},
    "drivers.col_impact": {"en": "Impact", "zh": "影响"},
    "drivers.segments": {"en": "Segments", "zh": "细分"},
    "drivers.segments_help": {
        "en": "Compare two values of any column (country, product, plan, channel…): the share of each segment's rows in each topic, "
        "with a two-proportion z-test corrected for the number of topics.",
        "zh": "比较任意列（国家、产品、套餐、渠道…）的两个取值：每个细分中各主题所占的比例，并对主题数量做多重检验校正的双比例 z 检验。",
    },
    "drivers.no_segments": {
        "en": "No column has between 2 and 50 distinct values to compare.",
        "zh": "没有取值个数在 2 到 50 之间、可供比较的列。",
    },
    "drivers.segment_column": {"en": "Segment column", "zh": "细分列"},
    "drivers.segment_a": {"en": "Segment A", "zh": "细分 A"},
    "drivers.segment_b": {"en": "Against", "zh": "对比"},
    "drivers.rest": {"en": "(all other rows)", "zh": "（其余所有行）"},
    "drivers.correction": {"en": "Correction", "zh": "校正"},
    "drivers.corr.holm": {"en": "Holm", "zh": "Holm"},
    "drivers.corr.bh": {"en": "Benjamini-Hochberg", "zh": "Benjamini-Hochberg"},
    "drivers.segment_summary": {
        "en": "**{a}** against **{b}**: {over} topics significantly over-indexed, {under} under-indexed.",
        "zh": "**{a}** 对比 **{b}**：{over} 个主题显著偏高，{under} 个显著偏低。",
    },
    "drivers.share_diff": {"en": "Share in A minus share in B (pp)", "zh": "A 中占比减 B 中占比（百分点）"},
    "drivers.breakdown": {"en": "Every topic by every segment", "zh": "各主题在各细分中的占比"},
    # ---------------------------------------------------------------- export page
    "export.title": {"en": "Export", "zh": "导出"},
    "export.intro": {
        "en": "Download the topic report with your names and merges applied. Files are safe to open in Excel and browsers.",
        "zh": "下载包含您所做命名和合并的主题报告。文件可安全地在 Excel 和浏览器中打开。",
    },
    "export.edits_applied": {
        "en": "Your {n} edits are applied to every file.",
        "zh": "您的 {n} 处修改已应用到所有文件。",
    },
    "export.download": {"en": "Download ({size})", "zh": "下载（{size}）"},
    "export.html.title": {"en": "Report (HTML)", "zh": "报告（HTML）"},
    "export.html.help": {
        "en": "A self-contained page with the map, topic sizes, keywords and examples. Opens in any browser, offline.",
        "zh": "独立网页，包含地图、主题规模、关键词和示例，可离线在任意浏览器打开。",
    },
    "export.xlsx.title": {"en": "Workbook (Excel)", "zh": "工作簿（Excel）"},
    "export.xlsx.help": {
        "en": "Topics and every row's topic, one sheet each.",
        "zh": "主题表和每行的主题归属，各占一个工作表。",
    },
    "export.csv.title": {"en": "Topics (CSV)", "zh": "主题表（CSV）"},
    "export.csv.help": {
        "en": "One row per topic: name, size, share, keywords, examples.",
        "zh": "每个主题一行：名称、规模、占比、关键词、示例。",
    },
    "export.assignments.title": {"en": "Rows with topics (CSV)", "zh": "逐行主题（CSV）"},
    "export.assignments.help": {
        "en": "Every input row with its topic, language and status.",
        "zh": "每个输入行及其主题、语言和状态。",
    },
    "export.json.title": {"en": "Data (JSON)", "zh": "数据（JSON）"},
    "export.json.help": {
        "en": "Topics and run settings for other tools.",
        "zh": "供其他工具使用的主题和运行设置。",
    },
    "export.saved_at": {"en": "This run is saved in {path}", "zh": "此运行保存在 {path}"},
    # ---------------------------------------------------------------- runs page
    "runs.title": {"en": "Earlier runs", "zh": "历史运行"},
    "runs.intro": {
        "en": "Every finished run is saved with its edits. Reopen one to continue where you left off.",
        "zh": "每次完成的运行及其修改都已保存。重新打开即可继续之前的工作。",
    },
    "runs.workspace": {"en": "Workspace: {path}", "zh": "工作目录：{path}"},
    "runs.none": {"en": "No saved runs yet.", "zh": "还没有保存的运行。"},
    "runs.col_run": {"en": "Run", "zh": "运行"},
    "runs.col_created": {"en": "Created", "zh": "创建时间"},
    "runs.col_file": {"en": "File", "zh": "文件"},
    "runs.col_edits": {"en": "Edits", "zh": "修改数"},
    "runs.pick": {"en": "Run to open", "zh": "要打开的运行"},
    "runs.open": {"en": "Open", "zh": "打开"},
    "runs.is_open": {"en": "Already open", "zh": "已打开"},
    "runs.opened": {"en": "Opened {run}.", "zh": "已打开 {run}。"},
    "runs.missing": {"en": "That run no longer exists in the workspace.", "zh": "该运行已不在工作目录中。"},
    "runs.unreadable": {
        "en": "That run could not be read; it may be from an older version.",
        "zh": "无法读取该运行，可能来自旧版本。",
    },
}


CURATE_STRINGS: dict[str, dict[str, str]] = {
    "curate.title": {"en": "Curate topics", "zh": "整理主题"},
    "curate.undo_n": {"en": "Undo ({n})", "zh": "撤销（{n}）"},
    "curate.redo_n": {"en": "Redo ({n})", "zh": "重做（{n}）"},
    "curate.redone": {"en": "Edit redone:", "zh": "已重做："},
    "curate.nothing_to_redo": {"en": "There is no undone edit of yours to redo.", "zh": "没有可重做的修改。"},
    "curate.not_relevant": {"en": "Not relevant", "zh": "不相关"},
    "curate.new_topic": {"en": "A new topic", "zh": "新主题"},
    "curate.split_title": {"en": "Split a topic", "zh": "拆分主题"},
    "curate.split_n": {"en": "Into", "zh": "拆分为"},
    "curate.split_auto": {"en": "auto (best silhouette)", "zh": "自动（轮廓系数最佳）"},
    "curate.split_help": {
        "en": "Re-clusters the topic's texts; the largest part keeps the topic's id.",
        "zh": "重新聚类该主题的文本；最大的部分保留原编号。",
    },
    "curate.split": {"en": "Split", "zh": "拆分"},
    "curate.split_done": {"en": "Topic split and saved.", "zh": "主题已拆分并保存。"},
    "curate.delete_title": {"en": "Delete a topic", "zh": "删除主题"},
    "curate.delete_to": {"en": "Its rows become", "zh": "其文本归为"},
    "curate.to_outliers": {"en": "outliers", "zh": "离群点"},
    "curate.to_not_relevant": {"en": "not relevant", "zh": "不相关"},
    "curate.delete": {"en": "Delete", "zh": "删除"},
    "curate.delete_done": {"en": "Topic deleted and saved.", "zh": "主题已删除并保存。"},
    "curate.seed_title": {"en": "Seed a topic", "zh": "用示例创建主题"},
    "curate.seed_name": {"en": "Name", "zh": "名称"},
    "curate.seed_phrases": {"en": "Example phrases (one per line)", "zh": "示例短语（每行一条）"},
    "curate.seed_phrases_ph": {
        "en": "I want my money back\nrefund still missing",
        "zh": "我要退款\n退款还没到",
    },
    "curate.seed_threshold": {
        "en": "Texts at cosine {value} or more to the phrases join (derived from this run's topics).",
        "zh": "与示例余弦相似度不低于 {value} 的文本会加入（阈值由本次运行的主题得出）。",
    },
    "curate.seed": {"en": "Create topic", "zh": "创建主题"},
    "curate.seed_need": {"en": "Give a name and at least one phrase.", "zh": "请填写名称和至少一条短语。"},
    "curate.seed_done": {"en": "Seeded topic created and saved.", "zh": "示例主题已创建并保存。"},
    "curate.move_title": {"en": "Move the {n} selected rows", "zh": "移动选中的 {n} 行"},
    "curate.move_hint": {
        "en": "Select rows in the table (or with the lasso on the map) to move them.",
        "zh": "在表格中（或在地图上用套索）选中行即可移动。",
    },
    "curate.move_to": {"en": "To", "zh": "移动到"},
    "curate.move_name": {"en": "Name of the new topic", "zh": "新主题名称"},
    "curate.move": {"en": "Move", "zh": "移动"},
    "curate.move_done": {"en": "Rows moved and saved.", "zh": "已移动并保存。"},
    "curate.hist_split": {"en": "split topic {id} ({n})", "zh": "拆分主题 {id}（{n}）"},
    "curate.hist_move": {"en": "moved {n} rows to {to}", "zh": "将 {n} 行移动到 {to}"},
    "curate.hist_delete": {"en": "deleted topic {id} (rows: {to})", "zh": "删除主题 {id}（文本：{to}）"},
    "curate.hist_seed": {"en": "seeded a topic from {n} phrases", "zh": "用 {n} 条短语创建主题"},
    "curate.hist_theme": {"en": "edited themes", "zh": "修改主题大类"},
}
STRINGS.update(CURATE_STRINGS)


class Translator:
    """``t(key, **values)``: the string for the session's language."""

    def __call__(self, key: str, **values: Any) -> str:
        entry = STRINGS.get(key)
        if entry is None:
            return key
        text = entry.get(current_language()) or entry.get("en") or key
        return text.format(**values) if values else text

    def reason(self, code: str) -> str:
        """Plain words for a row status or load-issue code (``duplicate_of:3`` -> duplicates)."""
        base = str(code).split(":", 1)[0].replace("duplicate_of", "duplicate")
        key = f"reason.{base}"
        return self(key) if key in STRINGS else base.replace("_", " ")


def current_language() -> str:
    try:
        from dashboard import state

        return state.lang()
    except Exception:  # outside a Streamlit session
        return "en"


t = Translator()

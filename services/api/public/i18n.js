// Console strings: Simplified Chinese first (the review floor), English for the rest.
export const STRINGS = {
  zh: {
    brand: "垃圾短信审核台", "nav.queue": "审核队列", "nav.analytics": "数据分析", "nav.audit": "审计日志", "nav.api": "API 文档",
    logout: "退出", "login.title": "登录审核台", "login.user": "用户名", "login.pass": "密码", "login.go": "登录", "login.bad": "用户名或密码错误",
    "login.rate": "尝试次数过多，请稍后再试",
    "q.title": "待审核案件", "q.total": "共 {n} 件", "q.next": "领取下一件", "q.none": "队列已清空", "q.status": "状态", "q.open": "待审", "q.escalated": "已升级",
    "q.source": "来源", "q.all": "全部", "q.category": "类别", "q.minAge": "最短时长(小时)", "q.apply": "筛选",
    "col.priority": "优先级", "col.kind": "类型", "col.sender": "发送方", "col.preview": "内容", "col.score": "模型分", "col.reach": "触达/举报", "col.age": "时长", "col.sla": "承诺剩余", "col.claim": "领取人",
    "kind.message": "单条", "kind.report": "举报", "kind.campaign": "群发活动", "src.classifier": "模型", "src.report": "用户举报", "src.campaign": "群发",
    "c.text": "短信内容", "c.withheld": "正常短信内容默认不显示", "c.why": "判定依据", "c.reports": "用户举报", "c.campaign": "群发活动", "c.history": "发送方历史",
    "c.claim": "领取", "c.release": "释放", "c.spam": "垃圾短信", "c.ham": "正常", "c.escalate": "升级", "c.comment": "备注（升级时必填）", "c.wholeCampaign": "整个群发活动一起判定",
    "c.reveal": "查看完整号码", "c.revealText": "查看内容", "c.reason": "请填写查看原因（将记入审计日志）", "c.claimedBy": "已被 {u} 领取", "c.mine": "你已领取",
    "c.decided": "已判定：{l}", "c.members": "成员 {n} 条（待审 {o}）", "c.samples": "样本", "c.back": "返回队列", "c.keys": "快捷键",
    "c.none": "无", "c.traffic": "发送方近30天流量", "c.trafficSummary": "{m} 条短信，{r} 个接收方", "c.block": "拦截状态", "c.verification": "核实", "c.reporter": "举报人", "c.receivedAt": "时间", "c.outcome": "结果",
    "a.volume": "垃圾短信量（按类别）", "a.action": "按处置方式", "a.reports": "每日举报量与核实比例", "a.top": "被举报最多", "a.outcome": "举报到答复时长",
    "a.rules": "规则命中与准确率", "a.throughput": "审核员工作量", "a.export": "导出确认诈骗案件 CSV（12321）", "a.bucket": "粒度", "a.day": "天", "a.hour": "小时", "a.month": "月",
    "a.sender": "发送方", "a.domain": "域名", "a.campaign": "群发活动", "a.reportsN": "举报数", "a.reporters": "举报人数",
    "a.p50": "中位数(小时)", "a.p90": "P90(小时)", "a.within": "48小时内答复", "a.overdue": "超时未答复", "a.decided": "已答复",
    "a.rule": "规则", "a.hits": "命中", "a.reviewed": "人工复核", "a.precision": "准确率", "a.verifiedShare": "核实比例", "a.noData": "暂无数据",
    "audit.title": "审计日志", "audit.at": "时间", "audit.user": "用户", "audit.action": "操作", "audit.target": "对象", "audit.reason": "原因",
    "t.decided": "已提交判定", "t.claimed": "已领取", "t.released": "已释放", "err.generic": "操作失败",
    "label.spam": "垃圾短信", "label.ham": "正常", "label.escalate": "升级", "label.suspect": "可疑",
    "cat.fraud": "诈骗", "cat.advertising": "广告", "cat.illegal": "违法", "cat.other": "其他", "cat.unknown": "未分类",
    "cat.AD_Loan": "贷款广告", "cat.AD_Network_service": "网络服务广告", "cat.AD_Other": "其他广告", "cat.AD_Real_estate": "房产广告", "cat.AD_Retail": "零售广告",
    "cat.FR_Financial": "金融诈骗", "cat.FR_Other": "其他诈骗", "cat.FR_Phishing(Bank)": "钓鱼（冒充银行）", "cat.FR_Phishing(Other)": "钓鱼（其他）",
    "cat.IL_Escort_service": "色情服务", "cat.IL_Fake_ID_and_invoice": "假证假发票", "cat.IL_Gambling": "赌博", "cat.IL_Political_propaganda": "政治宣传", "cat.Other": "其他",
    "c.domains": "判为垃圾短信将拦截以下域名",
    "nav.sessions": "登录会话", "s.title": "我的登录会话", "s.created": "登录时间", "s.lastSeen": "最近使用", "s.expires": "到期", "s.ip": "地址", "s.agent": "浏览器",
    "s.current": "当前会话", "s.revoke": "结束", "s.revoked": "会话已结束",
    "p.title": "修改密码", "p.current": "当前密码", "p.new": "新密码（至少10位）", "p.save": "保存", "p.saved": "密码已修改，其他会话已结束",
    "u.title": "用户", "u.user": "用户名", "u.name": "姓名", "u.role": "角色", "u.state": "状态", "u.active": "正常", "u.disabled": "已停用",
    "u.disable": "停用", "u.enable": "启用", "u.endAll": "结束全部会话", "u.sessions": "查看会话", "u.ended": "已结束 {n} 个会话",
  },
  en: {
    brand: "Spam SMS review", "nav.queue": "Queue", "nav.analytics": "Analytics", "nav.audit": "Audit log", "nav.api": "API docs",
    logout: "Sign out", "login.title": "Sign in", "login.user": "Username", "login.pass": "Password", "login.go": "Sign in", "login.bad": "Wrong username or password",
    "login.rate": "Too many attempts, try again later",
    "q.title": "Cases to review", "q.total": "{n} cases", "q.next": "Claim next", "q.none": "Queue is empty", "q.status": "Status", "q.open": "Open", "q.escalated": "Escalated",
    "q.source": "Source", "q.all": "All", "q.category": "Category", "q.minAge": "Min age (h)", "q.apply": "Filter",
    "col.priority": "Priority", "col.kind": "Kind", "col.sender": "Sender", "col.preview": "Text", "col.score": "Score", "col.reach": "Reach/reports", "col.age": "Age", "col.sla": "SLA left", "col.claim": "Claimed by",
    "kind.message": "Message", "kind.report": "Report", "kind.campaign": "Campaign", "src.classifier": "Model", "src.report": "Reports", "src.campaign": "Campaign",
    "c.text": "Message", "c.withheld": "Text of legitimate messages is hidden", "c.why": "Why it was flagged", "c.reports": "Reports", "c.campaign": "Campaign", "c.history": "Sender history",
    "c.claim": "Claim", "c.release": "Release", "c.spam": "Spam", "c.ham": "Not spam", "c.escalate": "Escalate", "c.comment": "Comment (required to escalate)", "c.wholeCampaign": "Decide the whole campaign",
    "c.reveal": "Show full number", "c.revealText": "Show text", "c.reason": "Reason for revealing (written to the audit log)", "c.claimedBy": "Claimed by {u}", "c.mine": "Claimed by you",
    "c.decided": "Decided: {l}", "c.members": "{n} members ({o} open)", "c.samples": "Samples", "c.back": "Back to queue", "c.keys": "Shortcuts",
    "c.none": "None", "c.traffic": "Sender traffic, last 30 days", "c.trafficSummary": "{m} messages to {r} recipients", "c.block": "Block", "c.verification": "Verification", "c.reporter": "Reporter", "c.receivedAt": "Time", "c.outcome": "Outcome",
    "a.volume": "Spam volume by category", "a.action": "By action", "a.reports": "Reports per day and share verified", "a.top": "Most reported", "a.outcome": "Report to outcome",
    "a.rules": "Rule hits and precision", "a.throughput": "Reviewer throughput", "a.export": "Export confirmed fraud CSV (12321)", "a.bucket": "Bucket", "a.day": "Day", "a.hour": "Hour", "a.month": "Month",
    "a.sender": "Senders", "a.domain": "Domains", "a.campaign": "Campaigns", "a.reportsN": "Reports", "a.reporters": "Reporters",
    "a.p50": "p50 (h)", "a.p90": "p90 (h)", "a.within": "Answered within 48 h", "a.overdue": "Overdue, unanswered", "a.decided": "Answered",
    "a.rule": "Rule", "a.hits": "Hits", "a.reviewed": "Reviewed", "a.precision": "Precision", "a.verifiedShare": "Share verified", "a.noData": "No data yet",
    "audit.title": "Audit log", "audit.at": "Time", "audit.user": "User", "audit.action": "Action", "audit.target": "Target", "audit.reason": "Reason",
    "t.decided": "Decision saved", "t.claimed": "Claimed", "t.released": "Released", "err.generic": "Failed",
    "label.spam": "Spam", "label.ham": "Not spam", "label.escalate": "Escalated", "label.suspect": "Suspect",
    "cat.fraud": "Fraud", "cat.advertising": "Advertising", "cat.illegal": "Illegal", "cat.other": "Other", "cat.unknown": "Unknown",
    "cat.AD_Loan": "Loan advertising", "cat.AD_Network_service": "Network service advertising", "cat.AD_Other": "Other advertising", "cat.AD_Real_estate": "Real estate advertising", "cat.AD_Retail": "Retail advertising",
    "cat.FR_Financial": "Financial fraud", "cat.FR_Other": "Other fraud", "cat.FR_Phishing(Bank)": "Phishing (bank)", "cat.FR_Phishing(Other)": "Phishing (other)",
    "cat.IL_Escort_service": "Escort services", "cat.IL_Fake_ID_and_invoice": "Fake IDs and invoices", "cat.IL_Gambling": "Gambling", "cat.IL_Political_propaganda": "Political propaganda", "cat.Other": "Other",
    "c.domains": "A spam decision blocks these domains",
    "nav.sessions": "Sessions", "s.title": "My sessions", "s.created": "Signed in", "s.lastSeen": "Last used", "s.expires": "Expires", "s.ip": "Address", "s.agent": "Browser",
    "s.current": "This session", "s.revoke": "End", "s.revoked": "Session ended",
    "p.title": "Change password", "p.current": "Current password", "p.new": "New password (10 characters or more)", "p.save": "Save", "p.saved": "Password changed; your other sessions ended",
    "u.title": "Users", "u.user": "Username", "u.name": "Name", "u.role": "Role", "u.state": "State", "u.active": "Active", "u.disabled": "Disabled",
    "u.disable": "Disable", "u.enable": "Enable", "u.endAll": "End all sessions", "u.sessions": "Sessions", "u.ended": "{n} sessions ended",
  },
};

let lang = localStorage.getItem("lang") === "en" ? "en" : "zh";
export function getLang() { return lang; }
export function setLang(next) { lang = next; localStorage.setItem("lang", next); document.documentElement.lang = next === "zh" ? "zh-CN" : "en"; }
export function has(key) { return Object.hasOwn(STRINGS[lang], key) || Object.hasOwn(STRINGS.zh, key); }
/** Plain text for textContent and text nodes; never parsed as HTML, so values cannot become markup. */
export function t(key, vars = {}) {
  const s = (Object.hasOwn(STRINGS[lang], key) ? STRINGS[lang][key] : Object.hasOwn(STRINGS.zh, key) ? STRINGS.zh[key] : key);
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

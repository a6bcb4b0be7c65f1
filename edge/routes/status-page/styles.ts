/**
 * The status page's stylesheet: a constant (no request data in it), so it is inserted raw; every
 * value on the page goes through JSX, which escapes it.
 */
export const STATUS_PAGE_CSS = `
:root{--fg:#1d2430;--muted:#5f6b7a;--line:#e3e7ed;--bg:#f6f8fb;--card:#fff;--ok:#12805c;--warn:#b7791f;--bad:#c53030;--info:#2b6cb0}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:8px;margin-bottom:16px}
h1{font-size:22px;margin:0}
h2{font-size:17px;margin:28px 0 10px}
.muted{color:var(--muted)}
.small{font-size:13px}
.summary{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:8px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px}
.tile .label{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.tile .value{font-size:20px;font-weight:600}
.banner{border-radius:8px;padding:10px 14px;margin:10px 0;font-weight:600}
.banner.bad{background:#fde8e8;color:var(--bad);border:1px solid #f5c2c2}
.banner.warn{background:#fdf3e1;color:var(--warn);border:1px solid #f3dcae}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{padding:8px 12px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:#fafbfd}
tr:last-child td{border-bottom:0}
td.num{font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,SFMono-Regular,Menlo,"DejaVu Sans Mono",monospace;font-size:13px}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;border:1px solid transparent;white-space:nowrap}
.b-ok{background:#e3f6ee;color:var(--ok);border-color:#b9e6d3}
.b-warn{background:#fdf3e1;color:var(--warn);border-color:#f3dcae}
.b-bad{background:#fde8e8;color:var(--bad);border-color:#f5c2c2}
.b-info{background:#e6f0fb;color:var(--info);border-color:#bcd5f1}
.b-muted{background:#eef1f5;color:var(--muted);border-color:#dde2e9}
.failover{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin-bottom:12px}
.failover h3{font-size:15px;margin:0 0 4px;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.timeline{list-style:none;margin:10px 0 0;padding:0 0 0 14px;border-left:2px solid var(--line)}
.timeline li{position:relative;padding:3px 0 3px 12px}
.timeline li::before{content:"";position:absolute;left:-20px;top:9px;width:10px;height:10px;border-radius:50%;background:var(--ok)}
.timeline li.fail::before{background:var(--bad)}
.timeline .at{display:inline-block;min-width:84px;color:var(--muted);font-variant-numeric:tabular-nums}
.timeline .step{display:inline-block;min-width:90px;font-weight:600}
.timeline code{margin-right:6px}
footer{margin-top:28px}
`;

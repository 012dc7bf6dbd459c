/** The viewer's one HTML page (styles inline; the script is /app.js). No external resources. */
export const PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Strata viewer</title>
<style>
  :root { --bg: #f6f7f9; --fg: #1d2330; --muted: #6b7385; --card: #fff; --line: #dde1e8; --accent: #2f6fec; --box: #ff3b6b; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid var(--line); padding: 8px 16px; display: flex; flex-wrap: wrap; gap: 12px; align-items: center; }
  header h1 { font-size: 15px; margin: 0 12px 0 0; }
  header .meta { color: var(--muted); }
  .controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  select, button, input { font: inherit; }
  button { border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 4px 10px; cursor: pointer; }
  button:hover:not(:disabled) { border-color: var(--accent); }
  button:disabled { opacity: .45; cursor: default; }
  button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
  #banner { display: none; margin: 12px 16px 0; padding: 8px 12px; background: #e8f0ff; border: 1px solid #bcd0fb; border-radius: 6px; align-items: center; gap: 12px; }
  #banner.on { display: flex; }
  #status { margin: 8px 16px; color: var(--muted); min-height: 20px; }
  #status.error { color: #b3261e; }
  #grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; padding: 0 16px 24px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; cursor: pointer; }
  .card:hover { border-color: var(--accent); }
  .media { height: 180px; display: flex; align-items: center; justify-content: center; background: #eceef2; }
  .frame { position: relative; max-width: 100%; max-height: 100%; }
  .frame img { display: block; width: 100%; height: 100%; }
  .frame svg { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
  .frame svg rect { fill: none; stroke: var(--box); stroke-width: 2; vector-effect: non-scaling-stroke; }
  .frame .tag { position: absolute; left: 4px; top: 4px; background: rgba(0,0,0,.6); color: #fff; font-size: 11px; padding: 1px 5px; border-radius: 3px; }
  .caption { padding: 6px 8px; display: flex; justify-content: space-between; gap: 6px; }
  .caption .label { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .caption .row, .caption .score { color: var(--muted); font-variant-numeric: tabular-nums; }
  .placeholder { color: var(--muted); font-size: 12px; }
  #detail { position: fixed; inset: 0; background: rgba(20,24,32,.55); display: none; z-index: 10; align-items: center; justify-content: center; padding: 24px; }
  #detail.on { display: flex; }
  .panel { background: #fff; border-radius: 10px; max-width: 1100px; width: 100%; max-height: 100%; overflow: auto; display: grid; grid-template-columns: minmax(0, 3fr) minmax(240px, 2fr); gap: 16px; padding: 16px; }
  .panel .big { display: flex; flex-direction: column; gap: 8px; align-items: center; }
  .panel .big .frame { max-height: 70vh; }
  .panel table { border-collapse: collapse; width: 100%; font-size: 13px; }
  .panel td { border-top: 1px solid var(--line); padding: 4px 6px; vertical-align: top; word-break: break-word; }
  .panel td:first-child { color: var(--muted); white-space: nowrap; }
  .panel .actions { display: flex; gap: 8px; margin-bottom: 8px; }
  #scrub-wrap { display: none; width: 100%; align-items: center; gap: 8px; }
  #scrub-wrap.on { display: flex; }
  #scrub { flex: 1; }
  footer { color: var(--muted); padding: 8px 16px 24px; }
</style>
</head>
<body>
<header>
  <h1>Strata viewer</h1>
  <span class="meta" id="dataset-meta">loading…</span>
  <div class="controls">
    <label>Filter <select id="filter-column" aria-label="filter column"><option value="">(none)</option></select></label>
    <select id="filter-value" aria-label="filter value" disabled><option value="">(any)</option></select>
    <button id="clear-filter" disabled>Clear</button>
  </div>
  <div class="controls">
    <button id="prev" aria-label="previous page">‹ Prev</button>
    <span id="page-info">–</span>
    <button id="next" aria-label="next page">Next ›</button>
    <label>per page <select id="page-size"><option>24</option><option selected>48</option><option>96</option><option>192</option></select></label>
  </div>
</header>
<div id="banner"><span id="banner-text"></span><button id="back">Back to all rows</button></div>
<div id="status" role="status"></div>
<main id="grid" aria-label="rows"></main>
<div id="detail" role="dialog" aria-modal="true">
  <div class="panel">
    <div class="big">
      <div class="frame" id="detail-frame"></div>
      <div id="scrub-wrap"><span>frame</span><input id="scrub" type="range" min="0" max="0" step="0.01" value="0" aria-label="scrub video"><span id="scrub-time">0.00 s</span></div>
    </div>
    <div>
      <div class="actions">
        <button id="similar" class="primary">Similar images</button>
        <button id="close">Close</button>
      </div>
      <table><tbody id="detail-values"></tbody></table>
    </div>
  </div>
</div>
<footer>Strata · local viewer · nothing leaves this machine</footer>
<script src="/app.js"></script>
</body>
</html>
`;

/**
 * The run report's style sheet, inlined into the page: system fonts only, so the page asks for
 * nothing outside itself.
 *
 * @internal
 */
export const REPORT_CSS = `
:root {
  --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --paper: #f8fafc; --panel: #ffffff;
  --teal: #0d9488; --indigo: #4f46e5; --red: #dc2626; --amber: #d97706; --slate: #94a3b8;
  --plan: #6366f1; --flatten: #0d9488; --reconcile: #a855f7;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--paper); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
}
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 0.92em; }
header {
  position: relative; padding: 28px 40px 70px;
  background: linear-gradient(120deg, #0f172a 0%, #1e3a5f 60%, #0f766e 100%); color: #f1f5f9;
}
header .brand { text-transform: uppercase; letter-spacing: 0.14em; font-size: 12px; opacity: 0.75; }
header h1 { margin: 6px 0 4px; font-size: 34px; font-weight: 700; }
header .sub { opacity: 0.85; }
header .sub code { color: #e2e8f0; }
.pill {
  position: absolute; right: 40px; top: 34px; padding: 8px 16px; border-radius: 999px;
  font-weight: 600; font-size: 15px;
}
.pill.good { background: #ccfbf1; color: #115e59; }
.pill.bad { background: #fee2e2; color: #991b1b; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 32px 8px; }
.cards {
  position: relative; display: grid; grid-template-columns: repeat(5, 1fr); gap: 16px;
  margin-top: -66px;
}
.card {
  background: var(--panel); border-radius: 12px; padding: 16px 18px;
  box-shadow: 0 1px 3px rgba(15, 23, 42, 0.08), 0 8px 24px rgba(15, 23, 42, 0.06);
  border-top: 4px solid var(--indigo);
}
.card.teal { border-top-color: var(--teal); }
.card.red { border-top-color: var(--red); }
.card.amber { border-top-color: var(--amber); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; }
.card .value { font-size: 24px; font-weight: 700; margin-top: 4px; white-space: nowrap; }
.card .note { color: var(--muted); font-size: 12px; margin-top: 2px; }
.panel {
  background: var(--panel); border-radius: 12px; padding: 18px 22px; margin-top: 20px;
  box-shadow: 0 1px 3px rgba(15, 23, 42, 0.08);
}
.panel h2 { margin: 0 0 12px; font-size: 16px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
.two .panel { margin-top: 20px; }
.muted { color: var(--muted); font-size: 12.5px; }
.right { text-align: right; }
.ok-note { color: #115e59; background: #f0fdfa; border-radius: 8px; padding: 10px 12px; }
.problems { border-left: 5px solid var(--red); }
.problems ul { margin: 0; padding-left: 18px; }
.problems li { margin: 3px 0; word-break: break-all; }
.timeline { width: 100%; height: auto; display: block; }
.timeline .grid { stroke: var(--line); stroke-width: 1; }
.timeline .tick { fill: var(--muted); font-size: 11px; text-anchor: middle; }
.timeline .lane { fill: var(--ink); font-size: 12.5px; text-anchor: end; }
.timeline .lane.batch, .timeline .lane.failed { fill: var(--muted); font-size: 11.5px; }
.timeline .bar.PlanBacklog { fill: var(--plan); }
.timeline .bar.FlattenBacklog { fill: var(--flatten); }
.timeline .bar.Reconcile { fill: var(--reconcile); }
.timeline .bar.batch { fill: #5eead4; stroke: var(--teal); stroke-width: 1; }
.timeline .bar.failed { fill: #fca5a5; stroke: var(--red); stroke-width: 1; }
.timeline .barlabel { fill: #ffffff; font-size: 11.5px; font-weight: 600; }
table.stages, table.shapes { width: 100%; border-collapse: collapse; margin-bottom: 14px; }
table.stages th, table.shapes th { text-align: left; color: var(--muted); font-weight: 600; font-size: 12px; border-bottom: 1px solid var(--line); padding: 6px 8px; }
table.stages td, table.shapes td { padding: 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 8px; }
.dot.PlanBacklog { background: var(--plan); }
.dot.FlattenBacklog { background: var(--flatten); }
.dot.Reconcile { background: var(--reconcile); }
.flow { display: flex; flex-direction: column; gap: 7px; }
.flow.grow { flex: 1; }
.barrow { display: grid; grid-template-columns: minmax(110px, 34%) 1fr 96px; gap: 10px; align-items: center; }
.barlabel-html { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.track { background: #f1f5f9; border-radius: 6px; height: 14px; overflow: hidden; }
.fill { height: 100%; border-radius: 6px; }
.fill.teal { background: var(--teal); }
.fill.indigo { background: var(--indigo); }
.fill.red { background: var(--red); }
.fill.amber { background: var(--amber); }
.fill.slate { background: var(--slate); }
.count { font-variant-numeric: tabular-nums; color: var(--ink); white-space: nowrap; font-size: 12.5px; text-align: right; }
.wide .barrow { grid-template-columns: minmax(200px, 42%) 1fr 96px; }
.typing { display: flex; gap: 22px; align-items: center; }
.typing .barrow { grid-template-columns: minmax(110px, 30%) 1fr 140px; }
.donut { width: 132px; height: 132px; flex: none; }
.donut-back { fill: none; stroke: #fde68a; stroke-width: 16; }
.donut-fill { fill: none; stroke: var(--teal); stroke-width: 16; }
.donut-value { font-size: 20px; font-weight: 700; text-anchor: middle; fill: var(--ink); }
.donut-label { font-size: 11px; text-anchor: middle; fill: var(--muted); }
details { margin-top: 14px; }
summary { cursor: pointer; color: var(--muted); font-size: 13px; margin-bottom: 8px; }
table.shapes { margin-top: 16px; }
.costhead { display: flex; justify-content: space-between; align-items: flex-end; margin-bottom: 12px; }
.big { font-size: 30px; font-weight: 700; color: var(--amber); }
.assumptions { margin: 12px 0 0; padding-left: 18px; color: var(--muted); font-size: 12.5px; }
footer { max-width: 1240px; margin: 0 auto; padding: 18px 32px 32px; color: var(--muted); font-size: 12px; }
@media (max-width: 900px) {
  .cards { grid-template-columns: repeat(2, 1fr); }
  .two { grid-template-columns: 1fr; }
  .pill { position: static; display: inline-block; margin-top: 12px; }
}
`;

import { costAssumptions } from '@strata/core/cost';
import type { RecordShape } from '@strata/core/flatten';
import type { ReportBatch, ReportStage, RunReport } from './collectRunReport.js';
import { REPORT_CSS } from './reportStyle.js';

/** Text as HTML: the report shows keys, reasons and errors that come from the data. */
const esc = (text: unknown): string =>
  String(text ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');

const int = (n: number | undefined) => (n ?? 0).toLocaleString('en-US');

const bytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
};

const duration = (ms: number): string => {
  if (ms > 0 && ms < 100) return '<0.1 s';
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  return minutes < 60
    ? `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`
    : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
};

/** Dollars with the precision small runs need: $0.00032, $1.23, $1,234. */
const dollars = (n: number): string =>
  n >= 100
    ? `$${Math.round(n).toLocaleString('en-US')}`
    : n >= 1
      ? `$${n.toFixed(2)}`
      : n >= 1e-6
        ? `$${Number(n.toPrecision(2))}`
        : n > 0
          ? '<$0.000001'
          : '$0';

const percent = (part: number, whole: number) => {
  if (whole <= 0) return '–';
  const share = (100 * part) / whole;
  if (part > 0 && share < 0.1) return '<0.1%';
  return `${share.toFixed(part === whole || part === 0 ? 0 : 1)}%`;
};

const card = (label: string, value: string, note = '', tone = '') =>
  `<div class="card ${tone}"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div><div class="note">${esc(note)}</div></div>`;

/** A timeline row: a label, and bars between times (ms since the run's start). */
interface Lane {
  label: string;
  kind: 'stage' | 'batch' | 'failed';
  bars: { from: number; to: number; title: string }[];
}

/** Batches into as few lanes as their times allow, so concurrency reads as stacked bars. */
const batchLanes = (batches: readonly ReportBatch[], t0: number, most: number): Lane[] => {
  const lanes: { end: number; lane: Lane }[] = [];
  const timed = batches
    .filter((batch) => batch.start && batch.stop)
    .sort((a, b) => (a.start?.getTime() ?? 0) - (b.start?.getTime() ?? 0));
  for (const batch of timed) {
    const from = (batch.start?.getTime() ?? 0) - t0;
    const to = (batch.stop?.getTime() ?? 0) - t0;
    const free =
      lanes.find((lane) => lane.end <= from) ??
      (lanes.length < most ? undefined : lanes.reduce((a, b) => (a.end <= b.end ? a : b)));
    const title = `${batch.batchId}: ${batch.status}, ${bytes(batch.bytes)}, ${int(batch.recordsRead)} records, ${duration(to - from)}`;
    const bar = { from, to, title };
    if (free) {
      free.lane.bars.push(bar);
      free.end = Math.max(free.end, to);
      if (batch.status !== 'SUCCEEDED') free.lane.kind = 'failed';
    } else {
      lanes.push({
        end: to,
        lane: {
          label: `batches ${lanes.length + 1}`,
          kind: batch.status === 'SUCCEEDED' ? 'batch' : 'failed',
          bars: [bar],
        },
      });
    }
  }
  return lanes.map((entry, i) => ({
    ...entry.lane,
    label: lanes.length === 1 ? 'batches' : `· lane ${i + 1}`,
  }));
};

/** A round step for the time axis: about six ticks over `span` ms. */
const tickStep = (span: number) => {
  const steps = [
    100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
    900_000, 1_800_000, 3_600_000,
  ];
  return steps.find((step) => span / step <= 8) ?? 7_200_000;
};

const timeline = (stages: readonly ReportStage[], batches: readonly ReportBatch[]): string => {
  const times = [
    ...stages.flatMap((stage) => [stage.start, stage.end]),
    ...batches.flatMap((batch) => [batch.start, batch.stop]),
  ].flatMap((when) => (when ? [when.getTime()] : []));
  if (times.length < 2) {
    return '<p class="muted">The lake holds no times for this run.</p>';
  }
  const t0 = Math.min(...times);
  const span = Math.max(Math.max(...times) - t0, 1);
  const stageLane = (stage: ReportStage): Lane => ({
    label: stage.name,
    kind: 'stage',
    bars:
      stage.start && stage.end
        ? [
            {
              from: stage.start.getTime() - t0,
              to: stage.end.getTime() - t0,
              title: `${stage.name}: ${duration(stage.end.getTime() - stage.start.getTime())}`,
            },
          ]
        : [],
  });
  const [plan, flatten, reconcile] = stages;
  const lanes: Lane[] = [
    ...(plan ? [stageLane(plan)] : []),
    ...(flatten ? [stageLane(flatten)] : []),
    ...batchLanes(batches, t0, 12),
    ...(reconcile ? [stageLane(reconcile)] : []),
  ];
  const left = 150;
  const width = 960;
  const plot = width - left - 70;
  const row = 30;
  const top = 10;
  const height = top + lanes.length * row + 36;
  const x = (ms: number) => left + (ms / span) * plot;
  const step = tickStep(span);
  const ticks: string[] = [];
  for (let at = 0; at <= span; at += step) {
    ticks.push(
      `<line x1="${x(at)}" x2="${x(at)}" y1="${top}" y2="${height - 26}" class="grid"/><text x="${x(at)}" y="${height - 10}" class="tick">${esc(duration(at))}</text>`
    );
  }
  const rows = lanes.map((lane, i) => {
    const y = top + i * row;
    const bars = lane.bars.map((bar) => {
      const w = Math.max(x(bar.to) - x(bar.from), 2);
      const label =
        lane.kind === 'stage' && w > 54
          ? `<text x="${x(bar.from) + 6}" y="${y + 19}" class="barlabel">${esc(duration(bar.to - bar.from))}</text>`
          : '';
      const tone = lane.kind === 'stage' ? `stage ${lane.label}` : lane.kind;
      return `<g><title>${esc(bar.title)}</title><rect x="${x(bar.from)}" y="${y + 5}" width="${w}" height="${row - 10}" rx="4" class="bar ${tone}"/>${label}</g>`;
    });
    return `<text x="${left - 12}" y="${y + 19}" class="lane ${lane.kind}">${esc(lane.label)}</text>${bars.join('')}`;
  });
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="Stage timeline" class="timeline">${ticks.join('')}${rows.join('')}</svg>`;
};

/** A horizontal bar whose length is `value` of `max`, with its label and count. */
const barRow = (label: string, value: number, max: number, shown: string, tone: string) =>
  `<div class="barrow"><div class="barlabel-html" title="${esc(label)}">${esc(label)}</div><div class="track"><div class="fill ${tone}" style="width:${max > 0 ? Math.max((100 * value) / max, value > 0 ? 0.8 : 0) : 0}%"></div></div><div class="count">${esc(shown)}</div></div>`;

const stagesTable = (data: RunReport): string => {
  const { report, plan, read } = data;
  const rows = [
    {
      stage: 'PlanBacklog',
      input: `${int(plan.objects)} objects · ${bytes(plan.bytes)}`,
      output: `${int(plan.batches)} batch(es)`,
    },
    {
      stage: 'FlattenBacklog',
      input: `${int(report.recordsRead)} records · ${bytes(plan.bytes)}`,
      output: `${int(report.rowsWritten)} rows · ${bytes(data.bytesWritten)} Parquet; ${int(report.recordsQuarantined)} quarantined`,
    },
    {
      stage: 'Reconcile',
      input: `${int(report.batches.succeeded)} batch result(s)`,
      output: read
        ? `${int(read.silverRows)} silver rows read back · ${read.reconciled ? 'reconciled' : 'does not reconcile'}`
        : 'not read back',
    },
  ];
  const max = Math.max(report.recordsRead, 1);
  return `<table class="stages"><thead><tr><th>stage</th><th>in</th><th>out</th></tr></thead><tbody>${rows
    .map(
      (row) =>
        `<tr><td><span class="dot ${row.stage}"></span>${esc(row.stage)}</td><td>${esc(row.input)}</td><td>${esc(row.output)}</td></tr>`
    )
    .join('')}</tbody></table>
    <div class="flow">
      ${barRow('records read', report.recordsRead, max, int(report.recordsRead), 'indigo')}
      ${barRow('rows written', report.rowsWritten, max, int(report.rowsWritten), 'teal')}
      ${barRow('quarantined', report.recordsQuarantined, max, int(report.recordsQuarantined), 'red')}
      ${barRow('raw bytes', plan.bytes, Math.max(plan.bytes, data.bytesWritten, 1), bytes(plan.bytes), 'slate')}
      ${barRow('silver bytes', data.bytesWritten, Math.max(plan.bytes, data.bytesWritten, 1), bytes(data.bytesWritten), 'teal')}
    </div>`;
};

const quarantineSection = (data: RunReport): string => {
  const reasons = data.read?.quarantined ?? [];
  if (data.report.recordsQuarantined === 0) {
    return '<p class="ok-note">Nothing was quarantined: every record landed in silver.</p>';
  }
  if (reasons.length === 0) {
    return `<p class="muted">${int(data.report.recordsQuarantined)} records were quarantined; their reasons could not be read back.</p>`;
  }
  const max = Math.max(...reasons.map((reason) => reason.records));
  return `<div class="flow">${reasons
    .map((reason) =>
      barRow(
        reason.reason,
        reason.records,
        max,
        `${int(reason.records)} (${percent(reason.records, data.report.recordsQuarantined)})`,
        'red'
      )
    )
    .join(
      ''
    )}</div><p class="muted">Records are in <code>quarantine/${esc(data.feed)}/batch=&lt;id&gt;/</code>, each with its reason.</p>`;
};

/** A donut of `part` in `whole`, drawn with one circle's dash. */
const donut = (part: number, whole: number, label: string) => {
  const r = 42;
  const c = 2 * Math.PI * r;
  const share = whole > 0 ? part / whole : 0;
  return `<svg viewBox="0 0 120 120" class="donut" role="img" aria-label="${esc(label)}"><circle cx="60" cy="60" r="${r}" class="donut-back"/><circle cx="60" cy="60" r="${r}" class="donut-fill" stroke-dasharray="${(share * c).toFixed(2)} ${c.toFixed(2)}" transform="rotate(-90 60 60)"/><text x="60" y="58" class="donut-value">${esc(percent(part, whole))}</text><text x="60" y="76" class="donut-label">typed</text></svg>`;
};

/** Each silver table's columns, typed or JSON text, folded away: a wide feed has dozens. */
const columnsByTable = (data: RunReport): string => {
  const rows = data.typing
    .map((dataset) =>
      barRow(
        dataset.dataset,
        dataset.columns - dataset.json,
        dataset.columns,
        `${int(dataset.columns - dataset.json)} of ${int(dataset.columns)} columns`,
        'teal'
      )
    )
    .join('');
  return `<details><summary>Typed columns of each silver table (${int(data.typing.length)})</summary><div class="flow">${rows}</div></details>`;
};

/** The widest record shapes the batches sampled: the records a feed's width comes from. */
const shapesTable = (shapes: readonly RecordShape[]): string =>
  shapes.length === 0
    ? ''
    : `<table class="shapes"><thead><tr><th>widest record shapes</th><th>top-level keys</th><th>leaf paths</th><th>sampled</th></tr></thead><tbody>${shapes
        .slice(0, 5)
        .map(
          (shape) =>
            `<tr><td><code>${esc(shape.keys.slice(0, 4).join(', '))}${shape.keyCount > 4 ? ', …' : ''}</code></td><td>${int(shape.keyCount)}</td><td>${int(shape.leafPaths)}</td><td>${int(shape.sampled)}</td></tr>`
        )
        .join('')}</tbody></table>`;

const typingSection = (data: RunReport): string => {
  const { leaves } = data;
  if (!leaves) {
    if (data.typing.length === 0)
      return '<p class="muted">No schema of this feed is in the lake.</p>';
    // A run from before Reconcile counted leaves: only its columns can be told.
    const columns = data.typing.reduce((total, dataset) => total + dataset.columns, 0);
    const json = data.typing.reduce((total, dataset) => total + dataset.json, 0);
    return `<div class="typing">${donut(columns - json, columns, 'typed columns')}<div class="flow grow"><p class="muted">Share of silver columns with a typed Parquet type; the other ${int(json)} hold JSON text.</p>${columnsByTable(data)}</div></div>`;
  }
  const total = leaves.leaves.total;
  const share = (part: number) => `${int(part)} (${percent(part, total)})`;
  const places = [
    barRow('typed columns', leaves.leaves.typed, total, share(leaves.leaves.typed), 'teal'),
    barRow('child tables', leaves.leaves.child, total, share(leaves.leaves.child), 'indigo'),
    barRow('JSON text', leaves.leaves.json, total, share(leaves.leaves.json), 'amber'),
    barRow('_variant', leaves.leaves.variant, total, share(leaves.leaves.variant), 'red'),
  ].join('');
  const estimated = leaves.estimated
    ? " JSON text and <code>_variant</code> are counted in each column's first values and scaled to the rest."
    : '';
  return `<div class="typing">${donut(leaves.leaves.typed + leaves.leaves.child, total, 'typed leaves')}<div class="flow grow">${places}<p class="muted">Where the run's ${int(total)} non-null leaves landed: typed columns of the feed's table or of its child tables (one row per array element), JSON text, or <code>_variant</code> (values that fit no column).${estimated}</p></div></div>${shapesTable(leaves.widestShapes)}${columnsByTable(data)}`;
};

const costSection = (data: RunReport): string => {
  const { cost } = data;
  const lines = [...cost.lines].sort((a, b) => b.arm64 - a.arm64);
  const max = Math.max(...lines.map((line) => line.arm64), 1e-12);
  return `<div class="costhead"><div><div class="big">${esc(dollars(cost.total.arm64))}</div><div class="muted">on arm64 · ${esc(dollars(cost.total.x86))} on x86</div></div><div class="muted right">${int(cost.batches)} batch(es) · ${esc(duration(cost.secondsPerBatch * 1000))} each on Lambda</div></div>
  <div class="flow">${lines
    .filter((line) => line.arm64 > 0)
    .map((line) => barRow(line.item, line.arm64, max, dollars(line.arm64), 'amber'))
    .join('')}</div>
  <ul class="assumptions">${costAssumptions(cost)
    .map((assumption) => `<li>${esc(assumption)}</li>`)
    .join('')}</ul>`;
};

const problemsSection = (data: RunReport): string => {
  const { report } = data;
  const items = [
    ...report.failedBatches.map(
      (batch) => `batch ${batch} failed or never ran: a redrive reruns it`
    ),
    ...report.failedObjects.map(
      (object) => `${object.key} FAILED: ${object.error ?? 'no error recorded'}`
    ),
    ...report.strandedObjects.map(
      (object) => `${object.key} still PROCESSING by a batch that did not finish`
    ),
    ...(data.read && !data.read.reconciled
      ? ['the lake does not bear out the report: see strata status']
      : []),
    ...data.gaps,
  ];
  if (items.length === 0) return '';
  return `<section class="panel problems"><h2>Needs a look</h2><ul>${items
    .slice(0, 50)
    .map((item) => `<li>${esc(item)}</li>`)
    .join(
      ''
    )}</ul>${items.length > 50 ? `<p class="muted">… and ${int(items.length - 50)} more in the run's report.json</p>` : ''}</section>`;
};

/**
 * One backfill run as a self-contained HTML page: inline CSS and SVG, no script, and a content
 * security policy that refuses every external request. Everything from the data is escaped.
 *
 * @example
 * await writeFile('run.html', renderRunReport(await collectRunReport(store, { feed, runId })));
 * @param data - what {@link collectRunReport} read
 * @param generatedAt - when the page is made
 */
export const renderRunReport = (data: RunReport, generatedAt = new Date()): string => {
  const { report, plan } = data;
  const healthy =
    report.batches.failed + report.batches.pending === 0 &&
    report.objects.failed === 0 &&
    report.objects.stranded === 0 &&
    (data.read?.reconciled ?? true);
  const known = data.stages.flatMap((stage) => [stage.start, stage.end]).filter(Boolean) as Date[];
  const wall =
    known.length > 1
      ? duration(Math.max(...known.map(Number)) - Math.min(...known.map(Number)))
      : '–';
  const started = data.stages[0]?.start;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Strata · ${esc(data.feed)} · ${esc(data.runId)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
  <div class="brand">Strata · backfill run</div>
  <h1>${esc(data.feed)}</h1>
  <div class="sub"><code>${esc(data.runId)}</code>${started ? ` · started ${esc(started.toISOString().replace('T', ' ').slice(0, 19))} UTC` : ''} · wall time ${esc(wall)}</div>
  <div class="pill ${healthy ? 'good' : 'bad'}">${healthy ? '✓ reconciled' : '✗ needs a look'}</div>
</header>
<main>
<section class="cards">
  ${card('records read', int(report.recordsRead), `${int(plan.objects)} objects`)}
  ${card('rows written', int(report.rowsWritten), `silver.${data.feed}${report.children.length ? ` + ${report.children.length} child table(s)` : ''}`, 'teal')}
  ${card('quarantined', int(report.recordsQuarantined), `${percent(report.recordsQuarantined, report.recordsRead)} of records`, report.recordsQuarantined ? 'red' : '')}
  ${card('raw → silver', `${bytes(plan.bytes)} → ${bytes(data.bytesWritten)}`, `${int(plan.batches)} batch(es)`)}
  ${card('estimated AWS cost', dollars(data.cost.total.arm64), 'arm64, us-east-1 list prices', 'amber')}
</section>
${problemsSection(data)}
<section class="panel"><h2>Stage timeline</h2>${timeline(data.stages, data.batches)}
<p class="muted">Stages are dated by the objects they wrote (S3 dates to the second); batches by their child executions' start and stop.</p></section>
<div class="two">
<section class="panel"><h2>Rows and bytes per stage</h2>${stagesTable(data)}</section>
<section class="panel"><h2>Quarantine reasons</h2>${quarantineSection(data)}</section>
</div>
<section class="panel"><h2>Typed share</h2>${typingSection(data)}</section>
<section class="panel wide"><h2>Estimated cost on AWS</h2>${costSection(data)}</section>
</main>
<footer>Made by <code>strata report</code> at ${esc(generatedAt.toISOString())} from <code>${esc(report.reportKey)}</code> and the run's objects in the lake.</footer>
</body>
</html>
`;
};

// The report's SVG charts: grouped horizontal bars (one value per group and series: kernel mode's saving) and
// stacked horizontal bars (one bar per row, split into segments by source: where the cycles go). Each chart draws
// its own background panel and picks its text colour to match, light by default and dark when the viewer prefers
// dark (prefers-color-scheme), so the text always reads against the chart's own background whatever page it sits
// on; the bar colours are mid-tones that read on both.

/** One colour per series or segment (Tableau 10: distinct, mid-tone, readable on light and dark). */
const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f',
  '#bab0ac'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const r1 = (v: number) => Math.round(v * 10) / 10;

/** The frame: the panel, the text colours of both schemes, the title (what is compared) and a subtitle. */
function frame(width: number, height: number, title: string, subtitle: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="sans-serif" font-size="12">',
    `<title>${esc(title)}</title>`,
    // Classes rather than fill attributes, so that one media query switches the panel and every text together.
    '<style>.bg{fill:#f6f8fa}.fg{fill:#1f2328}.mute{fill:#424a53}.rule{stroke:#1f2328}',
    '@media (prefers-color-scheme:dark){',
    '.bg{fill:#161b22}.fg{fill:#e6edf3}.mute{fill:#c9d1d9}.rule{stroke:#e6edf3}}</style>',
    `<rect class="bg" x="0" y="0" width="${width}" height="${height}" rx="6"/>`,
    `<text class="fg" x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">` +
      `${esc(title)}</text>`,
    `<text class="mute" x="${width / 2}" y="40" text-anchor="middle">${esc(subtitle)}</text>`,
    ...body,
    '</svg>',
  ].join('\n') + '\n';
}

/** A legend row of coloured squares from x0 at y; returns the lines and wraps at maxX. */
function legend(names: string[], x0: number, y: number, maxX: number): { lines: string[]; bottom: number } {
  const lines: string[] = [];
  let x = x0;
  names.forEach((n, i) => {
    const w = 28 + n.length * 6.6;
    if (x + w > maxX && x > x0) { x = x0; y += 18; }
    lines.push(`<rect x="${r1(x)}" y="${y - 10}" width="11" height="11" fill="${COLOURS[i % COLOURS.length]}"/>`);
    lines.push(`<text class="fg" x="${r1(x + 15)}" y="${y}">${esc(n)}</text>`);
    x += w;
  });
  return { lines, bottom: y };
}

/** Ticks at a round step (1, 2, 5 × 10^k), from at or below lo to at or above hi. */
function ticks(lo: number, hi: number, want = 6): number[] {
  const raw = (hi - lo) / want || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw)!;
  const out: number[] = [];
  for (let i = Math.floor(lo / step); i <= Math.ceil(hi / step - 1e-9); i++) out.push(i * step);
  return out;
}

/** The axis: grid lines at the ticks, their labels below, and the axis label (with its unit) under them. */
function axis(t: number[], x: (v: number) => number, top: number, bottom: number, label: string,
  fmt: (v: number) => string): string[] {
  const out: string[] = [];
  for (const v of t) {
    const strong = v === 0;
    out.push(`<line class="rule" x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${bottom}" ` +
      `stroke-opacity="${strong ? 0.8 : 0.2}"/>`);
    out.push(`<text class="fg" x="${x(v)}" y="${bottom + 15}" text-anchor="middle">${esc(fmt(v))}</text>`);
  }
  const mid = (x(t[0]) + x(t[t.length - 1])) / 2;
  out.push(`<text class="fg" x="${r1(mid)}" y="${bottom + 34}" text-anchor="middle" font-weight="bold">` +
    `${esc(label)}</text>`);
  return out;
}

export interface ChartSeries { name: string; values: (number | undefined)[] }

export interface BarOptions {
  subtitle: string;
  /** The x axis's label, with its unit. */
  axisLabel: string;
  /** How a value is written beside its bar and on the axis. */
  format: (v: number) => string;
}

/** Bars for each group (row label) and series (colour), from zero (negative values go left). */
export function barChart(title: string, groups: string[], series: ChartSeries[], o: BarOptions): string {
  const labelW = 170, plotW = 520, right = 70, barH = 13, gap = 3, groupGap = 12, width = labelW + plotW + right;
  const leg = legend(series.map(s => s.name), labelW, 62, width - 10);
  const top = leg.bottom + 16;
  const groupH = series.length * (barH + gap) + groupGap;
  const plotBottom = top + groups.length * groupH - groupGap + 6;
  const height = plotBottom + 48;
  const all = series.flatMap(s => s.values.filter((v): v is number => v !== undefined));
  const t = ticks(Math.min(0, ...all), Math.max(0, ...all));
  const lo = t[0], hi = t[t.length - 1] || 1;
  const x = (v: number) => r1(labelW + ((v - lo) / (hi - lo)) * plotW);
  const body = [...leg.lines, ...axis(t, x, top - 4, plotBottom, o.axisLabel, o.format)];
  groups.forEach((g, gi) => {
    const y0 = top + gi * groupH;
    body.push(`<text class="fg" x="${labelW - 8}" y="${y0 + (series.length * (barH + gap)) / 2 + 3}" ` +
      `text-anchor="end">${esc(g)}</text>`);
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === undefined) return;
      const y = y0 + si * (barH + gap), a = x(Math.min(0, v)), b = x(Math.max(0, v));
      body.push(`<rect x="${a}" y="${y}" width="${Math.max(0.5, r1(b - a))}" height="${barH}" ` +
        `fill="${COLOURS[si % COLOURS.length]}"><title>${esc(`${g}, ${s.name}: ${o.format(v)}`)}</title></rect>`);
      const anchor = v < 0 ? `x="${r1(a - 4)}" text-anchor="end"` : `x="${r1(b + 4)}"`;
      body.push(`<text class="fg" ${anchor} y="${y + barH - 2}" font-size="11">${esc(o.format(v))}</text>`);
    });
  });
  return frame(width, height, title, o.subtitle, body);
}

export interface StackRow {
  /** The row's label; rows with the same group are drawn together under the group's name. */
  group: string;
  label: string;
  /** One value per segment name, in the chart's segment order. */
  values: number[];
}

export interface StackOptions extends BarOptions {
  segments: string[];
}

/** One bar per row, split into the segments (colours) in order; the row's total is written at the bar's end. */
export function stackedChart(title: string, rows: StackRow[], o: StackOptions): string {
  const labelW = 150, plotW = 560, right = 80, barH = 15, gap = 4, groupGap = 22, width = labelW + plotW + right;
  const leg = legend(o.segments, 20, 62, width - 20);
  const top = leg.bottom + 18;
  const groups = [...new Set(rows.map(r => r.group))];
  const ys: number[] = [];
  let y = top;
  for (const g of groups) {
    y += 14; // the group's heading
    const n = rows.filter(r => r.group === g).length;
    for (let k = 0; k < n; k++) { ys.push(y); y += barH + gap; }
    y += groupGap - gap;
  }
  const plotBottom = y - groupGap + 8;
  const height = plotBottom + 48;
  const t = ticks(0, Math.max(...rows.map(r => r.values.reduce((a, v) => a + v, 0))));
  const hi = t[t.length - 1] || 1;
  const x = (v: number) => r1(labelW + (v / hi) * plotW);
  const body = [...leg.lines, ...axis(t, x, top, plotBottom, o.axisLabel, o.format)];
  let i = 0;
  for (const g of groups) {
    body.push(`<text class="fg" x="10" y="${ys[i] - 4}" font-weight="bold">${esc(g)}</text>`);
    for (const r of rows.filter(rr => rr.group === g)) {
      const yr = ys[i++];
      body.push(`<text class="fg" x="${labelW - 8}" y="${yr + barH - 3}" text-anchor="end">${esc(r.label)}</text>`);
      let acc = 0;
      r.values.forEach((v, si) => {
        if (v <= 0) return;
        body.push(`<rect x="${x(acc)}" y="${yr}" width="${Math.max(0.3, r1(x(acc + v) - x(acc)))}" height="${barH}" ` +
          `fill="${COLOURS[si % COLOURS.length]}"><title>${esc(`${g}, ${r.label}: ${o.segments[si]} ${o.format(v)}`)}` +
          '</title></rect>');
        acc += v;
      });
      body.push(`<text class="fg" x="${r1(x(acc) + 4)}" y="${yr + barH - 3}" font-size="11">` +
        `${esc(o.format(acc))}</text>`);
    }
  }
  return frame(width, height, title, o.subtitle, body);
}

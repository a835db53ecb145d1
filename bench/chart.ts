// A grouped horizontal bar chart as SVG, readable on dark and light backgrounds: mid-tone bar colours, grey text
// and grid lines, no background fill.

export interface ChartSeries { name: string; values: (number | undefined)[] }

const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Bars for each group (row label) and series (colour); a reference line at `reference` (1.0: no difference). */
export function barChart(title: string, groups: string[], series: ChartSeries[], opts: { reference?: number; axisLabel: string }): string {
  const labelW = 190, plotW = 460, right = 60, barH = 12, gap = 3, groupGap = 14, top = 58;
  const groupH = series.length * (barH + gap) + groupGap;
  const height = top + groups.length * groupH + 40;
  const width = labelW + plotW + right;
  const all = series.flatMap(s => s.values.filter((v): v is number => v !== undefined));
  const max = Math.max(opts.reference ?? 0, ...all) * 1.05 || 1;
  const x = (v: number) => Math.round((labelW + (v / max) * plotW) * 10) / 10;
  const text = '#8c8c8c';
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${esc(title)}</title>`);
  out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold" fill="${text}">${esc(title)}</text>`);
  // Legend.
  let lx = labelW;
  series.forEach((s, i) => {
    out.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${COLOURS[i % COLOURS.length]}"/>`);
    out.push(`<text x="${lx + 14}" y="39" fill="${text}">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 6.5;
  });
  // Grid.
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const v = (max / ticks) * i;
    out.push(`<line x1="${x(v)}" y1="${top - 6}" x2="${x(v)}" y2="${height - 30}" stroke="${text}" stroke-opacity="0.3"/>`);
    out.push(`<text x="${x(v)}" y="${height - 18}" text-anchor="middle" fill="${text}">${v.toFixed(2)}</text>`);
  }
  if (opts.reference !== undefined) {
    out.push(`<line x1="${x(opts.reference)}" y1="${top - 6}" x2="${x(opts.reference)}" y2="${height - 30}" stroke="${text}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  }
  out.push(`<text x="${labelW + plotW / 2}" y="${height - 4}" text-anchor="middle" fill="${text}">${esc(opts.axisLabel)}</text>`);
  groups.forEach((g, gi) => {
    const y0 = top + gi * groupH;
    out.push(`<text x="${labelW - 8}" y="${y0 + (series.length * (barH + gap)) / 2 + 4}" text-anchor="end" fill="${text}">${esc(g)}</text>`);
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === undefined) return;
      const y = y0 + si * (barH + gap);
      out.push(`<rect x="${labelW}" y="${y}" width="${Math.max(0.5, x(v) - labelW).toFixed(1)}" height="${barH}" fill="${COLOURS[si % COLOURS.length]}"><title>${esc(`${g}, ${s.name}: ${v.toFixed(3)}`)}</title></rect>`);
      out.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${y + barH - 2}" fill="${text}">${v.toFixed(3)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

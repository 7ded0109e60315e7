/**
 * Inline SVG charts for the report: line charts (optionally log-scaled axes,
 * ± sd bands) and scatter plots. Plain strings, no DOM; every value escaped.
 */

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** ± band around y (same length), drawn shaded. */
  sd?: readonly number[];
  dashed?: boolean;
  /** Points only (scatter). */
  points?: boolean;
  color?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  /** Reverse the x axis (σ from high to low, as a run goes). */
  xReverse?: boolean;
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
}

const PALETTE = ['#2f6fdf', '#e0702a', '#2a9d5c', '#b23a8f', '#8a6d1f', '#555'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function niceTicks(min: number, max: number, log: boolean): number[] {
  if (log) {
    // Decades; 1-2-5 steps when the range spans fewer than three of them.
    const multiples = Math.log10(max / min) < 2 ? [1, 2, 5] : [1];
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) for (const m of multiples) out.push(Number((m * 10 ** e).toPrecision(6)));
    return out.filter((t) => t >= min * 0.999 && t <= max * 1.001);
  }
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / 4));
  const unit = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(min / unit) * unit; t <= max + unit * 1e-9; t += unit) out.push(Number(t.toPrecision(10)));
  return out;
}

function label(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1e4 || abs < 1e-2 ? value.toExponential(0) : String(Number(value.toPrecision(3)));
}

export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 460;
  const height = options.height ?? 280;
  const margin = { left: 58, right: 14, top: 28, bottom: 44 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const valid = (v: number, log: boolean | undefined): boolean => Number.isFinite(v) && (!log || v > 0);
  const xs = series.flatMap((s) => s.x.filter((v) => valid(v, options.xLog)));
  const ys = series.flatMap((s) => s.y.flatMap((v, i) => (valid(v, options.yLog) ? [v - (s.sd?.[i] ?? 0), v + (s.sd?.[i] ?? 0)] : []))).filter((v) => valid(v, options.yLog));
  if (xs.length === 0 || ys.length === 0) return `<p class="empty">${escapeHtml(options.title)}: no data.</p>`;
  let [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  let yMin = options.yMin ?? Math.min(...ys);
  let yMax = options.yMax ?? Math.max(...ys);
  if (xMin === xMax) [xMin, xMax] = [xMin * 0.9 - 1e-9, xMax * 1.1 + 1e-9];
  if (yMin === yMax) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
  const tx = (v: number): number => {
    const f = options.xLog ? (Math.log(v) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin)) : (v - xMin) / (xMax - xMin);
    return margin.left + plotW * (options.xReverse ? 1 - f : f);
  };
  const ty = (v: number): number => {
    const clamped = Math.min(Math.max(v, yMin), yMax);
    const f = options.yLog ? (Math.log(clamped) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin)) : (clamped - yMin) / (yMax - yMin);
    return margin.top + plotH * (1 - f);
  };
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}">`);
  parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" class="title">${escapeHtml(options.title)}</text>`);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const t of niceTicks(xMin, xMax, options.xLog ?? false)) {
    const x = tx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="#999"/><text x="${x}" y="${margin.top + plotH + 16}" text-anchor="middle">${label(t)}</text>`);
  }
  for (const t of niceTicks(yMin, yMax, options.yLog ?? false)) {
    const y = ty(t).toFixed(1);
    parts.push(`<line x1="${margin.left - 4}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${label(t)}</text>`);
  }
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`);
  series.forEach((s, index) => {
    const color = s.color ?? PALETTE[index % PALETTE.length]!;
    const pts = s.x.map((x, i) => [x, s.y[i]!, s.sd?.[i] ?? 0] as const).filter(([x, y]) => valid(x, options.xLog) && valid(y, options.yLog));
    if (pts.length === 0) return;
    if (s.sd !== undefined) {
      const upper = pts.map(([x, y, d]) => `${tx(x).toFixed(1)},${ty(y + d).toFixed(1)}`);
      const lower = pts.map(([x, y, d]) => `${tx(x).toFixed(1)},${ty(options.yLog ? Math.max(y - d, yMin) : y - d).toFixed(1)}`).reverse();
      parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" opacity="0.15"/>`);
    }
    if (s.points) {
      for (const [x, y] of pts) parts.push(`<circle cx="${tx(x).toFixed(1)}" cy="${ty(y).toFixed(1)}" r="3" fill="${color}"/>`);
    } else {
      parts.push(`<polyline points="${pts.map(([x, y]) => `${tx(x).toFixed(1)},${ty(y).toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
    const ly = margin.top + 12 + index * 14;
    parts.push(`<line x1="${margin.left + 8}" x2="${margin.left + 26}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/><text x="${margin.left + 30}" y="${ly}" dominant-baseline="middle">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

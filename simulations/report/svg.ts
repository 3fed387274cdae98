/** Small SVG chart builders for the report: plain strings, no scripts, no external assets. */

export interface Series {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  title: string;
  series: readonly Series[];
  xLabel: string;
  yLabel: string;
  formatX: (x: number) => string;
  formatY: (y: number) => string;
  /** Draw steps (value holds until the next point) instead of straight segments. */
  step?: boolean;
  yMin?: number;
  yMax?: number;
}

const W = 720;
const H = 300;
const M = { top: 48, right: 16, bottom: 44, left: 70 };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Round tick values: 1, 2 or 5 times a power of ten, about `count` of them. */
export function ticks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

function frame(
  title: string,
  body: string,
  xLabel: string,
  yLabel: string,
  legend: readonly Series[],
): string {
  const legendItems = legend
    .map(
      (s, i) =>
        `<g transform="translate(${M.left + i * 120},28)"><rect width="12" height="12" fill="${s.color}"/>` +
        `<text x="16" y="10" font-size="12">${escapeXml(s.name)}</text></g>`,
    )
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(title)}" font-family="sans-serif">` +
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>` +
    body +
    `<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>` +
    `<text transform="translate(14,${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(yLabel)}</text>` +
    legendItems +
    `</svg>`
  );
}

/** Keeps at most `max` points, evenly spaced, so a month of samples stays a small file. */
function thin(points: readonly (readonly [number, number])[], max = 800): (readonly [number, number])[] {
  if (points.length <= max) return [...points];
  const stride = points.length / max;
  const out: (readonly [number, number])[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.floor(i * stride)]!);
  out.push(points[points.length - 1]!);
  return out;
}

export function lineChart(o: LineChartOptions): string {
  const all = o.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, x0 + 1);
  const y0 = o.yMin ?? Math.min(0, ...ys);
  let y1 = o.yMax ?? Math.max(...ys, y0 + 1e-9);
  if (y1 <= y0) y1 = y0 + 1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => M.top + ph - ((y - y0) / (y1 - y0)) * ph;
  let body = `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#ccc"/>`;
  for (const t of ticks(y0, y1)) {
    body +=
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>` +
      `<text x="${M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeXml(o.formatY(t))}</text>`;
  }
  for (const t of ticks(x0, x1, 6)) {
    body += `<text x="${sx(t).toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${escapeXml(o.formatX(t))}</text>`;
  }
  for (const s of o.series) {
    const pts = thin(s.points);
    let d = "";
    pts.forEach(([x, y], i) => {
      if (i === 0) d += `M${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      else {
        if (o.step) d += `H${sx(x).toFixed(1)}`;
        d += `L${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      }
    });
    body += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"><title>${escapeXml(s.name)}</title></path>`;
  }
  return frame(o.title, body, o.xLabel, o.yLabel, o.series);
}

export interface Bar {
  label: string;
  value: number;
  color: string;
}

/** Horizontal bars, one per policy, each labelled with its value. */
export function barChart(title: string, bars: readonly Bar[], format: (v: number) => string): string {
  const w = 340;
  const rowH = 26;
  const left = 90;
  const h = 36 + bars.length * rowH + 8;
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  // Room right of the longest bar for its value label (about 7 px a character at 12 px).
  const pw = w - left - 12 - 7 * Math.max(...bars.map((b) => format(b.value).length));
  const rows = bars
    .map((b, i) => {
      const y = 32 + i * rowH;
      const bw = Math.max(1, (b.value / max) * pw);
      return (
        `<text x="${left - 6}" y="${y + 15}" text-anchor="end" font-size="12">${escapeXml(b.label)}</text>` +
        `<rect x="${left}" y="${y}" width="${bw.toFixed(1)}" height="${rowH - 8}" fill="${b.color}"><title>${escapeXml(`${b.label}: ${format(b.value)}`)}</title></rect>` +
        `<text x="${(left + bw + 6).toFixed(1)}" y="${y + 15}" font-size="12">${escapeXml(format(b.value))}</text>`
      );
    })
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeXml(title)}" font-family="sans-serif">` +
    `<text x="${w / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(title)}</text>${rows}</svg>`
  );
}

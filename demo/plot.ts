// A small canvas line chart: a chart library redrawing SVG 20 times a second would cost
// the page more than the training it shows.

export interface Series {
  color: string;
  width: number;
  dash?: number[];
  x: number[];
  y: number[];
}

export interface ChartOptions {
  yLabel: string;
  /** Fixed y range; without it the range fits the data. */
  yRange?: [number, number];
  yFormat?: (v: number) => string;
}

const MARGIN = { left: 56, right: 12, top: 10, bottom: 30 };
const AXIS = '#6b7280';
const GRID = '#e5e7eb';

/** Round tick positions (1, 2, 5 · 10^k apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function finiteRange(series: readonly Series[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const v of s.y) {
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** A range with round ends around the data of all the given series (for charts that share a scale). */
export function sharedRange(series: readonly Series[], fallback: [number, number]): [number, number] {
  const range = finiteRange(series);
  if (range === null) return fallback;
  const pad = (range[1] - range[0]) * 0.05 || 0.5;
  const [lo, hi] = [range[0] - pad, range[1] + pad];
  const ticks = niceTicks(lo, hi);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
}

export class LineChart {
  readonly canvas: HTMLCanvasElement;
  readonly series: Series[];
  readonly options: ChartOptions;

  constructor(canvas: HTMLCanvasElement, series: Omit<Series, 'x' | 'y'>[], options: ChartOptions) {
    this.canvas = canvas;
    this.series = series.map((s) => ({ ...s, x: [], y: [] }));
    this.options = options;
  }

  clear(): void {
    for (const s of this.series) {
      s.x.length = 0;
      s.y.length = 0;
    }
  }

  draw(xMax: number, yRange = this.options.yRange ?? sharedRange(this.series, [0, 1])): void {
    const { canvas } = this;
    const dpr = globalThis.devicePixelRatio || 1;
    const cssWidth = canvas.clientWidth;
    const cssHeight = canvas.clientHeight;
    if (canvas.width !== Math.round(cssWidth * dpr) || canvas.height !== Math.round(cssHeight * dpr)) {
      canvas.width = Math.round(cssWidth * dpr);
      canvas.height = Math.round(cssHeight * dpr);
    }
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);
    const plotW = cssWidth - MARGIN.left - MARGIN.right;
    const plotH = cssHeight - MARGIN.top - MARGIN.bottom;
    const xTicks = niceTicks(0, xMax);
    const xEnd = Math.max(xMax, xTicks[xTicks.length - 1]!);
    const [y0, y1] = yRange;
    const px = (x: number) => MARGIN.left + (x / xEnd) * plotW;
    const py = (y: number) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotH;
    const format = this.options.yFormat ?? ((v: number) => String(v));

    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.strokeStyle = GRID;
    ctx.fillStyle = AXIS;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of niceTicks(y0, y1)) {
      if (t < y0 || t > y1) continue;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, Math.round(py(t)) + 0.5);
      ctx.lineTo(MARGIN.left + plotW, Math.round(py(t)) + 0.5);
      ctx.stroke();
      ctx.fillText(format(t), MARGIN.left - 6, py(t));
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of xTicks) ctx.fillText(t >= 1000 ? `${t / 1000}k` : String(t), px(t), MARGIN.top + plotH + 6);
    ctx.fillText('step', MARGIN.left + plotW / 2, MARGIN.top + plotH + 18);
    ctx.save();
    ctx.translate(11, MARGIN.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(this.options.yLabel, 0, 0);
    ctx.restore();
    ctx.strokeStyle = AXIS;
    ctx.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, plotW, plotH);

    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, plotW, plotH);
    ctx.clip();
    ctx.lineJoin = 'round';
    for (const s of this.series) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = s.width;
      ctx.setLineDash(s.dash ?? []);
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < s.x.length; i++) {
        const y = s.y[i]!;
        // A gap where the value is not finite (a diverged network).
        if (!Number.isFinite(y)) {
          pen = false;
          continue;
        }
        const [cx, cy] = [px(s.x[i]!), py(Math.min(Math.max(y, y0), y1))];
        if (pen) ctx.lineTo(cx, cy);
        else ctx.moveTo(cx, cy);
        pen = true;
      }
      ctx.stroke();
    }
    ctx.restore();
  }
}

/**
 * Benchmark figures as pictures: small chart functions that write PNGs (and the raw figures as
 * JSON beside them) into docs/plots/, so a later run can be looked at and compared.
 *
 * Charts are Vega specifications rendered to SVG by Vega's headless view (no browser, no canvas),
 * then rasterised by resvg. Vega is an ES module with top-level await (its optional canvas
 * loader), which a CommonJS `require` cannot load, hence the dynamic import.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';

/** Where the benchmarks' pictures and figures go (docs/plots/ of the repository). */
export const PLOTS_DIR = resolve(__dirname, '../../docs/plots');

/** One line of a line chart. */
export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

/** Titles and scales shared by every chart. */
export interface ChartOptions {
  title: string;
  /** A second line under the title (machine, load, date). */
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  /** Logarithmic axes (base 2 for x when the x values are powers of two, else 10). */
  xLog?: boolean;
  yLog?: boolean;
  width?: number;
  height?: number;
  /** Directory to write into; default docs/plots/. */
  dir?: string;
}

/** One bar (or one part of a stacked bar) of a bar chart. */
export interface Bar {
  /** The x category. */
  category: string;
  /** The colour: a series (grouped side by side) or a part (stacked). */
  group: string;
  value: number;
}

const FONT = 'DejaVu Sans';
const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d'];

type Spec = Record<string, unknown>;

/** Splits a long subtitle at '; ' into lines of about 100 characters (a long line widens the picture). */
function lines(text: string, width = 100): string[] {
  const out: string[] = [];
  for (const part of text.split('; ')) {
    const last = out.at(-1);
    if (last !== undefined && last.length + part.length + 2 <= width)
      out[out.length - 1] = `${last}; ${part}`;
    else out.push(part);
  }
  return out;
}

function frame(o: ChartOptions, body: Spec): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: o.width ?? 640,
    height: o.height ?? 360,
    padding: 12,
    autosize: { type: 'pad' },
    title: {
      text: o.title,
      ...(o.subtitle ? { subtitle: lines(o.subtitle) } : {}),
      anchor: 'start',
      fontSize: 15,
    },
    config: {
      text: { font: FONT },
      title: { font: FONT, subtitleFont: FONT, subtitleColor: '#555' },
      axis: { labelFont: FONT, titleFont: FONT, labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
      legend: { labelFont: FONT, titleFont: FONT, labelFontSize: 11, labelLimit: 400 },
    },
    ...body,
  };
}

const isPowersOfTwo = (xs: number[]) => xs.every((x) => x > 0 && Number.isInteger(Math.log2(x)));

/** Renders a Vega spec to a PNG at `dir/file` (twice the spec's size, on white); returns the path. */
async function render(spec: Spec, file: string, dir = PLOTS_DIR): Promise<string> {
  const vega = await import('vega');
  const view = new vega.View(vega.parse(spec), {
    renderer: 'none',
  });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: FONT },
  })
    .render()
    .asPng();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, png);
  return path;
}

/**
 * Lines through points, one colour per series, with a dot on each point. With `xLog` and x values
 * that are all powers of two (client counts), the x axis is base 2 and ticks at the data's x.
 */
export async function lineChart(file: string, series: Series[], o: ChartOptions): Promise<string> {
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.name, x: p.x, y: p.y })));
  const xs = [...new Set(values.map((v) => v.x))].sort((a, b) => a - b);
  const base2 = o.xLog === true && isPowersOfTwo(xs);
  const spec = frame(o, {
    data: [{ name: 'points', values }],
    scales: [
      {
        name: 'x',
        type: o.xLog ? 'log' : 'linear',
        ...(base2 ? { base: 2 } : {}),
        domain: { data: 'points', field: 'x' },
        range: 'width',
        nice: !o.xLog,
        zero: false,
      },
      {
        name: 'y',
        type: o.yLog ? 'log' : 'linear',
        domain: { data: 'points', field: 'y' },
        range: 'height',
        nice: true,
        zero: !o.yLog,
      },
      { name: 'color', type: 'ordinal', domain: series.map((s) => s.name), range: PALETTE },
    ],
    axes: [
      {
        orient: 'bottom',
        scale: 'x',
        title: o.xTitle,
        grid: true,
        ...(o.xLog && xs.length <= 12 ? { values: xs, format: '~s' } : {}),
      },
      { orient: 'left', scale: 'y', title: o.yTitle, grid: true, format: '~s' },
    ],
    legends: series.length > 1 ? [{ stroke: 'color', orient: 'top-left', symbolType: 'stroke' }] : [],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'one', data: 'points', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'one' },
            sort: { field: 'datum.x' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                stroke: { scale: 'color', field: 'series' },
                strokeWidth: { value: 2 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: 'one' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                fill: { scale: 'color', field: 'series' },
                size: { value: 30 },
              },
            },
          },
        ],
      },
    ],
  });
  return render(spec, file, o.dir);
}

/**
 * The empirical CDF of each sample (share of values ≤ x), as steps. Long samples are thinned to
 * at most 400 steps each, always keeping the largest value, so the tail stays visible.
 */
export async function cdfChart(
  file: string,
  samples: Array<{ name: string; values: number[] }>,
  o: Omit<ChartOptions, 'yTitle' | 'yLog'> & { yTitle?: string },
): Promise<string> {
  const series: Series[] = samples
    .filter((s) => s.values.length > 0)
    .map((s) => {
      const sorted = [...s.values].sort((a, b) => a - b);
      const step = Math.max(1, Math.floor(sorted.length / 400));
      const points: Series['points'] = [];
      for (let i = 0; i < sorted.length; i += step)
        points.push({ x: sorted[i]!, y: (i + 1) / sorted.length });
      points.push({ x: sorted.at(-1)!, y: 1 });
      return { name: `${s.name} (n=${sorted.length})`, points };
    });
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.name, x: p.x, y: p.y })));
  const spec = frame(
    { ...o, yTitle: o.yTitle ?? 'share of messages' },
    {
      data: [{ name: 'points', values }],
      scales: [
        {
          name: 'x',
          type: o.xLog ? 'log' : 'linear',
          domain: { data: 'points', field: 'x' },
          range: 'width',
          nice: true,
          zero: !o.xLog,
        },
        { name: 'y', type: 'linear', domain: [0, 1], range: 'height' },
        { name: 'color', type: 'ordinal', domain: series.map((s) => s.name), range: PALETTE },
      ],
      axes: [
        { orient: 'bottom', scale: 'x', title: o.xTitle, grid: true, format: '~s' },
        {
          orient: 'left',
          scale: 'y',
          title: o.yTitle ?? 'share of messages',
          grid: true,
          values: [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1],
          format: '.0%',
        },
      ],
      legends: [{ stroke: 'color', orient: 'bottom-right', symbolType: 'stroke' }],
      marks: [
        {
          type: 'group',
          from: { facet: { name: 'one', data: 'points', groupby: 'series' } },
          marks: [
            {
              type: 'line',
              from: { data: 'one' },
              sort: { field: 'datum.x' },
              encode: {
                enter: {
                  x: { scale: 'x', field: 'x' },
                  y: { scale: 'y', field: 'y' },
                  stroke: { scale: 'color', field: 'series' },
                  strokeWidth: { value: 2 },
                  interpolate: { value: 'step-after' },
                },
              },
            },
          ],
        },
      ],
    },
  );
  return render(spec, file, o.dir);
}

/**
 * Bars per category: `stacked` piles the groups of a category into one bar (parts of a total, e.g.
 * statements per service); otherwise the groups stand side by side (e.g. one bar per box size).
 * Each bar or part is labelled with its value.
 */
export async function barChart(
  file: string,
  bars: Bar[],
  o: Omit<ChartOptions, 'xLog'> & { stacked?: boolean },
): Promise<string> {
  const categories = [...new Set(bars.map((b) => b.category))];
  const groups = [...new Set(bars.map((b) => b.group))];
  const label = (v: number) => (v >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3))));
  const values = bars.map((b) => ({ ...b, label: label(b.value) }));
  // Log bars start at the bottom of the plot (a log scale has no zero).
  const bottom = { signal: 'height' };
  const common = [
    { name: 'x', type: 'band', domain: categories, range: 'width', padding: 0.25 },
    { name: 'color', type: 'ordinal', domain: groups, range: PALETTE },
  ];
  const axes = [
    {
      orient: 'bottom',
      scale: 'x',
      title: o.xTitle,
      labelLimit: 260,
      // Many categories: slanted labels, so long ones do not run into each other.
      ...(categories.length > 4 ? { labelAngle: -20, labelAlign: 'right', labelBaseline: 'top' } : {}),
    },
    { orient: 'left', scale: 'y', title: o.yTitle, grid: true, format: '~s' },
  ];
  const legends = groups.length > 1 ? [{ fill: 'color', orient: 'top-right' }] : [];
  const spec = o.stacked
    ? frame(o, {
        data: [
          {
            name: 'bars',
            values,
            transform: [{ type: 'stack', groupby: ['category'], field: 'value', sort: { field: 'group' } }],
          },
        ],
        scales: [
          ...common,
          { name: 'y', type: 'linear', domain: { data: 'bars', field: 'y1' }, range: 'height', nice: true },
        ],
        axes,
        legends,
        marks: [
          {
            type: 'rect',
            from: { data: 'bars' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'category' },
                width: { scale: 'x', band: 1 },
                y: { scale: 'y', field: 'y1' },
                y2: { scale: 'y', field: 'y0' },
                fill: { scale: 'color', field: 'group' },
                stroke: { value: 'white' },
              },
            },
          },
          {
            type: 'text',
            from: { data: 'bars' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'category', band: 0.5 },
                y: { scale: 'y', signal: '(datum.y0 + datum.y1) / 2' },
                text: { signal: "datum.value >= 0.5 ? datum.label : ''" },
                align: { value: 'center' },
                baseline: { value: 'middle' },
                fill: { value: 'white' },
                fontSize: { value: 10 },
              },
            },
          },
        ],
      })
    : frame(o, {
        data: [{ name: 'bars', values }],
        scales: [
          ...common,
          {
            name: 'y',
            type: o.yLog ? 'log' : 'linear',
            domain: { data: 'bars', field: 'value' },
            range: 'height',
            nice: true,
            zero: !o.yLog,
          },
        ],
        axes,
        legends,
        marks: [
          {
            type: 'group',
            from: { facet: { data: 'bars', name: 'one', groupby: 'category' } },
            encode: {
              enter: { x: { scale: 'x', field: 'category' }, height: { signal: 'height' } },
            },
            signals: [{ name: 'width', update: "bandwidth('x')" }],
            scales: [{ name: 'pos', type: 'band', domain: groups, range: 'width', paddingInner: 0.05 }],
            marks: [
              {
                type: 'rect',
                from: { data: 'one' },
                encode: {
                  enter: {
                    x: { scale: 'pos', field: 'group' },
                    width: { scale: 'pos', band: 1 },
                    y: { scale: 'y', field: 'value' },
                    y2: bottom,
                    fill: { scale: 'color', field: 'group' },
                  },
                },
              },
              {
                type: 'text',
                from: { data: 'one' },
                encode: {
                  enter: {
                    x: { scale: 'pos', field: 'group', band: 0.5 },
                    y: { scale: 'y', field: 'value', offset: -3 },
                    text: { field: 'label' },
                    align: { value: 'center' },
                    baseline: { value: 'bottom' },
                    fontSize: { value: 10 },
                  },
                },
              },
            ],
          },
        ],
      });
  return render(spec, file, o.dir);
}

/** Writes `figures` as indented JSON to `dir/file` (beside the plots); returns the path. */
export function writeFigures(file: string, figures: unknown, dir = PLOTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(
    path,
    `${JSON.stringify(figures, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`,
  );
  return path;
}

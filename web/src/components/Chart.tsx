import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  colour: string;
  /** Bars instead of a line (per-day figures). */
  bars?: boolean;
}

export interface ChartProps {
  /** The figure's caption, also the chart's accessible name. */
  title: string;
  /** x values: epoch seconds when `time`, else any numbers. */
  x: number[];
  series: ChartSeries[];
  unit: string;
  time?: boolean;
  /** How an x value reads in the data table. */
  formatX?: (x: number) => string;
  height?: number;
  /** Short text summary for screen readers (the latest or the mean, say). */
  summary?: string;
  /** The x axis spans at least this much (a single point otherwise gets an axis of years). */
  minSpan?: number;
  /** The x axis spans exactly this, e.g. the window a scorecard covers. */
  xRange?: [number, number];
  /** The y axis spans exactly this (scores: 0–100). */
  yRange?: [number, number];
}

const format = (value: number | null | undefined): string => (value === null || value === undefined || !Number.isFinite(value) ? '–' : Number(value.toFixed(2)).toLocaleString());

/**
 * A uPlot chart in a figure: the canvas is hidden from assistive technology, which gets the
 * caption, a summary and the same numbers as a table (behind a disclosure, also for sighted users).
 */
export function Chart({ title, x, series, unit, time = false, formatX, height = 200, summary, minSpan = 0, xRange, yRange }: ChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const range = useRef({ minSpan, xRange });
  range.current = { minSpan, xRange };
  const shape = `${time}|${series.map((s) => `${s.label}:${s.bars ? 'b' : 'l'}`).join(',')}`;

  useEffect(() => {
    const element = holder.current!;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      scales: {
        x: {
          time,
          range: (_u, min, max): uPlot.Range.MinMax => {
            const { minSpan: span, xRange: fixed } = range.current;
            if (fixed) return fixed;
            if (min === null || max === null) return [0, 1];
            return max - min < span ? [max - span, max] : [min, max];
          },
        },
        ...(yRange ? { y: { range: yRange } } : {}),
      },
      axes: [{ stroke: '#374151' }, { stroke: '#374151', label: unit, size: 60 }],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: time ? 'time' : 'x', value: (_u, v) => (v === null ? '–' : formatX ? formatX(v) : String(v)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.colour,
          width: 2,
          fill: s.bars ? `${s.colour}99` : undefined,
          paths: s.bars ? uPlot.paths.bars!({ size: [0.6, 40] }) : undefined,
          points: { show: !s.bars && x.length < 40 },
          spanGaps: false,
        })),
      ],
    };
    plot.current = new uPlot(options, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, element);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, element.clientWidth), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt when the series change shape; new data alone goes through setData below.
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [x, series]);

  const rows = x.map((value, i) => ({ x: formatX ? formatX(value) : time ? new Date(value * 1000).toLocaleString() : String(value), values: series.map((s) => s.values[i]) }));
  return (
    <figure class="chart">
      <figcaption>
        <strong>{title}</strong>
        {summary ? <span class="chart-summary"> — {summary}</span> : null}
      </figcaption>
      <div ref={holder} class="chart-canvas" aria-hidden="true" />
      <details>
        <summary>{title}: data table</summary>
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{time ? 'Time' : 'x'}</th>
                {series.map((s) => <th scope="col" key={s.label}>{s.label} ({unit})</th>)}
              </tr>
            </thead>
            <tbody>
              {rows.slice(-100).map((row, i) => (
                <tr key={i}>
                  <th scope="row">{row.x}</th>
                  {row.values.map((value, j) => <td key={j}>{format(value)}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

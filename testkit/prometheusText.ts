/**
 * The Prometheus text format (0.0.4) as tests and benchmarks read a process's /metrics. The
 * dashboard has its own copy (web/src/metrics.ts): the browser bundle cannot import from here.
 */

/** One sample: metric name (with its _sum, _count or _bucket suffix), labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of an exposition; comments and blank lines skipped, label values unescaped. A line that is neither fails loudly. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = value!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The samples of the process serving /metrics at baseUrl (e.g. http://127.0.0.1:8080). */
export async function scrapeMetrics(baseUrl: string): Promise<Sample[]> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (!response.ok) throw new Error(`${baseUrl}/metrics answered ${response.status}`);
  return parsePrometheus(await response.text());
}

const matches = (sample: Sample, name: string, where: Record<string, string>): boolean =>
  sample.name === name && Object.entries(where).every(([key, value]) => sample.labels[key] === value);

/** A metric summed over its labels, or over the samples whose labels match `where`; 0 when absent. */
export function total(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.reduce((sum, sample) => (matches(sample, name, where) ? sum + sample.value : sum), 0);
}

/** A metric per value of one label, summed over its other labels. */
export function byLabel(samples: readonly Sample[], name: string, label: string, where: Record<string, string> = {}): Map<string, number> {
  const values = new Map<string, number>();
  for (const sample of samples) {
    if (!matches(sample, name, where)) continue;
    const key = sample.labels[label] ?? '';
    values.set(key, (values.get(key) ?? 0) + sample.value);
  }
  return values;
}

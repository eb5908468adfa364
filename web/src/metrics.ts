/** One sample of the Prometheus text format: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (0.0.4): comments skipped, labels unescaped. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    if (match[2]) {
      const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let label: RegExpExecArray | null;
      while ((label = labelPattern.exec(match[2]))) labels[label[1]!] = label[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    }
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Sum of a metric's samples, optionally only those whose labels match. */
export function total(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  let sum = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(where).every(([key, value]) => sample.labels[key] === value)) sum += sample.value;
  }
  return sum;
}

/** A metric's values per value of one label. */
export function byLabel(samples: Sample[], name: string, label: string, where: Record<string, string> = {}): Map<string, number> {
  const values = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (!Object.entries(where).every(([key, value]) => sample.labels[key] === value)) continue;
    const key = sample.labels[label] ?? '';
    values.set(key, (values.get(key) ?? 0) + sample.value);
  }
  return values;
}

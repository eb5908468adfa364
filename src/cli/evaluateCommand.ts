import type { Command } from 'commander';
import { createTripContext } from '../adapters/enrichment/tripContext.js';
import { NDS_DEVICE_RULE } from '../domain/events/detectors.js';
import { DEFAULT_PIPELINE_CONFIG } from '../domain/pipelineConfig.js';
import { evaluate } from '../functions/evaluate.js';
import { readLabelledData } from '../sim/labelledData.js';

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate <file>')
    .description('run the trip pipeline over labelled data (the nds CSV, or a `simulate --truth` file) and print precision and recall')
    .option('--json', 'print one JSON object: {"trips": {...}, "events": {"<type>": {tp, fp, fn, precision, recall}}}')
    .option('--rule <name>', 'detector thresholds: production (default) or nds-device (the nds logger\'s 0.35 g rule)', 'production')
    .option('--osm <file>', 'OSM extract for speed limits')
    .action(async (file: string, opts: { json?: boolean; rule: string; osm?: string }) => {
      if (!['production', 'nds-device'].includes(opts.rule)) throw new Error(`--rule ${opts.rule}: expected production or nds-device`);
      const config = opts.rule === 'nds-device' ? { ...DEFAULT_PIPELINE_CONFIG, detectors: NDS_DEVICE_RULE } : DEFAULT_PIPELINE_CONFIG;
      const data = await readLabelledData(file);
      const report = evaluate(data, config, await createTripContext(opts.osm ? { osmExtract: opts.osm } : {}));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const { trips } = report;
      process.stdout.write(`trips: ${trips.matched} of ${trips.expected} expected matched within 60 s (${trips.found} found)\n`);
      process.stdout.write(`${'event type'.padEnd(20)}${['tp', 'fp', 'fn', 'precision', 'recall'].map((h) => h.padStart(10)).join('')}\n`);
      for (const [type, s] of Object.entries(report.events)) {
        const cells = [s.tp, s.fp, s.fn].map((n) => String(n).padStart(10)).join('') + [s.precision, s.recall].map((r) => r.toFixed(3).padStart(10)).join('');
        process.stdout.write(`${type.padEnd(20)}${cells}\n`);
      }
    });
}

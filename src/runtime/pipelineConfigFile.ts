import { readFileSync } from 'node:fs';
import { DEFAULT_PIPELINE_CONFIG, type PipelineConfig } from '../domain/pipelineConfig.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Reads thresholds and weights from a JSON file laid out like PipelineConfig, over the defaults:
 * only the keys given change. A key the defaults do not have, or a value of another type, is an
 * error naming its path, so a typo never silently leaves a default in force.
 */
export function loadPipelineConfig(file: string | null, base: PipelineConfig = DEFAULT_PIPELINE_CONFIG): PipelineConfig {
  if (!file) return base;
  let overrides: Json;
  try {
    overrides = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (error) {
    throw new Error(`TRIPLINE_PIPELINE_CONFIG ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return merge(base as unknown as Json, overrides, file) as unknown as PipelineConfig;
}

function merge(base: Json, override: Json, path: string): Json {
  if (isObject(base)) {
    if (!isObject(override)) throw new Error(`${path}: expected an object`);
    const merged: { [key: string]: Json } = { ...base };
    for (const [key, value] of Object.entries(override)) {
      if (!(key in base)) throw new Error(`${path}.${key}: no such setting`);
      merged[key] = merge(base[key]!, value, `${path}.${key}`);
    }
    return merged;
  }
  if (Array.isArray(base)) {
    if (!Array.isArray(override)) throw new Error(`${path}: expected an array`);
    return override;
  }
  if (typeof override !== typeof base) throw new Error(`${path}: expected a ${typeof base}`);
  return override;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

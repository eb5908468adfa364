import { DEFAULT_ALERT_CONFIG, type AlertConfig } from './alerts/riskAlerts.js';
import { DEFAULT_CLEANING_CONFIG, type CleaningConfig } from './cleaning/cleanPoints.js';
import { DEFAULT_TIME_OF_DAY_CONFIG, type TimeOfDayConfig } from './enrichment/timeOfDay.js';
import { DEFAULT_DETECTOR_CONFIG, type DetectorConfig } from './events/detectors.js';
import { DEFAULT_SCORING_CONFIG, type ScoringConfig } from './scoring/index.js';
import { DEFAULT_TRIP_CONFIG, type TripConfig } from './tripConfig.js';

/** Every threshold and weight of trip processing, in one object (each part documents its sources). */
export interface PipelineConfig {
  trip: TripConfig;
  cleaning: CleaningConfig;
  detectors: DetectorConfig;
  timeOfDay: TimeOfDayConfig;
  scoring: ScoringConfig;
  alerts: AlertConfig;
}

export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = {
  trip: DEFAULT_TRIP_CONFIG,
  cleaning: DEFAULT_CLEANING_CONFIG,
  detectors: DEFAULT_DETECTOR_CONFIG,
  timeOfDay: DEFAULT_TIME_OF_DAY_CONFIG,
  scoring: DEFAULT_SCORING_CONFIG,
  alerts: DEFAULT_ALERT_CONFIG,
};

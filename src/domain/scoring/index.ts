/** The scoring model: see docs/scoring.md. */
export { DEFAULT_SCORING_CONFIG, type ScoringConfig, type EventWeights, type ShareWeights } from './scoringConfig.js';
export { scoreTrip, type TripScore, type TripScoreInput, type ScoreFactor } from './tripScore.js';
export { rollingScore, type RollingScore, type ScoredTrip } from './rollingScore.js';

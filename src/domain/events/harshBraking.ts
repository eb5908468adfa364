/**
 * Harsh braking: deceleration (negative accelerometer x, else a speed drop per second) at or above
 * the threshold. Published definition (issue 3): a drop of 7 mph within one second, ≈ 0.32 g.
 * Thresholds: DetectorConfig.harshBraking.
 */
import { longitudinalDetector, type LongitudinalState } from './longitudinalDetector.js';

export type HarshBrakingState = LongitudinalState;

export const harshBraking = longitudinalDetector('harsh_braking');

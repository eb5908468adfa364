/**
 * Harsh (rapid) acceleration: positive accelerometer x, else a speed gain per second, at or above
 * the threshold. Published definition (issue 3): a gain of 7 mph within one second, ≈ 0.32 g.
 * Thresholds: DetectorConfig.harshAcceleration.
 */
import { longitudinalDetector, type LongitudinalState } from './longitudinalDetector.js';

export type HarshAccelerationState = LongitudinalState;

export const harshAcceleration = longitudinalDetector('harsh_acceleration');

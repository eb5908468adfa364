/**
 * Every threshold of the event detectors, in one object, with where each number comes from.
 * Units are SI (m/s, m/s², s); the published definitions are in mph and g, converted here.
 */
export const G_MPS2 = 9.80665;
export const MPH_TO_MPS = 0.44704;
const mph = (value: number): number => value * MPH_TO_MPS;
const g = (value: number): number => value * G_MPS2;

/** A peak at or above `mediumAt` is medium, at or above `highAt` high, else low. */
export interface SeveritySteps {
  mediumAt: number;
  highAt: number;
}

/** Harsh braking or acceleration (longitudinal). */
export interface HarshConfig {
  /** |acceleration| at or above which a sample is harsh, m/s² (accelerometer x, else speed change per second). */
  thresholdMps2: number;
  severityMps2: SeveritySteps;
  /** Over-threshold samples at most this far apart form one episode: 2 s at 1 Hz tolerates one dipping sample. */
  joinGapS: number;
  /** Samples slower than this never count (0 = no gate). */
  minSpeedMps: number;
  /** Speed and heading are differentiated only over gaps up to this: a longer gap says nothing about one second. */
  maxDeriveGapS: number;
}

export interface CorneringConfig extends HarshConfig {
  /** Threshold on speed × yaw rate when derived from heading change (no accelerometer), m/s². */
  derivedThresholdMps2: number;
  /** A heading-derived episode must turn through more than this, degrees. */
  minTurnDeg: number;
}

export interface SpeedingConfig {
  /** Margin over the limit below `highLimitFromMps`. */
  lowLimitMarginMps: number;
  /** Limits at or above this get `highLimitMarginMps`. */
  highLimitFromMps: number;
  highLimitMarginMps: number;
  /** Shortest episode that counts, from its first to its last sample over the margin. */
  minDurationS: number;
  joinGapS: number;
  /** Severity by peak speed over the limit, m/s. */
  severityOverMps: SeveritySteps;
}

export interface CrashConfig {
  /** Horizontal |acceleration| spike, m/s². */
  thresholdMps2: number;
  /** The spike is a crash once speed falls below this ... */
  stopSpeedMps: number;
  /** ... within this many seconds of the spike. */
  confirmWithinS: number;
  /** Spikes this soon after a confirmed crash belong to it (a car rolling over hits many times). */
  cooldownS: number;
}

export interface PhoneConfig {
  /** Handling counts only while moving: same figure as the trip segmenter's movement. */
  movingSpeedMps: number;
  minDurationS: number;
  joinGapS: number;
  /** Severity by episode duration, s. */
  severityDurationS: SeveritySteps;
}

export interface DetectorConfig {
  harshBraking: HarshConfig;
  harshAcceleration: HarshConfig;
  harshCornering: CorneringConfig;
  speeding: SpeedingConfig;
  crash: CrashConfig;
  phoneHandling: PhoneConfig;
}

/**
 * Longitudinal, production: a speed change of 7 mph within one second (≈ 0.32 g) is the published
 * hard-braking / rapid-acceleration definition quoted in issue 3 (insurer programmes such as
 * Progressive Snapshot). Severity: medium from 9 mph/s (≈ 0.41 g, the top step), high from
 * 0.6 g (the nds device's "high" category). The 5 mph/s step (≈ 0.23 g) is ordinary firm
 * braking (the simulator's normal stops reach 2.5 m/s² ≈ 5.6 mph/s), so it is not an event here.
 */
const LONGITUDINAL: HarshConfig = {
  thresholdMps2: mph(7),
  severityMps2: { mediumAt: mph(9), highAt: g(0.6) },
  joinGapS: 2,
  minSpeedMps: 0,
  maxDeriveGapS: 2,
};

export const DEFAULT_DETECTOR_CONFIG: DetectorConfig = {
  harshBraking: LONGITUDINAL,
  harshAcceleration: LONGITUDINAL,
  // Published hard turn (issue 3): about 8 mph per second of lateral speed (≈ 0.36 g) through more
  // than 30° above 11 mph; the same g for the accelerometer. Severity as the nds device: 0.45/0.6 g.
  harshCornering: {
    thresholdMps2: mph(8),
    derivedThresholdMps2: mph(8),
    severityMps2: { mediumAt: g(0.45), highAt: g(0.6) },
    joinGapS: 2,
    minSpeedMps: mph(11),
    minTurnDeg: 30,
    maxDeriveGapS: 2,
  },
  // Issue 3's common definition: 5 mph over up to a 30 mph limit, 10 mph over from 35 mph, for at
  // least 10 s (limits in between, e.g. 50 km/h ≈ 31 mph, take the 5 mph margin). Severity: 15 and
  // 20 mph over, the bands where many US states escalate (20 over is reckless driving in Virginia, § 46.2-862).
  speeding: {
    lowLimitMarginMps: mph(5),
    highLimitFromMps: mph(35),
    highLimitMarginMps: mph(10),
    minDurationS: 10,
    joinGapS: 2,
    severityOverMps: { mediumAt: mph(15), highAt: mph(20) },
  },
  // 4 g: the crash trigger of smartphone crash detection (WreckWatch, White et al. 2011); hard
  // braking peaks near 1 g, so 4 g in the horizontal plane is an impact. Confirmed by a stop.
  crash: { thresholdMps2: g(4), stopSpeedMps: 1, confirmWithinS: 10, cooldownS: 60 },
  // The device decides what handling is; we only require movement. Medium from 2 s (glances over
  // 2 s double crash risk, Klauer et al. 2006, 100-car study), high from 12 s (NHTSA 2013 visual-manual
  // distraction guidelines: at most 12 s total eyes-off-road per task).
  phoneHandling: { movingSpeedMps: 1, minDurationS: 0, joinGapS: 2, severityDurationS: { mediumAt: 2, highAt: 12 } },
};

/**
 * The nds logger's own rule (test/fixtures/nds/README.md): a harsh event is a run of consecutive
 * 1 Hz rows with |accel_x| or |accel_y| at or above 0.35 g, categorised by its peak at 0.35/0.45/0.6 g.
 * Consecutive rows only (joinGapS 1), no speed gate. Used to check the detectors against real flags.
 */
const NDS_ACCEL: HarshConfig = {
  thresholdMps2: g(0.35),
  severityMps2: { mediumAt: g(0.45), highAt: g(0.6) },
  joinGapS: 1,
  minSpeedMps: 0,
  maxDeriveGapS: 2,
};

export const NDS_DEVICE_RULE: DetectorConfig = {
  ...DEFAULT_DETECTOR_CONFIG,
  harshBraking: NDS_ACCEL,
  harshAcceleration: NDS_ACCEL,
  harshCornering: { ...NDS_ACCEL, derivedThresholdMps2: g(0.35), minTurnDeg: 0 },
};

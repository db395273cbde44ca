package org.iotlab.flink.anomalies;

/**
 * A device's running baseline: an exponentially weighted mean and variance whose memory is a half-life in time,
 * not a number of readings (a reading {@code dt} after the previous one weighs {@code 1 - 0.5^(dt / halfLife)}).
 *
 * <p>The arithmetic of {@code iotlab.jobs.anomalies.detectors.Ewma}, in the same order, so both give the same
 * doubles and the SQL detectors raise the Python detectors' alerts. It lives inside a detector's accumulator,
 * which Flink keeps in keyed state: a plain object with public fields and a no-argument constructor.
 */
public class Baseline {
    public Double mean; // null until the first reading
    public double variance;
    public long lastMs;
    public long sinceMs; // the first reading's time: the warm-up counts from it

    public void update(long atMs, double value, long halfLifeMs) {
        if (mean == null) {
            mean = value;
            lastMs = atMs;
            sinceMs = atMs;
            return;
        }
        double weight = 1.0 - Math.pow(0.5, (double) Math.max(atMs - lastMs, 0L) / halfLifeMs);
        double difference = value - mean;
        mean += weight * difference;
        variance = (1.0 - weight) * (variance + weight * difference * difference);
        lastMs = atMs;
    }

    /**
     * A reading the baseline must not learn from: its clock moves on, so the next reading it learns weighs as one
     * reading after this one, not as one after a long gap.
     */
    public void skip(long atMs) {
        lastMs = atMs;
    }

    public boolean warmedUp(long atMs, long warmUpMs) {
        return mean != null && atMs - sinceMs >= warmUpMs;
    }

    /** During the warm-up (the first {@code warmUpMinutes} of the device) a reading only teaches the baseline. */
    public boolean learnsWhileWarmingUp(long atMs, double value, long halfLifeMs, double warmUpMinutes) {
        if (warmedUp(atMs, (long) (warmUpMinutes * Alerts.MINUTE_MS))) {
            return false;
        }
        update(atMs, value, halfLifeMs);
        return true;
    }

    /** How many standard deviations {@code value} is from the mean (the deviation taken as at least {@code minStd}). */
    public double z(double value, double minStd) {
        return Math.abs(value - mean) / Math.max(Math.sqrt(variance), minStd);
    }
}

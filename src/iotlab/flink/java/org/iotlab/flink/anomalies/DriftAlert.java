package org.iotlab.flink.anomalies;

import java.util.Map;

/**
 * {@code DRIFT_ALERT(device_id, event_ms, quantity, value, half_life_minutes, slack, limit, clip, warm_up_minutes,
 * noise_std, hold, max_hold_minutes) OVER (PARTITION BY device_id ORDER BY event_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT
 * ROW)}: the drift alert a reading raises (JSON), or NULL.
 *
 * <p>{@code iotlab.jobs.anomalies.detectors.DriftDetector}'s rule: a two-sided CUSUM of the residuals against
 * the running baseline, in standard deviations, each clipped to {@code clip} (one spike cannot make a drift);
 * the baseline holds while a sum is above {@code hold}, for at most {@code max_hold_minutes} per excursion;
 * raised when a sum exceeds {@code limit}, then quiet until both sums are back to zero.
 * A reading at the same moment as the previous one (a duplicate) is skipped.
 */
public class DriftAlert extends AlertAggregate<DriftAlert.State> {

    /** The detector's state for one device. */
    public static class State extends AlertState {
        public Baseline baseline = new Baseline();
        public double high; // CUSUM of residuals above the baseline
        public double low; // ... and below it
        public Long risingSinceMs; // when the sums last left zero
        public Long heldSinceMs; // when the baseline began to hold (a sum above hold)
        public boolean alarmed;
    }

    @Override
    public State createAccumulator() {
        return new State();
    }

    public void accumulate(State state, String deviceId, Long eventMs, String quantity, Double value,
                           Double halfLifeMinutes, Double slack, Double limit, Double clip, Double warmUpMinutes,
                           Double noiseStd, Double hold, Double maxHoldMinutes) {
        if (!nextReading(state, eventMs, value)) {
            return;
        }
        long halfLifeMs = (long) (halfLifeMinutes * Alerts.MINUTE_MS);
        if (state.baseline.learnsWhileWarmingUp(eventMs, value, halfLifeMs, warmUpMinutes)) {
            return;
        }
        double residual = (value - state.baseline.mean)
                / Math.max(Math.sqrt(state.baseline.variance), noiseStd);
        residual = Math.max(-clip, Math.min(clip, residual));
        double before = Math.max(state.high, state.low);
        state.high = Math.max(0.0, state.high + residual - slack);
        state.low = Math.max(0.0, state.low - residual - slack);
        double now = Math.max(state.high, state.low);
        if (now > hold && state.heldSinceMs == null) {
            state.heldSinceMs = eventMs;
        }
        boolean heldTooLong = state.heldSinceMs != null
                && eventMs - state.heldSinceMs > maxHoldMinutes * Alerts.MINUTE_MS;
        if (now <= hold || heldTooLong) { // in control (or held long enough): the baseline learns
            state.baseline.update(eventMs, value, halfLifeMs);
        } else { // a sum is up: the baseline holds what it knew
            state.baseline.skip(eventMs);
        }
        if (before == 0.0 && now > 0.0) {
            state.risingSinceMs = eventMs;
        }
        if (now == 0.0) {
            state.risingSinceMs = null;
            state.heldSinceMs = null;
            state.alarmed = false;
            return;
        }
        if (state.alarmed || now < limit) {
            return;
        }
        state.alarmed = true;
        state.alert = Alerts.alert(deviceId, "drift", quantity, eventMs,
                state.risingSinceMs != null ? state.risingSinceMs : eventMs, eventMs, now,
                Map.of("half_life_minutes", halfLifeMinutes, "slack", slack, "limit", limit, "hold", hold,
                        "max_hold_minutes", maxHoldMinutes));
    }
}

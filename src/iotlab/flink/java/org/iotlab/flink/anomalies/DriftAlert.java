package org.iotlab.flink.anomalies;

import java.util.Map;

/**
 * {@code DRIFT_ALERT(device_id, event_ms, temperature, half_life_minutes, slack, limit, clip, warm_up_minutes,
 * noise_std) OVER (PARTITION BY device_id ORDER BY event_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT
 * ROW)}: the drift alert a reading raises (JSON), or NULL.
 *
 * <p>{@code iotlab.jobs.anomalies.detectors.DriftDetector}'s rule: a two-sided CUSUM of the residuals against
 * the running baseline, in standard deviations, each clipped to {@code clip} (one spike cannot make a drift);
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
        public boolean alarmed;
    }

    @Override
    public State createAccumulator() {
        return new State();
    }

    public void accumulate(State state, String deviceId, Long eventMs, Double temperature, Double halfLifeMinutes,
                           Double slack, Double limit, Double clip, Double warmUpMinutes, Double noiseStd) {
        if (!nextReading(state, eventMs, temperature)) {
            return;
        }
        long halfLifeMs = (long) (halfLifeMinutes * Alerts.MINUTE_MS);
        if (state.baseline.learnsWhileWarmingUp(eventMs, temperature, halfLifeMs, warmUpMinutes)) {
            return;
        }
        double residual = (temperature - state.baseline.mean)
                / Math.max(Math.sqrt(state.baseline.variance), noiseStd);
        residual = Math.max(-clip, Math.min(clip, residual));
        state.baseline.update(eventMs, temperature, halfLifeMs);
        double before = Math.max(state.high, state.low);
        state.high = Math.max(0.0, state.high + residual - slack);
        state.low = Math.max(0.0, state.low - residual - slack);
        double now = Math.max(state.high, state.low);
        if (before == 0.0 && now > 0.0) {
            state.risingSinceMs = eventMs;
        }
        if (now == 0.0) {
            state.risingSinceMs = null;
            state.alarmed = false;
            return;
        }
        if (state.alarmed || now < limit) {
            return;
        }
        state.alarmed = true;
        state.alert = Alerts.alert(deviceId, "drift", eventMs,
                state.risingSinceMs != null ? state.risingSinceMs : eventMs, eventMs, now,
                Map.of("half_life_minutes", halfLifeMinutes, "slack", slack, "limit", limit));
    }
}

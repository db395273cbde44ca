package org.iotlab.flink.anomalies;

import java.util.Map;

/**
 * {@code STUCK_ALERT(device_id, event_ms, quantity, value, min_minutes) OVER (PARTITION BY device_id
 * ORDER BY event_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)}: the stuck-sensor alert a reading
 * raises (JSON), or NULL.
 *
 * <p>{@code iotlab.jobs.anomalies.detectors.StuckDetector}'s rule: the same value of one quantity since
 * a run began; raised once, by the first reading at least {@code min_minutes} after the run's first.
 * A reading at the same moment as the previous one (a duplicate) is skipped.
 */
public class StuckAlert extends AlertAggregate<StuckAlert.State> {

    /** The detector's state for one device. */
    public static class State extends AlertState {
        public Double value; // the current run's value
        public long runStartMs;
        public boolean raised;
    }

    @Override
    public State createAccumulator() {
        return new State();
    }

    public void accumulate(State state, String deviceId, Long eventMs, String quantity, Double value,
                           Double minMinutes) {
        if (!nextReading(state, eventMs, value)) {
            return;
        }
        if (!value.equals(state.value)) { // a new run begins
            state.value = value;
            state.runStartMs = eventMs;
            state.raised = false;
            return;
        }
        long spanMs = eventMs - state.runStartMs;
        if (state.raised || spanMs < minMinutes * Alerts.MINUTE_MS) {
            return;
        }
        state.raised = true;
        state.alert = Alerts.alert(deviceId, "stuck", quantity, eventMs, state.runStartMs, eventMs,
                (double) spanMs / Alerts.MINUTE_MS, Map.of("min_minutes", minMinutes));
    }
}

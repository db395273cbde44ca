package org.iotlab.flink.anomalies;

import java.util.Map;

import org.apache.flink.table.functions.AggregateFunction;

/**
 * {@code STUCK_ALERT(device_id, event_ms, temperature, humidity, min_minutes) OVER (PARTITION BY device_id
 * ORDER BY event_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)}: the stuck-sensor alert a reading
 * raises (JSON), or NULL.
 *
 * <p>{@code iotlab.jobs.anomalies.detectors.StuckDetector}'s rule: the same temperature and humidity since
 * a run began; raised once, by the first reading at least {@code min_minutes} after the run's first.
 * A reading at the same moment as the previous one (a duplicate) is skipped.
 */
public class StuckAlert extends AggregateFunction<String, StuckAlert.State> {

    /** The detector's state for one device. */
    public static class State {
        public Long lastMs;
        public Double temperature; // the current run's values
        public Double humidity;
        public long runStartMs;
        public boolean raised;
        public String alert;
    }

    @Override
    public State createAccumulator() {
        return new State();
    }

    @Override
    public String getValue(State state) {
        return state.alert;
    }

    public void accumulate(State state, String deviceId, Long eventMs, Double temperature, Double humidity,
                           Double minMinutes) {
        state.alert = null;
        if (eventMs == null || temperature == null || humidity == null
                || (state.lastMs != null && eventMs <= state.lastMs)) {
            return;
        }
        state.lastMs = eventMs;
        if (!temperature.equals(state.temperature) || !humidity.equals(state.humidity)) { // a new run begins
            state.temperature = temperature;
            state.humidity = humidity;
            state.runStartMs = eventMs;
            state.raised = false;
            return;
        }
        long spanMs = eventMs - state.runStartMs;
        if (state.raised || spanMs < minMinutes * Alerts.MINUTE_MS) {
            return;
        }
        state.raised = true;
        state.alert = Alerts.alert(deviceId, "stuck", eventMs, state.runStartMs, eventMs,
                (double) spanMs / Alerts.MINUTE_MS, Map.of("min_minutes", minMinutes));
    }
}

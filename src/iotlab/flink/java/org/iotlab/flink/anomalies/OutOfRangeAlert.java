package org.iotlab.flink.anomalies;

import java.util.Map;

/**
 * {@code OUT_OF_RANGE_ALERT(device_id, event_ms, reason, join_minutes) OVER (PARTITION BY device_id ORDER BY
 * event_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)}, over a device's records refused for an
 * impossible value: the alert a record raises (JSON), or NULL.
 *
 * <p>{@code iotlab.jobs.anomalies.detectors.OutOfRangeDetector}'s rule: a new span, raised at once, unless the
 * previous such record is at most {@code join_minutes} older.
 */
public class OutOfRangeAlert extends AlertAggregate<OutOfRangeAlert.State> {

    /** The detector's state for one device. */
    public static class State extends AlertState {
    }

    @Override
    public State createAccumulator() {
        return new State();
    }

    public void accumulate(State state, String deviceId, Long eventMs, String reason, Double joinMinutes) {
        Long previous = state.lastMs;
        if (!nextReading(state, eventMs)) { // no time, or at the previous record's moment: part of its span
            return;
        }
        if (previous != null && eventMs - previous <= joinMinutes * Alerts.MINUTE_MS) {
            return;
        }
        String quantity = reason.substring(reason.lastIndexOf(' ') + 1); // "impossible_value: humidity" → humidity
        state.alert = Alerts.alert(deviceId, "out_of_range", quantity, eventMs, eventMs, eventMs, 1.0,
                Map.of("join_minutes", joinMinutes, "reason", reason));
    }
}

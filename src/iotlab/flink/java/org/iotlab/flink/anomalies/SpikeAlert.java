package org.iotlab.flink.anomalies;

import java.util.Map;

/**
 * {@code SPIKE_ALERT(device_id, event_ms, quantity, value, half_life_minutes, threshold, max_span_minutes,
 * warm_up_minutes, min_std) OVER (PARTITION BY device_id ORDER BY event_time ROWS BETWEEN UNBOUNDED PRECEDING
 * AND CURRENT ROW)}: for each reading, the spike alert it raises (JSON), or NULL.
 *
 * <p>An OVER aggregate runs per device in event-time order (Flink holds each row until the watermark passes
 * it) and keeps its accumulator in keyed state: the detector's state. The rules are
 * {@code iotlab.jobs.anomalies.detectors.SpikeDetector}'s: a reading more than {@code threshold} standard
 * deviations from the baseline opens (or extends) a span and is kept out of the baseline; the first normal
 * reading after it closes the span, which is a spike when it lasted at most {@code max_span_minutes}.
 * A reading at the same moment as the previous one (a duplicate) is skipped.
 */
public class SpikeAlert extends AlertAggregate<SpikeAlert.State> {

    /** The detector's state for one device. */
    public static class State extends AlertState {
        public Baseline baseline = new Baseline();
        public boolean open; // a span of readings off the baseline is open
        public long spanStartMs;
        public long spanEndMs;
        public double worst; // the span's largest z
    }

    @Override
    public State createAccumulator() {
        return new State();
    }

    public void accumulate(State state, String deviceId, Long eventMs, String quantity, Double value,
                           Double halfLifeMinutes, Double threshold, Double maxSpanMinutes, Double warmUpMinutes,
                           Double minStd) {
        if (!nextReading(state, eventMs, value)) {
            return;
        }
        long halfLifeMs = (long) (halfLifeMinutes * Alerts.MINUTE_MS);
        if (state.baseline.learnsWhileWarmingUp(eventMs, value, halfLifeMs, warmUpMinutes)) {
            return;
        }
        double z = state.baseline.z(value, minStd);
        if (z > threshold) { // off the baseline: part of a span; the baseline does not learn from it
            if (!state.open) {
                state.open = true;
                state.spanStartMs = eventMs;
                state.worst = 0.0;
            }
            state.spanEndMs = eventMs;
            state.worst = Math.max(state.worst, z);
            return;
        }
        state.baseline.update(eventMs, value, halfLifeMs);
        if (state.open) { // back to normal: the span ends here
            state.open = false;
            if (state.spanEndMs - state.spanStartMs <= maxSpanMinutes * Alerts.MINUTE_MS) {
                state.alert = Alerts.alert(deviceId, "spike", quantity, eventMs, state.spanStartMs, state.spanEndMs, state.worst,
                        Map.of("half_life_minutes", halfLifeMinutes, "threshold", threshold,
                                "max_span_minutes", maxSpanMinutes));
            }
        }
    }
}

package org.iotlab.flink.anomalies;

import org.apache.flink.table.functions.AggregateFunction;

/**
 * What the detectors' OVER aggregates share: per device, an accumulator that remembers the last reading used
 * and holds the alert the current reading raised (JSON), which is the aggregate's value, or NULL.
 *
 * <p>Each subclass adds its detector's state to {@link AlertState} and writes {@code accumulate}, which starts
 * with {@link #nextReading}: the previous reading's alert is cleared, and a reading without a time, or not
 * after the last one used (a duplicate), is skipped.
 */
public abstract class AlertAggregate<S extends AlertAggregate.AlertState> extends AggregateFunction<String, S> {

    /** The state every detector keeps for one device. */
    public static class AlertState {
        public Long lastMs; // the last reading used
        public String alert; // what the current reading raised, if anything
    }

    @Override
    public String getValue(S state) {
        return state.alert;
    }

    /**
     * True for a reading to use: it has a time after the last one used, and every one of {@code values}.
     * Clears the previous reading's alert either way.
     */
    protected static boolean nextReading(AlertState state, Long eventMs, Object... values) {
        state.alert = null;
        if (eventMs == null || (state.lastMs != null && eventMs <= state.lastMs)) {
            return false;
        }
        for (Object value : values) {
            if (value == null) {
                return false;
            }
        }
        state.lastMs = eventMs;
        return true;
    }
}

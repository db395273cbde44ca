package org.iotlab.flink;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.types.Row;

/**
 * {@code LATEST_READING(event_ms, temperature, humidity, status)}: the group's reading with the newest event
 * time, as {@code ROW<event_ms, temperature, humidity, status>} (a later arrival wins a tie).
 *
 * <p>Why a function and not a window deduplication ({@code ROW_NUMBER() ... = 1}): the pipeline needs each
 * device's newest reading per 5-minute window, the very groups its window aggregate already builds. As one
 * more aggregate of that GROUP BY it costs a comparison per reading; a deduplication is one more operator that
 * every reading is sent to (serialized, hashed, kept in state). {@code merge} lets Flink pre-aggregate it
 * before the shuffle like COUNT or AVG (two-phase aggregation).
 */
@FunctionHint(output = @DataTypeHint(
        "ROW<event_ms BIGINT, temperature DOUBLE, humidity DOUBLE, status STRING>"))
public class LatestReading extends AggregateFunction<Row, LatestReading.State> {

    /** The newest reading seen so far in one group. */
    public static class State {
        public Long eventMs;
        public Double temperature;
        public Double humidity;
        public String status;
    }

    @Override
    public State createAccumulator() {
        return new State();
    }

    @Override
    public Row getValue(State state) {
        return state.eventMs == null ? null : Row.of(state.eventMs, state.temperature, state.humidity, state.status);
    }

    public void accumulate(State state, Long eventMs, Double temperature, Double humidity, String status) {
        if (eventMs != null && (state.eventMs == null || eventMs >= state.eventMs)) {
            state.eventMs = eventMs;
            state.temperature = temperature;
            state.humidity = humidity;
            state.status = status;
        }
    }

    public void merge(State state, Iterable<State> others) {
        for (State other : others) {
            accumulate(state, other.eventMs, other.temperature, other.humidity, other.status);
        }
    }
}

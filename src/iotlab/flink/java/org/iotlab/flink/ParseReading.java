package org.iotlab.flink;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * {@code PARSE_READING(raw BYTES, max_ahead_ms BIGINT)}: the record checked against the contract
 * ({@link ReadingContract}), as {@code ROW<device_id, temperature, humidity, event_ms, reason, status>}; reason is
 * NULL for a valid reading.
 *
 * <p>{@code max_ahead_ms}: how far ahead of the wall clock a timestamp may be ("future_timestamp" beyond). The
 * jobs pass the Python contract's {@code FUTURE_LIMIT_MS} (one day), its one definition. The wall clock is this
 * task's clock when the record is processed: the contract's one rule of processing time (see
 * {@link ReadingContract}).
 *
 * <p>Declared non-deterministic on purpose: the planner then keeps one call per record instead of copying
 * the call into every expression that reads a field of its result (it merges projections only when that
 * duplicates no non-deterministic call). It is not deterministic in fact either, through the future rule
 * alone: a record stamped 25 hours ahead is refused now and accepted two hours later.
 */
public class ParseReading extends ScalarFunction {

    public @DataTypeHint("ROW<device_id STRING, temperature DOUBLE, humidity DOUBLE, event_ms BIGINT, reason STRING, "
            + "status STRING>")
    Row eval(byte[] raw, long maxAheadMs) {
        ReadingContract.Result result = ReadingContract.checkOnce(raw);
        String reason = ReadingContract.reasonAt(result, System.currentTimeMillis(), maxAheadMs);
        return Row.of(result.deviceId, result.temperature, result.humidity, result.eventMs, reason, result.status);
    }

    @Override
    public boolean isDeterministic() {
        return false;
    }
}

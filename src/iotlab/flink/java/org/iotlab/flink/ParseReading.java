package org.iotlab.flink;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * {@code PARSE_READING(raw BYTES)}: the record checked against the contract ({@link ReadingContract}), as
 * {@code ROW<device_id, temperature, humidity, event_ms, reason, status>}; reason is NULL for a valid reading.
 *
 * <p>Declared non-deterministic on purpose: the planner then keeps one call per record instead of copying
 * the call into every expression that reads a field of its result (it merges projections only when that
 * duplicates no non-deterministic call). The function is a pure function of its input all the same.
 */
public class ParseReading extends ScalarFunction {

    public @DataTypeHint("ROW<device_id STRING, temperature DOUBLE, humidity DOUBLE, event_ms BIGINT, reason STRING, "
            + "status STRING>")
    Row eval(byte[] raw) {
        ReadingContract.Result result = ReadingContract.checkOnce(raw);
        return Row.of(result.deviceId, result.temperature, result.humidity, result.eventMs, result.reason,
                result.status);
    }

    @Override
    public boolean isDeterministic() {
        return false;
    }
}

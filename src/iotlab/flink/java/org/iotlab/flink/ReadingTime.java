package org.iotlab.flink;

import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code READING_TIME(raw BYTES)}: the record's event time in milliseconds since the epoch, or NULL when
 * its timestamp cannot be read as a real time. For the source's event-time column and watermark: any
 * record with a real timestamp moves the watermark, even one refused for another field.
 */
public class ReadingTime extends ScalarFunction {

    public Long eval(byte[] raw) {
        return ReadingContract.checkOnce(raw).eventMs;
    }
}

package org.iotlab.flink;

import java.io.IOException;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;

/**
 * The course's data contract for a raw reading (iotlab.core.contract), in Java, for the SQL job.
 *
 * <p>Why Java: in Flink SQL the same checks take a dozen JSON functions and regular expressions per record,
 * and the planner evaluates them again for every reference (there is no common-subexpression elimination
 * in Flink's code generation). Here a record is parsed once, with the Jackson that ships inside Flink.
 *
 * <p>The rules and their order are the Python validator's: not JSON, not an object; then, among several
 * faults, missing fields before wrong types before a future timestamp before impossible values, and within each
 * the field that comes first in the contract (device_id, timestamp, temperature, humidity, status). Reasons are
 * short forms of the Python validator's ("missing_field: timestamp", "impossible_value: humidity"...).
 *
 * <p>One rule reads the wall clock: a timestamp more than a limit ahead of it is refused
 * ({@link #reasonAt}, "future_timestamp: timestamp"). It is the contract's only rule of processing time, and it
 * is there for Cassandra: the latest reading is written USING TIMESTAMP of its event time, and of two writes to
 * a cell the higher timestamp wins, so a reading stamped in the future would win against every later correct
 * write until that time comes. {@link #check} leaves it out, so that its result depends on the bytes alone and
 * can be reused ({@link #checkOnce}).
 */
public final class ReadingContract {

    /** RFC 3339 as devices write it; the same pattern as iotlab.core.timestamps.TIMESTAMP_PATTERN. */
    public static final Pattern TIMESTAMP = Pattern.compile(
            "^([0-9]{4})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(?:\\.([0-9]{1,9}))?"
                    + "(Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$");

    private static final List<String> REQUIRED = List.of("device_id", "timestamp", "temperature", "humidity", "status");

    private static final JsonFactory JSON = new JsonFactory();

    private ReadingContract() {}

    /** What the contract makes of one record: the values, its event time, and why it is refused (or null). */
    public static final class Result {
        // Set while checking, read-only after: a result may be handed out twice (checkOnce).
        public String deviceId;
        public Double temperature;
        public Double humidity;
        public String status;
        /** Milliseconds since the epoch, or null when the timestamp cannot be read as a real time. */
        public Long eventMs;
        /** True when every field is there with the right type (a wrong value may still be refused). */
        public boolean wellTyped;
        /** Null for a valid reading; the future rule is not applied here (see {@link #reasonAt}). */
        public String reason;
    }

    // The last record this thread checked, and what came of it (see checkOnce).
    private static final ThreadLocal<byte[]> LAST_RAW = new ThreadLocal<>();
    private static final ThreadLocal<Result> LAST_RESULT = new ThreadLocal<>();

    /**
     * {@link #check}, but a record checked just before by the same thread is not parsed again.
     *
     * <p>Why: the SQL job calls READING_TIME (for the event-time column and the watermark) and then
     * PARSE_READING on the same record, one after the other in the same thread; parsing is most of the job's
     * work. The result is kept with a copy of the bytes, and reused only for equal bytes.
     */
    public static Result checkOnce(byte[] raw) {
        if (raw != null && Arrays.equals(raw, LAST_RAW.get())) {
            return LAST_RESULT.get();
        }
        Result result = check(raw);
        LAST_RAW.set(raw == null ? null : raw.clone());
        LAST_RESULT.set(result);
        return result;
    }

    /**
     * Why the contract refuses this record at wall-clock time {@code nowMs} (null: it does not).
     *
     * <p>The record's own reason ({@link #check}), except that a timestamp more than {@code maxAheadMs} ahead of
     * {@code nowMs} comes before impossible values: a record refused as an impossible value then always has a
     * time that is not in the future, and the out-of-range detector can take it as an event at that time.
     * Missing fields and wrong types still come first. Exactly the limit ahead is accepted.
     */
    public static String reasonAt(Result result, long nowMs, long maxAheadMs) {
        if (result.wellTyped && result.eventMs != null && result.eventMs - nowMs > maxAheadMs) {
            return "future_timestamp: timestamp";
        }
        return result.reason;
    }

    /** Parse and check one record's bytes, without the future rule. Never throws: a bad record gets a reason. */
    public static Result check(byte[] raw) {
        Result result = new Result();
        Field[] fields = new Field[REQUIRED.size()]; // in REQUIRED's order; null when missing
        boolean isObject;
        // Jackson's streaming parser: the record is read token by token, without building a tree.
        try (JsonParser parser = JSON.createParser(raw == null ? new byte[0] : raw)) {
            JsonToken token = parser.nextToken();
            if (token == null) {
                result.reason = "invalid_json"; // empty
                return result;
            }
            isObject = token == JsonToken.START_OBJECT;
            if (isObject) {
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    int index = REQUIRED.indexOf(parser.currentName());
                    JsonToken value = parser.nextToken();
                    if (index >= 0) {
                        fields[index] = Field.read(parser, value); // a repeated name: the last one counts
                    }
                    parser.skipChildren(); // a nested object or array, read to its end
                }
            } else {
                parser.skipChildren();
            }
            if (parser.nextToken() != null) {
                throw new IOException("more content after the JSON value");
            }
        } catch (IOException notJson) {
            result.reason = "invalid_json";
            return result;
        }
        if (!isObject) {
            result.reason = "wrong_type: record";
            return result;
        }
        Field timestamp = fields[1];
        if (timestamp != null && timestamp.isString()) {
            result.eventMs = epochMs(timestamp.text);
        }
        result.reason = reason(fields, result);
        return result;
    }

    /** One field as read: its kind of JSON value, and the value when it is a string or a number. */
    private static final class Field {
        JsonToken token;
        String text;
        double number;

        static Field read(JsonParser parser, JsonToken token) throws IOException {
            Field field = new Field();
            field.token = token;
            if (token == JsonToken.VALUE_STRING) {
                field.text = parser.getText();
            } else if (field.isNumber()) {
                field.number = parser.getDoubleValue();
            }
            return field;
        }

        boolean isString() {
            return token == JsonToken.VALUE_STRING;
        }

        boolean isNumber() { // true and false are not numbers in JSON Schema
            return token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT;
        }
    }

    private static String reason(Field[] fields, Result result) {
        for (int i = 0; i < REQUIRED.size(); i++) {
            if (fields[i] == null) {
                return "missing_field: " + REQUIRED.get(i);
            }
        }
        Field deviceId = fields[0], timestamp = fields[1], temperature = fields[2], humidity = fields[3],
                status = fields[4];
        // wrong types, in the contract's field order
        if (!deviceId.isString()) {
            return "wrong_type: device_id";
        }
        if (!timestamp.isString()) {
            return "wrong_type: timestamp";
        }
        if (!temperature.isNumber()) {
            return "wrong_type: temperature";
        }
        if (!humidity.isNumber()) {
            return "wrong_type: humidity";
        }
        if (!status.isString()) {
            return "wrong_type: status";
        }
        result.wellTyped = true;
        result.deviceId = deviceId.text;
        result.temperature = temperature.number;
        result.humidity = humidity.number;
        result.status = status.text;
        // impossible values, in the same order
        if (result.deviceId.isEmpty()) {
            return "impossible_value: device_id";
        }
        if (result.eventMs == null) {
            return "impossible_value: timestamp";
        }
        if (result.temperature < -60 || result.temperature > 85) {
            return "impossible_value: temperature";
        }
        if (result.humidity < 0 || result.humidity > 100) {
            return "impossible_value: humidity";
        }
        return null;
    }

    /** The first and the last millisecond Python's datetime can hold: years 0001 to 9999, in UTC. */
    private static final long FIRST_MS = LocalDateTime.of(1, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC) * 1000;
    private static final long LAST_MS = LocalDateTime.of(10000, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC) * 1000 - 1;

    /**
     * RFC 3339 text as milliseconds since the epoch (UTC; a fraction beyond the millisecond is dropped), or
     * null when it is not the pattern or not a real time (February 30, year 0000, or an offset that moves it
     * out of the years 0001 to 9999 in UTC, as the Python contract says).
     */
    public static Long epochMs(String text) {
        Matcher match = TIMESTAMP.matcher(text);
        if (!match.matches()) {
            return null;
        }
        int year = Integer.parseInt(match.group(1));
        if (year < 1) {
            return null;
        }
        LocalDateTime local;
        try {
            local = LocalDateTime.of(year, Integer.parseInt(match.group(2)), Integer.parseInt(match.group(3)),
                    Integer.parseInt(match.group(4)), Integer.parseInt(match.group(5)),
                    Integer.parseInt(match.group(6)));
        } catch (DateTimeException noSuchDate) {
            return null;
        }
        // An offset up to 23:59, as RFC 3339 allows (java.time's ZoneOffset stops at 18 hours).
        String zone = match.group(8);
        int offsetSeconds = zone.equals("Z") ? 0 : (zone.charAt(0) == '-' ? -1 : 1)
                * (Integer.parseInt(zone.substring(1, 3)) * 3600 + Integer.parseInt(zone.substring(4, 6)) * 60);
        String fraction = match.group(7) == null ? "" : match.group(7);
        int millis = Integer.parseInt((fraction + "000").substring(0, 3));
        long epochMs = (local.toEpochSecond(ZoneOffset.UTC) - offsetSeconds) * 1000 + millis;
        return epochMs < FIRST_MS || epochMs > LAST_MS ? null : epochMs;
    }
}

package org.iotlab.flink;

import java.io.IOException;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The course's data contract for a raw reading (iotlab.core.contract), in Java, for the SQL job.
 *
 * <p>Why Java: in Flink SQL the same checks take a dozen JSON functions and regular expressions per record,
 * and the planner evaluates them again for every reference (there is no common-subexpression elimination
 * in Flink's code generation). Here a record is parsed once, with the Jackson that ships inside Flink.
 *
 * <p>The rules and their order are the Python validator's: not JSON, not an object, the first missing field
 * (device_id, timestamp, temperature, humidity, status), then the fields alphabetically, type before value,
 * and last whether the timestamp is a real time. Reasons are the short forms the SQL job has always written
 * ("missing_field: timestamp", "impossible_value: humidity"...).
 */
public final class ReadingContract {

    /** RFC 3339 as devices write it; the same pattern as iotlab.core.timestamps.TIMESTAMP_PATTERN. */
    public static final Pattern TIMESTAMP = Pattern.compile(
            "^([0-9]{4})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(?:\\.([0-9]{1,9}))?"
                    + "(Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$");

    private static final String[] REQUIRED = {"device_id", "timestamp", "temperature", "humidity", "status"};

    // Trailing content after the object ("{...} x") is not JSON, as for Python's json.loads.
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ReadingContract() {}

    /** What the contract makes of one record: the values, its event time, and why it is refused (or null). */
    public static final class Result {
        public String deviceId;
        public Double temperature;
        public Double humidity;
        /** Milliseconds since the epoch, or null when the timestamp cannot be read as a real time. */
        public Long eventMs;
        /** Null for a valid reading. */
        public String reason;
    }

    /** Parse and check one record's bytes. Never throws: a bad record gets a reason. */
    public static Result check(byte[] raw) {
        Result result = new Result();
        JsonNode document;
        try {
            document = raw == null ? null : JSON.readTree(raw);
        } catch (IOException notJson) {
            document = null;
        }
        if (document == null || document.isMissingNode()) {
            result.reason = "invalid_json";
            return result;
        }
        if (!document.isObject()) {
            result.reason = "wrong_type: record";
            return result;
        }
        JsonNode timestamp = document.get("timestamp");
        if (timestamp != null && timestamp.isTextual()) {
            result.eventMs = epochMs(timestamp.textValue());
        }
        result.reason = reason(document, result);
        return result;
    }

    private static String reason(JsonNode document, Result result) {
        for (String field : REQUIRED) {
            if (!document.has(field)) {
                return "missing_field: " + field;
            }
        }
        JsonNode deviceId = document.get("device_id");
        if (!deviceId.isTextual()) {
            return "wrong_type: device_id";
        }
        result.deviceId = deviceId.textValue();
        if (result.deviceId.isEmpty()) {
            return "impossible_value: device_id";
        }
        JsonNode humidity = document.get("humidity");
        if (!humidity.isNumber()) {
            return "wrong_type: humidity";
        }
        result.humidity = humidity.doubleValue();
        if (result.humidity < 0 || result.humidity > 100) {
            return "impossible_value: humidity";
        }
        if (!document.get("status").isTextual()) {
            return "wrong_type: status";
        }
        JsonNode temperature = document.get("temperature");
        if (!temperature.isNumber()) {
            return "wrong_type: temperature";
        }
        result.temperature = temperature.doubleValue();
        if (result.temperature < -60 || result.temperature > 85) {
            return "impossible_value: temperature";
        }
        if (!document.get("timestamp").isTextual()) {
            return "wrong_type: timestamp";
        }
        return result.eventMs == null ? "impossible_value: timestamp" : null;
    }

    /**
     * RFC 3339 text as milliseconds since the epoch (UTC; a fraction beyond the millisecond is dropped), or
     * null when it is not the pattern or not a real time (February 30, year 0000).
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
        return (local.toEpochSecond(ZoneOffset.UTC) - offsetSeconds) * 1000 + millis;
    }
}

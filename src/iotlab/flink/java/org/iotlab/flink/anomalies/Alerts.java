package org.iotlab.flink.anomalies;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonGenerator;

/**
 * An alert in the data contract's shape, as JSON text: what {@code iotlab.jobs.anomalies.detectors.make_alert}
 * builds in Python (times as UTC text, milliseconds only when there are some; the score to 3 decimals).
 */
public final class Alerts {

    public static final long MINUTE_MS = 60_000L;

    private static final JsonFactory JSON = new JsonFactory();
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter MILLISECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private Alerts() {}

    public static String atText(long milliseconds) {
        Instant moment = Instant.ofEpochMilli(milliseconds);
        return (milliseconds % 1000 != 0 ? MILLISECONDS : SECONDS).format(moment);
    }

    /** Python's {@code round(score, 3)}: the exact binary value rounded half to even. */
    public static double round3(double score) {
        return new BigDecimal(score).setScale(3, RoundingMode.HALF_EVEN).doubleValue();
    }

    /** {@code details} maps parameter names to numbers, or to text (the out-of-range reason). */
    public static String alert(String deviceId, String kind, String quantity, long alertMs, long startMs, long endMs,
                               double score, Map<String, Object> details) {
        StringWriter text = new StringWriter();
        try (JsonGenerator json = JSON.createGenerator(text)) {
            json.writeStartObject();
            json.writeStringField("device_id", deviceId);
            json.writeStringField("kind", kind);
            json.writeStringField("quantity", quantity);
            json.writeStringField("alert_at", atText(alertMs));
            json.writeStringField("start", atText(startMs));
            json.writeStringField("end", atText(endMs));
            json.writeNumberField("score", round3(score));
            json.writeObjectFieldStart("details");
            for (Map.Entry<String, Object> entry : details.entrySet()) {
                if (entry.getValue() instanceof Number) {
                    json.writeNumberField(entry.getKey(), ((Number) entry.getValue()).doubleValue());
                } else {
                    json.writeStringField(entry.getKey(), String.valueOf(entry.getValue()));
                }
            }
            json.writeEndObject();
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }
}

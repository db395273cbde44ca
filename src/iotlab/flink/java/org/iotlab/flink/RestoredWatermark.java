package org.iotlab.flink;

import java.util.Collections;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Passes records and watermarks on unchanged, and keeps the last watermark in its checkpoints, so that after a
 * restore the operators after it know the watermark again before the first record arrives.
 *
 * <p>Why: a Kafka source does not checkpoint its watermark; after a restore it starts again from "no
 * watermark" and builds it up from the records it reads. Flink SQL's window operator, however, does checkpoint
 * its watermark (WindowAggOperator's "watermark" state) and drops a reading whose window already fired. A step
 * before it that decides "late or on time" with CURRENT_WATERMARK would see no watermark right after a restore,
 * call a late reading on time, and the window operator would then drop it: in neither a window nor T.late. This
 * operator sits right after the source: after a restore it sends the watermark it had at the checkpoint (never
 * behind the window operator's, which only ever receives watermarks that passed through here) ahead of the
 * first record, and after that only watermarks that move forward.
 */
public class RestoredWatermark<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {

    private static final long serialVersionUID = 1L;

    private transient ListState<Long> checkpointed;
    private transient long restored;
    private transient long emitted;

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        checkpointed = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("last-watermark", Long.class));
        restored = Long.MIN_VALUE;
        emitted = Long.MIN_VALUE;
        if (context.isRestored()) {
            // the lowest over all subtasks, as the window operator restores its own
            long lowest = Long.MAX_VALUE;
            for (Long watermark : checkpointed.get()) {
                lowest = Math.min(lowest, watermark);
            }
            restored = lowest == Long.MAX_VALUE ? Long.MIN_VALUE : lowest;
        }
    }

    @Override
    public void processElement(StreamRecord<T> element) throws Exception {
        if (restored > emitted) {
            emitted = restored;
            output.emitWatermark(new Watermark(restored));
        }
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (mark.getTimestamp() > emitted) {
            emitted = mark.getTimestamp();
            output.emitWatermark(mark);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        checkpointed.update(Collections.singletonList(Math.max(emitted, restored)));
    }
}
